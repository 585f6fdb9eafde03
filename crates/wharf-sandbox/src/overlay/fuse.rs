//! The `fuse-overlayfs` driver: for kernels or setups that refuse kernel overlay in a user
//! namespace. It needs the `fuse-overlayfs` binary (Debian package of that name) and a
//! read-writable `/dev/fuse`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

use super::MountRequest;
use crate::error::SandboxError;
use crate::userns::find_in_path;

const TOOL: &str = "fuse-overlayfs";

/// `Ok` when fuse-overlayfs can work here, else what is missing.
pub(super) fn available() -> Result<(), String> {
    if find_in_path(OsStr::new(TOOL)).is_none() {
        return Err(
            "fuse-overlayfs not found; hint: install the Debian package fuse-overlayfs".into(),
        );
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .map(drop)
        .map_err(|e| format!("cannot open /dev/fuse: {e}; hint: make it mode 0666"))
}

pub(super) fn mount(req: &MountRequest) -> Result<(), SandboxError> {
    let mut options = String::from("lowerdir=");
    let check = |p: &std::path::Path| {
        if p.as_os_str()
            .as_bytes()
            .iter()
            .any(|b| matches!(b, b',' | b':' | b'\\'))
        {
            Err(SandboxError::OverlayPathChars {
                path: p.to_path_buf(),
            })
        } else {
            Ok(p.to_string_lossy().into_owned())
        }
    };
    let lowers = req
        .layers
        .iter()
        .rev()
        .map(|l| check(l))
        .collect::<Result<Vec<_>, _>>()?;
    options.push_str(&lowers.join(":"));
    options.push_str(",upperdir=");
    options.push_str(&check(&req.upper)?);
    options.push_str(",workdir=");
    options.push_str(&check(&req.work)?);
    let out = Command::new(TOOL)
        .arg("-o")
        .arg(&options)
        .arg(&req.target)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| SandboxError::ToolSpawn {
            tool: TOOL,
            package: TOOL,
            source,
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(SandboxError::Tool {
            tool: TOOL,
            target: req.target.clone(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}
