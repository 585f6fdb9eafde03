//! The narrow interface through which the sandbox logic reaches the kernel.
//!
//! [`LinuxSyscall`] is the real implementation (in terms of [`crate::sys`]); unit tests use a
//! recording fake to check what the logic asks for, in which order, without privileges.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Output;

/// An overlay mount request: lowers are listed top-most first, as in overlayfs's `lowerdir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayMount {
    pub lowers: Vec<PathBuf>,
    pub upper: Option<PathBuf>,
    pub work: Option<PathBuf>,
    /// `userxattr`: store overlay metadata in `user.overlay.*` xattrs (needed inside a user
    /// namespace, Linux 5.11+).
    pub userxattr: bool,
}

/// Kernel operations used by the sandbox.
pub trait Syscall {
    /// Writes `data` to an existing file such as `/proc/PID/uid_map` in one `write`.
    fn write_file(&self, path: &Path, data: &[u8]) -> io::Result<()>;
    /// Runs a setuid helper (`newuidmap`, `newgidmap`) to completion.
    fn run_helper(&self, program: &str, args: &[String]) -> io::Result<Output>;
    /// Mounts an overlay filesystem at `target`.
    fn mount_overlay(&self, target: &Path, overlay: &OverlayMount) -> io::Result<()>;
    /// Unmounts `target` (lazily when `detach`).
    fn umount(&self, target: &Path, detach: bool) -> io::Result<()>;
}

/// The real kernel.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxSyscall;

impl Syscall for LinuxSyscall {
    fn write_file(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        use std::io::Write;
        // Proc map files must be written in a single write(2): no buffering, no truncation.
        let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
        f.write_all(data)
    }

    fn run_helper(&self, program: &str, args: &[String]) -> io::Result<Output> {
        std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
    }

    fn mount_overlay(&self, target: &Path, overlay: &OverlayMount) -> io::Result<()> {
        crate::sys::mount::mount_overlay(target, overlay)
    }

    fn umount(&self, target: &Path, detach: bool) -> io::Result<()> {
        crate::sys::mount::umount(target, detach)
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A recording fake: every call is appended to a log; outcomes can be scripted.

    use super::{OverlayMount, Syscall};
    use std::cell::RefCell;
    use std::io;
    use std::os::unix::process::ExitStatusExt;
    use std::path::Path;
    use std::process::{ExitStatus, Output};

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) enum Call {
        Write(String, String),
        Helper(String, Vec<String>),
        Overlay(String, OverlayMount),
        Umount(String),
    }

    #[derive(Default)]
    pub(crate) struct Recording {
        pub(crate) calls: RefCell<Vec<Call>>,
        /// When set, overlay mounts fail with this errno.
        pub(crate) overlay_errno: Option<i32>,
        /// When set, helpers exit with this code and this stderr.
        pub(crate) helper_fails: Option<(i32, String)>,
    }

    impl Syscall for Recording {
        fn write_file(&self, path: &Path, data: &[u8]) -> io::Result<()> {
            self.calls.borrow_mut().push(Call::Write(
                path.display().to_string(),
                String::from_utf8_lossy(data).into_owned(),
            ));
            Ok(())
        }
        fn run_helper(&self, program: &str, args: &[String]) -> io::Result<Output> {
            self.calls
                .borrow_mut()
                .push(Call::Helper(program.to_string(), args.to_vec()));
            let (code, stderr) = self.helper_fails.clone().unwrap_or((0, String::new()));
            Ok(Output {
                status: ExitStatus::from_raw(code << 8),
                stdout: Vec::new(),
                stderr: stderr.into_bytes(),
            })
        }
        fn mount_overlay(&self, target: &Path, overlay: &OverlayMount) -> io::Result<()> {
            self.calls
                .borrow_mut()
                .push(Call::Overlay(target.display().to_string(), overlay.clone()));
            match self.overlay_errno {
                Some(e) => Err(io::Error::from_raw_os_error(e)),
                None => Ok(()),
            }
        }
        fn umount(&self, target: &Path, _detach: bool) -> io::Result<()> {
            self.calls
                .borrow_mut()
                .push(Call::Umount(target.display().to_string()));
            Ok(())
        }
    }
}
