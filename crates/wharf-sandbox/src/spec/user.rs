//! Resolving the image's `USER` (`name`, `uid`, `name:group`, `uid:gid`) against the image's own
//! `/etc/passwd` and `/etc/group`, read inside the root filesystem (symlinks cannot escape it).

use std::io::Read;
use std::path::Path;

use crate::error::SandboxError;

/// The process identity a container starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    /// From `/etc/passwd`; `/` when the user has no entry (as Docker).
    pub home: String,
    pub name: Option<String>,
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 7).then_some(())?;
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_string(),
            })
        })
        .collect()
}

fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 4).then_some(())?;
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].parse().ok()?,
                members: f[3]
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(String::from)
                    .collect(),
            })
        })
        .collect()
}

/// Reads `rel` (like `etc/passwd`) inside `rootfs`, resolving symlinks as if `rootfs` were `/`.
/// A missing file reads as empty.
fn read_in_root(rootfs: &Path, rel: &str) -> Result<String, SandboxError> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    let path = rootfs.join(rel);
    let err = |source: std::io::Error| SandboxError::Read {
        path: path.clone(),
        source,
    };
    let root = rustix::fs::open(
        rootfs,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| err(e.into()))?;
    let fd = match rustix::fs::openat2(
        &root,
        rel,
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(String::new()),
        Err(e) => return Err(err(e.into())),
    };
    let mut text = String::new();
    // Account databases are small; cap the read so a hostile image cannot exhaust memory.
    std::fs::File::from(fd)
        .take(16 << 20)
        .read_to_string(&mut text)
        .map_err(err)?;
    Ok(text)
}

/// Resolves `spec` (empty = root) against the image's account files under `rootfs`.
pub fn resolve_user(rootfs: &Path, spec: &str) -> Result<ResolvedUser, SandboxError> {
    let passwd = parse_passwd(&read_in_root(rootfs, "etc/passwd")?);
    let groups = parse_group(&read_in_root(rootfs, "etc/group")?);
    resolve_in(&passwd, &groups, spec)
}

fn resolve_in(
    passwd: &[PasswdEntry],
    groups: &[GroupEntry],
    spec: &str,
) -> Result<ResolvedUser, SandboxError> {
    let spec = if spec.is_empty() { "0" } else { spec };
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let entry = match user.parse::<u32>() {
        Ok(uid) => passwd.iter().find(|p| p.uid == uid),
        Err(_) => Some(passwd.iter().find(|p| p.name == user).ok_or_else(|| {
            SandboxError::UnknownUser {
                user: user.to_string(),
            }
        })?),
    };
    let uid = user
        .parse::<u32>()
        .ok()
        .or(entry.map(|e| e.uid))
        .unwrap_or(0);
    let gid = match group {
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => {
                groups
                    .iter()
                    .find(|e| e.name == g)
                    .ok_or_else(|| SandboxError::UnknownGroup {
                        group: g.to_string(),
                    })?
                    .gid
            }
        },
        None => entry.map_or(0, |e| e.gid),
    };
    // The primary group is always a supplementary group too (Docker, containerd, BuildKit
    // and podman since CVE-2023-25173 / CVE-2022-2989: a process must not be able to shed
    // it with setgroups-less tricks, and `id` shows it); membership lists add more, only
    // when no group was forced.
    let mut additional_gids = vec![gid];
    if let (None, Some(e)) = (group, entry) {
        for g in groups.iter().filter(|g| g.members.contains(&e.name)) {
            if g.gid != gid && !additional_gids.contains(&g.gid) {
                additional_gids.push(g.gid);
            }
        }
    }
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
        home: entry.map_or_else(|| "/".to_string(), |e| e.home.clone()),
        name: entry.map(|e| e.name.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\nbad line\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:\nadm:x:4:www,root\nstaff:x:50:www\n";

    fn resolve(spec: &str) -> Result<ResolvedUser, SandboxError> {
        resolve_in(&parse_passwd(PASSWD), &parse_group(GROUP), spec)
    }

    #[test]
    fn names_and_numbers() {
        let www = resolve("www").unwrap();
        assert_eq!(
            (www.uid, www.gid, www.additional_gids.clone()),
            (33, 33, vec![33, 4, 50])
        );
        assert_eq!(www.home, "/var/www");
        assert_eq!(resolve("").unwrap().uid, 0);
        assert_eq!(resolve("33").unwrap().gid, 33);
        let forced = resolve("www:staff").unwrap();
        assert_eq!((forced.gid, forced.additional_gids.clone()), (50, vec![50]));
        let unknown_uid = resolve("1234:5").unwrap();
        assert_eq!(
            (unknown_uid.uid, unknown_uid.gid, unknown_uid.home.as_str()),
            (1234, 5, "/")
        );
    }

    #[test]
    fn unknown_names_are_errors() {
        assert_eq!(
            resolve("nobody").unwrap_err().to_string(),
            "user \"nobody\" not found in the image's /etc/passwd"
        );
        assert!(matches!(
            resolve("www:nogroup"),
            Err(SandboxError::UnknownGroup { .. })
        ));
    }

    #[test]
    fn symlinked_passwd_cannot_escape_the_rootfs() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc")).unwrap();
        // An absolute link resolves inside the root: /etc/passwd -> /x/passwd of the rootfs.
        std::fs::create_dir_all(root.path().join("x")).unwrap();
        std::fs::write(root.path().join("x/passwd"), "app:x:7:8::/app:/bin/sh\n").unwrap();
        std::os::unix::fs::symlink("/x/passwd", root.path().join("etc/passwd")).unwrap();
        assert_eq!(resolve_user(root.path(), "app").unwrap().uid, 7);
        std::fs::remove_file(root.path().join("etc/passwd")).unwrap();
        std::os::unix::fs::symlink(
            "../../../../../../../etc/passwd",
            root.path().join("etc/passwd"),
        )
        .unwrap();
        // Climbing out lands on the rootfs's own /etc/passwd (a loop here), never the host's,
        // which has a root entry.
        assert!(resolve_user(root.path(), "root").is_err());
    }
}
