//! OCI mount options (`nosuid`, `ro`, `rbind`, `mode=755`, ...) to `mount(2)` flags and data.

/// A spec mount turned into what `mount(2)` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedOptions {
    /// `MS_*` flags to set (without the bind and propagation bits).
    pub flags: u64,
    /// `MS_BIND`, with `MS_REC` for `rbind`.
    pub bind: Option<u64>,
    /// `MS_RDONLY`, `MS_NOSUID`, `MS_NODEV`, `MS_NOEXEC` to set on every mount of a recursive
    /// bind (`rro`, `rnosuid`, `rnodev`, `rnoexec`, as runc spells them).
    pub recursive: u64,
    /// A propagation change to apply after mounting (`MS_PRIVATE|MS_REC`, ...).
    pub propagation: Option<u64>,
    /// Everything the kernel's filesystem parses itself (`mode=755`, `size=65536k`).
    pub data: Option<String>,
}

pub(crate) fn parse(options: &[String]) -> ParsedOptions {
    let mut flags = 0u64;
    let mut bind = None;
    let mut recursive = 0u64;
    let mut propagation = None;
    let mut data: Vec<&str> = Vec::new();
    for o in options {
        let set = match o.as_str() {
            "ro" => libc::MS_RDONLY,
            "nosuid" => libc::MS_NOSUID,
            "nodev" => libc::MS_NODEV,
            "noexec" => libc::MS_NOEXEC,
            "sync" => libc::MS_SYNCHRONOUS,
            "dirsync" => libc::MS_DIRSYNC,
            "noatime" => libc::MS_NOATIME,
            "nodiratime" => libc::MS_NODIRATIME,
            "relatime" => libc::MS_RELATIME,
            "strictatime" => libc::MS_STRICTATIME,
            "mand" => libc::MS_MANDLOCK,
            "rw" | "suid" | "dev" | "exec" | "async" | "atime" | "diratime" | "norelatime"
            | "nostrictatime" | "nomand" | "defaults" => 0,
            r @ ("rro" | "rnosuid" | "rnodev" | "rnoexec") => {
                recursive |= match r {
                    "rro" => libc::MS_RDONLY,
                    "rnosuid" => libc::MS_NOSUID,
                    "rnodev" => libc::MS_NODEV,
                    _ => libc::MS_NOEXEC,
                };
                0
            }
            "bind" => {
                bind = Some(libc::MS_BIND);
                0
            }
            "rbind" => {
                bind = Some(libc::MS_BIND | libc::MS_REC);
                0
            }
            p @ ("private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave"
            | "unbindable" | "runbindable") => {
                let base = match p.trim_start_matches('r') {
                    "private" => libc::MS_PRIVATE,
                    "shared" => libc::MS_SHARED,
                    "slave" => libc::MS_SLAVE,
                    _ => libc::MS_UNBINDABLE,
                };
                propagation = Some(if p.starts_with('r') {
                    base | libc::MS_REC
                } else {
                    base
                });
                0
            }
            other => {
                data.push(other);
                0
            }
        };
        flags |= set;
    }
    ParsedOptions {
        flags,
        bind,
        recursive,
        propagation,
        data: (!data.is_empty()).then(|| data.join(",")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn flags_data_bind_and_propagation() {
        let p = parse(&opts(&["nosuid", "strictatime", "mode=755", "size=65536k"]));
        assert_eq!(p.flags, libc::MS_NOSUID | libc::MS_STRICTATIME);
        assert_eq!(p.data.as_deref(), Some("mode=755,size=65536k"));
        assert_eq!(p.bind, None);
        let b = parse(&opts(&["rbind", "ro", "rprivate"]));
        assert_eq!(b.bind, Some(libc::MS_BIND | libc::MS_REC));
        assert_eq!(b.flags, libc::MS_RDONLY);
        assert_eq!(b.propagation, Some(libc::MS_PRIVATE | libc::MS_REC));
        assert_eq!(b.data, None);
        assert_eq!(b.recursive, 0);
        let r = parse(&opts(&["rbind", "rro", "rnosuid", "rnodev", "rnoexec"]));
        assert_eq!(
            r.recursive,
            libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC
        );
        assert_eq!((r.flags, r.data), (0, None));
    }
}
