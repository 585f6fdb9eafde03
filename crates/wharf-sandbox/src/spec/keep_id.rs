//! `--userns=keep-id`, as podman: the container's user is the invoking user's own ID, the
//! rest of the rootless namespace's range laid around it, so that files a container process
//! writes to a bind mount belong to the user on the host.
//!
//! Inside berth's rootless namespace, ID 0 is the user and 1..N its subordinate range. With
//! the user's host ID U, the container's IDs map to that namespace's as
//! `0..U -> 1..U+1`, `U -> 0`, `U+1..N -> U+1..N`.

use crate::error::SandboxError;
use crate::idmap::IdMapEntry;

/// The ID the namespace's 0 stands for outside, and the number of IDs the namespace has,
/// from the text of `/proc/self/uid_map` (or `gid_map`).
fn outer_id_and_size(map: &str) -> Option<(u32, u32)> {
    let mut outer = None;
    let mut size = 0u32;
    for line in map.lines() {
        let f: Vec<u32> = line
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if let [inside, out, len] = f[..] {
            if inside == 0 {
                outer = Some(out);
            }
            size = size.max(inside.saturating_add(len));
        }
    }
    outer.map(|o| (o, size))
}

/// The keep-id map for one kind of ID, given the namespace's own map text.
pub fn keep_id_map(
    own_map: &str,
    kind: &'static str,
) -> Result<(u32, Vec<IdMapEntry>), SandboxError> {
    let invalid = |reason: String| SandboxError::InvalidInput {
        what: "--userns=keep-id",
        value: own_map.trim().replace('\n', "; "),
        reason,
    };
    let (id, size) = outer_id_and_size(own_map)
        .ok_or_else(|| invalid(format!("no {kind} 0 in the rootless namespace")))?;
    if size < 2 || id >= size - 1 {
        return Err(invalid(format!(
            "the {kind} {id} does not fit in the {size} IDs of the rootless namespace; \
             hint: give the user a subordinate range of at least {} IDs in /etc/sub{kind}",
            id + 1
        )));
    }
    let mut map = Vec::new();
    if id > 0 {
        map.push(IdMapEntry {
            container: 0,
            host: 1,
            size: id,
        });
    }
    map.push(IdMapEntry {
        container: id,
        host: 0,
        size: 1,
    });
    map.push(IdMapEntry {
        container: id + 1,
        host: id + 1,
        size: size - id - 1,
    });
    Ok((id, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(container: u32, host: u32, size: u32) -> IdMapEntry {
        IdMapEntry {
            container,
            host,
            size,
        }
    }

    #[test]
    fn user_id_lands_on_namespace_root() {
        let own = "         0       1001          1\n         1     231072      65536\n";
        let (id, map) = keep_id_map(own, "uid").unwrap();
        assert_eq!(id, 1001);
        assert_eq!(map, [e(0, 1, 1001), e(1001, 0, 1), e(1002, 1002, 64535)]);
        let total: u32 = map.iter().map(|m| m.size).sum();
        assert_eq!(total, 65537);
    }

    #[test]
    fn too_small_a_range_is_refused() {
        let err = keep_id_map("0 70000 1\n1 100000 65536\n", "uid").unwrap_err();
        assert!(err.to_string().contains("does not fit"), "{err}");
        assert!(keep_id_map("0 0 4294967295\n", "uid").is_ok());
    }
}
