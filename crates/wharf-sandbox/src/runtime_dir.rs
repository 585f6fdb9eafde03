//! The caller's runtime directory: where the sockets of running containers live (the console
//! socket handed to an external runtime, slirp4netns's API socket), private to the user as
//! podman's `$XDG_RUNTIME_DIR/libpod` and `/run/libpod` are.
//!
//! These sockets used to sit in `/tmp` with the umask's permissions: at umask 000 another user
//! connected to a console socket first and was handed the container's session. Now they are
//! created in a directory that only the caller can enter, chosen in this order:
//!
//! 1. `$XDG_RUNTIME_DIR/wharf`, when `XDG_RUNTIME_DIR` names a directory the caller owns;
//! 2. `/run/wharf` for real root (not root of a user namespace);
//! 3. `/tmp/wharf-run-UID` otherwise (podman's `/tmp/podman-run-UID`), UID being the caller's
//!    ID on the host, so the process before and after the user-namespace re-exec agree.
//!
//! The directory is created with mode 0700 whatever the umask. An existing one is used only
//! when it is a directory (not a symlink) that the caller owns and nobody else can open: a
//! directory planted by another user is refused with its owner named, never used.
//!
//! ```no_run
//! # fn main() -> Result<(), wharf_sandbox::runtime_dir::RuntimeDirError> {
//! let dir = wharf_sandbox::runtime_dir::ensure()?;
//! let socket = dir.join("console-0123456789abcdef.sock");
//! # let _ = socket;
//! # Ok(()) }
//! ```

use std::io;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// Errors of [`ensure`].
#[derive(Debug, thiserror::Error)]
pub enum RuntimeDirError {
    #[error("cannot create the runtime directory {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "refusing the runtime directory {path}: {problem}; hint: remove it, or set \
         XDG_RUNTIME_DIR to a directory of your own"
    )]
    Unsafe { path: PathBuf, problem: String },
}

/// The caller's effective user ID, as seen in its own user namespace.
fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// The caller's user ID on the host: its effective ID mapped out of the user namespace it
/// runs in (the identity map outside one).
fn host_uid() -> u32 {
    let euid = euid();
    let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    map.lines()
        .find_map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            match f.as_slice() {
                [inside, outside, count]
                    if u64::from(euid) >= *inside && u64::from(euid) < inside + count =>
                {
                    u32::try_from(outside + (u64::from(euid) - inside)).ok()
                }
                _ => None,
            }
        })
        .unwrap_or(euid)
}

/// The runtime directory for this caller (not created; see [`ensure`]).
pub fn path() -> PathBuf {
    let xdg = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .filter(|d| std::fs::metadata(d).is_ok_and(|m| m.is_dir() && m.uid() == euid()));
    if let Some(dir) = xdg {
        return dir.join("wharf");
    }
    if euid() == 0 && !crate::overlay::in_child_userns() {
        return PathBuf::from("/run/wharf");
    }
    std::env::temp_dir().join(format!("wharf-run-{}", host_uid()))
}

/// Creates the runtime directory (mode 0700, whatever the umask) or checks the existing one,
/// and returns it.
pub fn ensure() -> Result<PathBuf, RuntimeDirError> {
    let path = path();
    match std::fs::DirBuilder::new().mode(0o700).create(&path) {
        // The umask may have taken bits away from 0700 (never added any): make it usable.
        Ok(()) => std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).map_err(
            |source| RuntimeDirError::Create {
                path: path.clone(),
                source,
            },
        )?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(source) => return Err(RuntimeDirError::Create { path, source }),
    }
    verify(&path, euid())?;
    Ok(path)
}

/// Checks that `path` is a directory (not a symlink to one) owned by `uid` that nobody else
/// may enter.
fn verify(path: &Path, uid: u32) -> Result<(), RuntimeDirError> {
    let unsafe_dir = |problem: String| RuntimeDirError::Unsafe {
        path: path.to_path_buf(),
        problem,
    };
    let meta = std::fs::symlink_metadata(path).map_err(|source| RuntimeDirError::Create {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(unsafe_dir(if meta.file_type().is_symlink() {
            "it is a symbolic link".to_owned()
        } else {
            "it is not a directory".to_owned()
        }));
    }
    if meta.uid() != uid {
        // In the rootless user namespace the caller is uid 0 and other users all show as
        // the overflow uid: name the caller by its host uid.
        let you = if uid == euid() { host_uid() } else { uid };
        return Err(unsafe_dir(format!(
            "it belongs to another user (uid {} as seen here), not to you (uid {you})",
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(unsafe_dir(format!(
            "other users may open it (mode {mode:04o}, expected 0700)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_private_directory_of_ours_is_accepted() {
        let t = tempfile::tempdir().unwrap();
        let me = euid();
        let dir = t.path().join("d");
        std::fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
        verify(&dir, me).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = verify(&dir, me).unwrap_err().to_string();
        assert!(err.contains("mode 0755"), "{err}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let err = verify(&dir, me.wrapping_add(1)).unwrap_err().to_string();
        assert!(err.contains("belongs to another user"), "{err}");
        assert!(err.contains(&dir.display().to_string()), "{err}");
        let link = t.path().join("l");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let err = verify(&link, me).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
    }
}
