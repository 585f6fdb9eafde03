//! Subordinate ID ranges from `/etc/subuid` and `/etc/subgid`, and the user-namespace ID maps
//! built from them: container ID 0 is the user, IDs 1.. are the user's subordinate range.

use std::fmt;
use std::path::Path;

use crate::error::SandboxError;

/// How many IDs a full rootless map covers (0 = the user, 1..65536 = the subordinate range),
/// the same size podman and buildah use.
pub const FULL_MAP_SIZE: u32 = 65537;

/// One `start:count` range a user owns in `/etc/subuid` or `/etc/subgid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub start: u32,
    pub count: u32,
}

/// One line of `/proc/PID/uid_map`: `container host size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMapEntry {
    pub container: u32,
    pub host: u32,
    pub size: u32,
}

impl fmt::Display for IdMapEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.container, self.host, self.size)
    }
}

/// Parses the ranges that belong to the user `name` (or numeric `id`) in a subid file's text.
/// Lines of other users are skipped without a look, as shadow's tools do; a malformed line of
/// this user is an error naming the file and line.
pub fn parse_subid(
    text: &str,
    name: &str,
    id: u32,
    path: &Path,
) -> Result<Vec<IdRange>, SandboxError> {
    let id_text = id.to_string();
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split(':');
        let owner = fields.next().unwrap_or_default();
        if owner != name && owner != id_text {
            continue;
        }
        let bad = |reason: &str| SandboxError::SubIdFile {
            path: path.to_path_buf(),
            line: index + 1,
            reason: reason.to_string(),
        };
        let (Some(start), Some(count), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(bad("expected NAME:START:COUNT"));
        };
        let start: u32 = start.parse().map_err(|_| bad("START is not a number"))?;
        let count: u32 = count.parse().map_err(|_| bad("COUNT is not a number"))?;
        if count == 0 {
            continue;
        }
        if start.checked_add(count).is_none() {
            return Err(bad("START+COUNT overflows 32 bits"));
        }
        out.push(IdRange { start, count });
    }
    Ok(out)
}

/// Reads a subid file; a missing file means no ranges.
pub fn read_subid(path: &Path, name: &str, id: u32) -> Result<Vec<IdRange>, SandboxError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_subid(&text, name, id, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(SandboxError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The map for one ID kind: 0 -> `own`, then container IDs 1.. laid over `ranges` in order
/// until `FULL_MAP_SIZE` IDs are mapped (or the ranges run out).
pub fn build_map(own: u32, ranges: &[IdRange]) -> Vec<IdMapEntry> {
    let mut out = vec![IdMapEntry {
        container: 0,
        host: own,
        size: 1,
    }];
    let mut next = 1u32;
    for r in ranges {
        if next >= FULL_MAP_SIZE {
            break;
        }
        let size = r.count.min(FULL_MAP_SIZE - next);
        out.push(IdMapEntry {
            container: next,
            host: r.start,
            size,
        });
        next += size;
    }
    out
}

/// Renders entries as the text of a `uid_map` file.
pub fn map_file_text(entries: &[IdMapEntry]) -> String {
    let mut out = String::new();
    for e in entries {
        out.push_str(&e.to_string());
        out.push('\n');
    }
    out
}

/// Renders entries as `newuidmap`/`newgidmap` arguments (after the PID).
pub fn map_tool_args(entries: &[IdMapEntry]) -> Vec<String> {
    entries
        .iter()
        .flat_map(|e| {
            [
                e.container.to_string(),
                e.host.to_string(),
                e.size.to_string(),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBUID: &str =
        "# comment\nalice:100000:65536\nbob:200000:10\n1001:300000:5\nbob:400000:70000\n";

    #[test]
    fn parses_by_name_and_numeric_id() {
        let p = Path::new("/etc/subuid");
        assert_eq!(
            parse_subid(SUBUID, "alice", 1000, p).unwrap(),
            vec![IdRange {
                start: 100_000,
                count: 65536
            }]
        );
        assert_eq!(
            parse_subid(SUBUID, "carol", 1001, p).unwrap(),
            vec![IdRange {
                start: 300_000,
                count: 5
            }]
        );
        assert!(parse_subid(SUBUID, "dave", 1002, p).unwrap().is_empty());
    }

    #[test]
    fn malformed_line_of_this_user_names_file_and_line() {
        let err = parse_subid(
            "x:1:2:3\nalice:abc:5\n",
            "alice",
            1,
            Path::new("/etc/subuid"),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "/etc/subuid:2: START is not a number");
        // Someone else's garbage is not our problem.
        assert!(
            parse_subid("x:1:2:3\n", "alice", 1, Path::new("/f"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn full_map_takes_65536_ids_across_ranges() {
        let ranges = parse_subid(SUBUID, "bob", 1, Path::new("/f")).unwrap();
        let map = build_map(1000, &ranges);
        assert_eq!(
            map_file_text(&map),
            "0 1000 1\n1 200000 10\n11 400000 65526\n"
        );
        assert_eq!(map.iter().map(|e| e.size).sum::<u32>(), FULL_MAP_SIZE);
        assert_eq!(
            map_tool_args(&map[..2]),
            ["0", "1000", "1", "1", "200000", "10"]
        );
    }

    #[test]
    fn no_range_gives_single_id_map() {
        assert_eq!(map_file_text(&build_map(1234, &[])), "0 1234 1\n");
    }
}
