//! The copy driver: the last resort, a full copy of every layer, base first, into the target.
//! Deletions in upper layers (overlay whiteouts: a 0/0 character device, or OCI `.wh.` names
//! if a layer kept them) remove what lower layers put there; opaque directories hide lower
//! content.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use crate::error::SandboxError;

const OPAQUE_XATTRS: [&str; 2] = ["trusted.overlay.opaque", "user.overlay.opaque"];

pub(super) fn assemble(layers: &[std::path::PathBuf], target: &Path) -> Result<(), SandboxError> {
    fs::create_dir_all(target).map_err(|source| SandboxError::Write {
        path: target.to_path_buf(),
        source,
    })?;
    for layer in layers {
        merge_dir(layer, target)?;
    }
    Ok(())
}

fn copy_err(from: &Path, to: &Path) -> impl FnOnce(io::Error) -> SandboxError {
    let (from, to) = (from.to_path_buf(), to.to_path_buf());
    move |source| SandboxError::Copy { from, to, source }
}

fn is_opaque(dir: &Path) -> bool {
    OPAQUE_XATTRS.iter().any(|name| {
        let mut buf = [0u8; 4];
        matches!(rustix::fs::lgetxattr(dir, *name, &mut buf), Ok(1) if buf[0] == b'y')
    })
}

fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Copies the contents of layer directory `src` over `dst`.
fn merge_dir(src: &Path, dst: &Path) -> Result<(), SandboxError> {
    let entries = fs::read_dir(src).map_err(|source| SandboxError::Read {
        path: src.to_path_buf(),
        source,
    })?;
    // Opaque markers in OCI form hide everything below before this layer's entries land.
    if src.join(".wh..wh..opq").exists() {
        clear_dir(dst)?;
    }
    for entry in entries {
        let entry = entry.map_err(|source| SandboxError::Read {
            path: src.to_path_buf(),
            source,
        })?;
        let name = entry.file_name();
        let from = entry.path();
        let name_bytes = name.as_encoded_bytes();
        if name_bytes == b".wh..wh..opq" {
            continue;
        }
        if let Some(hidden) = name_bytes.strip_prefix(b".wh.") {
            let hidden = dst.join(std::ffi::OsStr::from_bytes(hidden));
            remove_any(&hidden).map_err(copy_err(&from, &hidden))?;
            continue;
        }
        let to = dst.join(&name);
        let meta = fs::symlink_metadata(&from).map_err(copy_err(&from, &to))?;
        let ft = meta.file_type();
        if ft.is_char_device() && meta.rdev() == 0 {
            remove_any(&to).map_err(copy_err(&from, &to))?;
        } else if ft.is_dir() {
            let existing = fs::symlink_metadata(&to).ok();
            if existing.as_ref().is_some_and(|m| !m.is_dir()) {
                remove_any(&to).map_err(copy_err(&from, &to))?;
            }
            if existing.as_ref().is_some_and(fs::Metadata::is_dir) && is_opaque(&from) {
                clear_dir(&to)?;
            }
            if !to.is_dir() {
                fs::create_dir(&to).map_err(copy_err(&from, &to))?;
            }
            merge_dir(&from, &to)?;
            set_owner_mode(&to, &meta).map_err(copy_err(&from, &to))?;
        } else {
            remove_any(&to).map_err(copy_err(&from, &to))?;
            if ft.is_symlink() {
                let link = fs::read_link(&from).map_err(copy_err(&from, &to))?;
                std::os::unix::fs::symlink(link, &to).map_err(copy_err(&from, &to))?;
                std::os::unix::fs::lchown(&to, Some(meta.uid()), Some(meta.gid()))
                    .or_else(ignore_eperm)
                    .map_err(copy_err(&from, &to))?;
            } else if ft.is_file() {
                // fs::copy streams (copy_file_range/sendfile), never the whole file in memory.
                fs::copy(&from, &to).map_err(copy_err(&from, &to))?;
                set_owner_mode(&to, &meta).map_err(copy_err(&from, &to))?;
            } else {
                // Device nodes, FIFOs and sockets: recreate the node itself.
                let kind = rustix::fs::FileType::from_raw_mode(meta.mode());
                rustix::fs::mknodat(
                    rustix::fs::CWD,
                    &to,
                    kind,
                    rustix::fs::Mode::from_raw_mode(meta.mode() & 0o7777),
                    meta.rdev(),
                )
                .map_err(|e| copy_err(&from, &to)(e.into()))?;
            }
        }
    }
    Ok(())
}

/// Non-root without a user namespace cannot give files away; keep the copy going then.
fn ignore_eperm(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::PermissionDenied {
        Ok(())
    } else {
        Err(e)
    }
}

fn set_owner_mode(path: &Path, meta: &fs::Metadata) -> io::Result<()> {
    std::os::unix::fs::lchown(path, Some(meta.uid()), Some(meta.gid())).or_else(ignore_eperm)?;
    fs::set_permissions(path, fs::Permissions::from_mode(meta.mode() & 0o7777))
}

fn clear_dir(dir: &Path) -> Result<(), SandboxError> {
    let entries = fs::read_dir(dir).map_err(|source| SandboxError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in entries.flatten() {
        let p = e.path();
        remove_any(&p).map_err(|source| SandboxError::Write {
            path: p.clone(),
            source,
        })?;
    }
    Ok(())
}
