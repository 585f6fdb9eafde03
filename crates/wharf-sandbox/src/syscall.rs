//! The narrow interface through which the sandbox logic reaches the kernel.
//!
//! [`LinuxSyscall`] is the real implementation (in terms of the private `sys` module); unit tests use a
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
    /// `volatile` (Linux 5.10+): never sync the upper directory, above all not the whole
    /// upper filesystem that an overlay syncs when it is unmounted. Only for an upper
    /// directory that is thrown away (see [`crate::overlay::MountRequest::volatile`]).
    pub volatile: bool,
}

/// A path inside a container's root filesystem: `path` is the container's view (absolute or
/// not), `root` the host directory it is resolved under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InRoot<'a> {
    pub root: &'a Path,
    pub path: &'a Path,
}

impl<'a> InRoot<'a> {
    pub fn new(root: &'a Path, path: &'a Path) -> Self {
        Self { root, path }
    }
}

impl std::fmt::Display for InRoot<'_> {
    /// The host path it names when no symlink is involved (for logs and the recording fake).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rel = self.path.strip_prefix("/").unwrap_or(self.path);
        if rel.as_os_str().is_empty() {
            write!(f, "{}", self.root.display())
        } else {
            write!(f, "{}", self.root.join(rel).display())
        }
    }
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

    // Container set-up, in the container's first process.

    /// mount(2) with raw `MS_*` flags.
    fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: u64,
        data: Option<&str>,
    ) -> io::Result<()>;
    /// The `MS_*` flags of the mount at `path` that a remount must keep.
    fn locked_flags(&self, path: &Path) -> io::Result<u64>;
    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> io::Result<()>;
    /// chroot(2), where `pivot_root` cannot be used (`chroot` and `rootfs` isolation).
    fn chroot(&self, path: &Path) -> io::Result<()>;
    fn chdir(&self, path: &Path) -> io::Result<()>;
    fn sethostname(&self, name: &str) -> io::Result<()>;
    /// Brings up `lo` in the current network namespace.
    fn loopback_up(&self) -> io::Result<()>;

    // Paths inside a root filesystem ([`InRoot`]): resolved by the kernel as if the root were
    // `/` (`openat2(RESOLVE_IN_ROOT)`), so that no symlink of the image, however long its
    // chain, reaches the host: more than 40 links fail with ELOOP.

    /// Creates a directory and its parents (existing ones are fine).
    fn mkdir_all(&self, path: InRoot<'_>) -> io::Result<()>;
    /// Creates an empty file (and its parent directories) to bind-mount a file onto; an
    /// existing entry is left as it is.
    fn create_file(&self, path: InRoot<'_>) -> io::Result<()>;
    fn symlink(&self, target: &Path, link: InRoot<'_>) -> io::Result<()>;
    /// mknod(2) of a character device.
    fn mknod_char(&self, path: InRoot<'_>, mode: u32, major: u64, minor: u64) -> io::Result<()>;
    /// lchown(2): a last symlink is not followed.
    fn chown(&self, path: InRoot<'_>, uid: u32, gid: u32) -> io::Result<()>;
    /// mount(2) onto `target`, through the handle the lookup returned (so a symlink swapped in
    /// afterwards cannot redirect it).
    fn mount_in(
        &self,
        source: Option<&Path>,
        target: InRoot<'_>,
        fstype: Option<&str>,
        flags: u64,
        data: Option<&str>,
    ) -> io::Result<()>;
    /// Remounts the mount at `target` with `flags` added to the flags it must keep.
    fn remount_in(&self, target: InRoot<'_>, flags: u64) -> io::Result<()>;
    /// Sets the `MS_RDONLY`/`MS_NOSUID`/`MS_NODEV`/`MS_NOEXEC` bits of `flags` on the mount at
    /// `target` and every mount below it (`mount_setattr(AT_RECURSIVE)`).
    fn set_recursive(&self, target: InRoot<'_>, flags: u64) -> io::Result<()>;
    fn setrlimit(&self, resource: u32, soft: u64, hard: u64) -> io::Result<()>;
    fn drop_bounding(&self, keep: u64) -> io::Result<()>;
    fn set_keepcaps(&self, on: bool) -> io::Result<()>;
    fn set_ids(&self, uid: u32, gid: u32, groups: &[u32]) -> io::Result<()>;
    fn capset(&self, effective: u64, permitted: u64, inheritable: u64) -> io::Result<()>;
    fn raise_ambient(&self, ambient: u64) -> io::Result<()>;
    fn set_no_new_privs(&self) -> io::Result<()>;
    fn apply_seccomp(&self, programs: &[seccompiler::BpfProgram]) -> io::Result<()>;
    /// Opens a pty in the container's devpts, sends its master over the unix socket `socket`
    /// (`SCM_RIGHTS`), and makes its slave the controlling terminal and standard streams of a
    /// new session led by the calling process.
    fn setup_console(&self, socket: std::os::fd::BorrowedFd<'_>) -> io::Result<()>;
    /// execve(2); returns only on failure.
    fn exec(&self, path: &Path, args: &[String], env: &[String]) -> io::Error;
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

    fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: u64,
        data: Option<&str>,
    ) -> io::Result<()> {
        crate::sys::mount::mount(source, target, fstype, flags, data)
    }

    fn locked_flags(&self, path: &Path) -> io::Result<u64> {
        crate::sys::mount::locked_flags(path)
    }

    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> io::Result<()> {
        crate::sys::mount::pivot_root(new_root, put_old)
    }

    fn chroot(&self, path: &Path) -> io::Result<()> {
        crate::sys::namespace::chroot(path)
    }

    fn chdir(&self, path: &Path) -> io::Result<()> {
        std::env::set_current_dir(path)
    }

    fn sethostname(&self, name: &str) -> io::Result<()> {
        crate::sys::namespace::sethostname(name)
    }

    fn loopback_up(&self) -> io::Result<()> {
        crate::sys::net::loopback_up()
    }

    fn mkdir_all(&self, p: InRoot<'_>) -> io::Result<()> {
        crate::sys::mount::mkdir_all_in_root(p.root, p.path).map(drop)
    }

    fn create_file(&self, p: InRoot<'_>) -> io::Result<()> {
        crate::sys::mount::create_file_in_root(p.root, p.path)
    }

    fn symlink(&self, target: &Path, link: InRoot<'_>) -> io::Result<()> {
        crate::sys::mount::symlink_in_root(target, link.root, link.path)
    }

    fn mknod_char(&self, p: InRoot<'_>, mode: u32, major: u64, minor: u64) -> io::Result<()> {
        crate::sys::mount::mknod_char_in_root(p.root, p.path, mode, major, minor)
    }

    fn chown(&self, p: InRoot<'_>, uid: u32, gid: u32) -> io::Result<()> {
        crate::sys::mount::chown_in_root(p.root, p.path, uid, gid)
    }

    fn mount_in(
        &self,
        source: Option<&Path>,
        target: InRoot<'_>,
        fstype: Option<&str>,
        flags: u64,
        data: Option<&str>,
    ) -> io::Result<()> {
        crate::sys::mount::mount_in_root(source, target.root, target.path, fstype, flags, data)
    }

    fn remount_in(&self, target: InRoot<'_>, flags: u64) -> io::Result<()> {
        crate::sys::mount::remount_in_root(target.root, target.path, flags)
    }

    fn set_recursive(&self, target: InRoot<'_>, flags: u64) -> io::Result<()> {
        crate::sys::mount::set_recursive_in_root(target.root, target.path, flags)
    }

    fn setrlimit(&self, resource: u32, soft: u64, hard: u64) -> io::Result<()> {
        crate::sys::process::setrlimit(resource, soft, hard)
    }

    fn drop_bounding(&self, keep: u64) -> io::Result<()> {
        crate::sys::caps::drop_bounding(keep)
    }

    fn set_keepcaps(&self, on: bool) -> io::Result<()> {
        crate::sys::caps::set_keepcaps(on)
    }

    fn set_ids(&self, uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
        crate::sys::process::set_ids(uid, gid, groups)
    }

    fn capset(&self, effective: u64, permitted: u64, inheritable: u64) -> io::Result<()> {
        crate::sys::caps::capset(effective, permitted, inheritable)
    }

    fn raise_ambient(&self, ambient: u64) -> io::Result<()> {
        crate::sys::caps::raise_ambient(ambient)
    }

    fn set_no_new_privs(&self) -> io::Result<()> {
        crate::sys::caps::set_no_new_privs()
    }

    fn apply_seccomp(&self, programs: &[seccompiler::BpfProgram]) -> io::Result<()> {
        crate::sys::seccomp::apply(programs)
    }

    fn setup_console(&self, socket: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
        use std::os::fd::AsFd as _;
        let (master, slave) = crate::sys::tty::open_pty()?;
        // The size of the caller's terminal (inherited as stdin, or stdout or stderr when
        // stdin is not one, as for `exec -t` without `-i`) before the process starts: set
        // later by the caller, the first `stty size` could still see 0 0.
        if let Some((rows, cols)) = crate::console::stdio_window_size() {
            crate::sys::tty::set_window_size(slave.as_fd(), rows, cols)?;
        }
        crate::console::send_fd(socket, master.as_fd())?;
        drop(master);
        crate::sys::tty::make_controlling(&slave)
    }

    fn exec(&self, path: &Path, args: &[String], env: &[String]) -> io::Error {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let nul = || {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "NUL byte in an argument or the environment",
            )
        };
        let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
            return nul();
        };
        let to_c = |v: &[String]| {
            v.iter()
                .map(|s| CString::new(s.as_bytes()))
                .collect::<Result<Vec<_>, _>>()
        };
        let (Ok(c_args), Ok(c_env)) = (to_c(args), to_c(env)) else {
            return nul();
        };
        crate::sys::process::exec(&c_path, &c_args, &c_env)
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A recording fake: every call is appended to a log; outcomes can be scripted.

    use super::{InRoot, OverlayMount, Syscall};
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
        /// Container set-up operations, described as text.
        Op(String),
    }

    #[derive(Default)]
    pub(crate) struct Recording {
        pub(crate) calls: RefCell<Vec<Call>>,
        /// When set, overlay mounts fail with this errno.
        pub(crate) overlay_errno: Option<i32>,
        /// When set, helpers exit with this code and this stderr.
        pub(crate) helper_fails: Option<(i32, String)>,
        /// When set, mounts of this filesystem type fail with this errno.
        pub(crate) mount_errno: Option<(&'static str, i32)>,
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
        fn mount(
            &self,
            source: Option<&Path>,
            target: &Path,
            fstype: Option<&str>,
            flags: u64,
            data: Option<&str>,
        ) -> io::Result<()> {
            if let Some((t, errno)) = self.mount_errno
                && fstype == Some(t)
            {
                return Err(io::Error::from_raw_os_error(errno));
            }
            self.op(format!(
                "mount {} {} {} {flags:#x} {}",
                source.map_or("-".into(), |s| s.display().to_string()),
                target.display(),
                fstype.unwrap_or("-"),
                data.unwrap_or("-")
            ))
        }
        fn locked_flags(&self, _path: &Path) -> io::Result<u64> {
            Ok(libc::MS_NOSUID)
        }
        fn pivot_root(&self, new_root: &Path, put_old: &Path) -> io::Result<()> {
            self.op(format!(
                "pivot_root {} {}",
                new_root.display(),
                put_old.display()
            ))
        }
        fn chroot(&self, path: &Path) -> io::Result<()> {
            self.op(format!("chroot {}", path.display()))
        }
        fn chdir(&self, path: &Path) -> io::Result<()> {
            self.op(format!("chdir {}", path.display()))
        }
        fn sethostname(&self, name: &str) -> io::Result<()> {
            self.op(format!("sethostname {name}"))
        }
        fn loopback_up(&self) -> io::Result<()> {
            self.op("lo up".into())
        }
        fn mkdir_all(&self, p: InRoot<'_>) -> io::Result<()> {
            self.op(format!("mkdir {p}"))
        }
        fn create_file(&self, p: InRoot<'_>) -> io::Result<()> {
            self.op(format!("touch {p}"))
        }
        fn symlink(&self, target: &Path, link: InRoot<'_>) -> io::Result<()> {
            self.op(format!("symlink {} {link}", target.display()))
        }
        fn mknod_char(&self, p: InRoot<'_>, mode: u32, major: u64, minor: u64) -> io::Result<()> {
            self.op(format!("mknod {p} {mode:o} {major}:{minor}"))
        }
        fn chown(&self, p: InRoot<'_>, uid: u32, gid: u32) -> io::Result<()> {
            self.op(format!("chown {p} {uid}:{gid}"))
        }
        fn mount_in(
            &self,
            source: Option<&Path>,
            target: InRoot<'_>,
            fstype: Option<&str>,
            flags: u64,
            data: Option<&str>,
        ) -> io::Result<()> {
            self.mount(source, Path::new(&target.to_string()), fstype, flags, data)
        }
        fn remount_in(&self, target: InRoot<'_>, flags: u64) -> io::Result<()> {
            let locked = self.locked_flags(Path::new(&target.to_string()))?;
            self.mount(
                None,
                Path::new(&target.to_string()),
                None,
                libc::MS_REMOUNT | libc::MS_BIND | flags | locked,
                None,
            )
        }
        fn set_recursive(&self, target: InRoot<'_>, flags: u64) -> io::Result<()> {
            self.op(format!("setattr-recursive {target} {flags:#x}"))
        }
        fn setrlimit(&self, resource: u32, soft: u64, hard: u64) -> io::Result<()> {
            self.op(format!("setrlimit {resource} {soft} {hard}"))
        }
        fn drop_bounding(&self, keep: u64) -> io::Result<()> {
            self.op(format!("bounding {keep:#x}"))
        }
        fn set_keepcaps(&self, on: bool) -> io::Result<()> {
            self.op(format!("keepcaps {on}"))
        }
        fn set_ids(&self, uid: u32, gid: u32, groups: &[u32]) -> io::Result<()> {
            self.op(format!("ids {uid}:{gid} {groups:?}"))
        }
        fn capset(&self, effective: u64, permitted: u64, inheritable: u64) -> io::Result<()> {
            self.op(format!(
                "capset {effective:#x} {permitted:#x} {inheritable:#x}"
            ))
        }
        fn raise_ambient(&self, ambient: u64) -> io::Result<()> {
            self.op(format!("ambient {ambient:#x}"))
        }
        fn set_no_new_privs(&self) -> io::Result<()> {
            self.op("no_new_privs".into())
        }
        fn apply_seccomp(&self, programs: &[seccompiler::BpfProgram]) -> io::Result<()> {
            self.op(format!("seccomp {}", programs.len()))
        }
        fn setup_console(&self, _socket: std::os::fd::BorrowedFd<'_>) -> io::Result<()> {
            self.op("console".into())
        }
        fn exec(&self, path: &Path, args: &[String], _env: &[String]) -> io::Error {
            let _ = self.op(format!("exec {} {args:?}", path.display()));
            io::Error::from_raw_os_error(libc::ENOENT)
        }
    }

    impl Recording {
        #[allow(clippy::unnecessary_wraps)] // every recorded operation succeeds
        fn op(&self, text: String) -> io::Result<()> {
            self.calls.borrow_mut().push(Call::Op(text));
            Ok(())
        }

        /// The container set-up operations recorded so far.
        pub(crate) fn ops(&self) -> Vec<String> {
            self.calls
                .borrow()
                .iter()
                .filter_map(|c| match c {
                    Call::Op(s) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        }
    }
}
