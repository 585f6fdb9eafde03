//! `berth run --userns=keep-id`: the container runs as the invoking user's own uid and gid
//! (maps from [`wharf_sandbox::spec::keep_id`]), with an `/etc/passwd` entry made when the
//! image has none, as podman does.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use wharf_sandbox::spec::SpecOptions;
use wharf_sandbox::spec::keep_id::keep_id_map;

use crate::ContainerError;
use crate::error::{Ctx as _, bail};

/// Sets the keep-id maps and the default user on `opts`; adds the user and group to the
/// image's `/etc/passwd` and `/etc/group` under `rootfs` (the mounted overlay) when missing.
pub fn apply(rootfs: &Path, opts: &mut SpecOptions) -> Result<(), ContainerError> {
    let read = |f: &str| std::fs::read_to_string(f).ctx(|| format!("reading {f}"));
    let (uid, uid_map) = keep_id_map(&read("/proc/self/uid_map")?, "uid")?;
    let (gid, gid_map) = keep_id_map(&read("/proc/self/gid_map")?, "gid")?;
    opts.uid_map = uid_map;
    opts.gid_map = gid_map;
    if opts.user.is_none() {
        opts.user = Some(format!("{uid}:{gid}"));
    }
    let name = std::env::var("USER")
        .ok()
        .filter(|n| !n.is_empty() && !n.contains([':', '\n']))
        .unwrap_or_else(|| "user".into());
    add_entry(
        rootfs,
        "etc/passwd",
        2,
        uid,
        &format!("{name}:*:{uid}:{gid}:{name}:/:/bin/sh"),
    )?;
    add_entry(rootfs, "etc/group", 2, gid, &format!("{name}:x:{gid}:"))?;
    Ok(())
}

/// Appends `line` to `rootfs/rel` unless a line's field `field` is `id` already.
fn add_entry(
    rootfs: &Path,
    rel: &str,
    field: usize,
    id: u32,
    line: &str,
) -> Result<(), ContainerError> {
    // Never write through a symlink of the image: it could point anywhere on the host. The
    // directory resolves inside the root (a hostile `/etc -> /home/user/.ssh` stays in the
    // image, a chain of more than 40 links is refused); the file itself is never followed.
    let (dir, file) = rel.rsplit_once('/').unwrap_or(("", rel));
    let dir = wharf_sandbox::resolve_in_root(rootfs, Path::new(dir), true)
        .ctx(|| format!("--userns=keep-id: cannot add the user to /{rel}"))?;
    let path = dir.join(file);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if !m.is_file() => bail!(
            "--userns=keep-id: /{rel} in the image is not a regular file; cannot add the user"
        ),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).ctx(|| format!("reading {}", path.display())),
    }
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let wanted = id.to_string();
    if text
        .lines()
        .any(|l| l.split(':').nth(field) == Some(wanted.as_str()))
    {
        return Ok(());
    }
    std::fs::create_dir_all(&dir).ctx(|| format!("creating {}", dir.display()))?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(&path)
        .ctx(|| format!("opening {}", path.display()))?;
    let sep = if text.is_empty() || text.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    writeln!(f, "{sep}{line}").ctx(|| format!("writing {}", path.display()))?;
    Ok(())
}
