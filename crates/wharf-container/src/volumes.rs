//! The mount flags of `berth run`, with podman's syntax: `-v HOST:CTR[:OPTS]` (a bind mount),
//! `-v NAME:CTR[:OPTS]` (a named volume, created on first use), `-v CTR` (an anonymous one),
//! `--mount
//! type=bind|volume|tmpfs,source=..,target=..,...`, and `--tmpfs CTR[:OPTS]`.
//!
//! Everything is parsed and checked before the container exists ([`parse`], [`parse_mount`],
//! [`parse_tmpfs`], [`check_targets`]); an image's `VOLUME` that no flag covers gets an
//! anonymous volume ([`anonymous_for_image`]); named and anonymous volumes are created and
//! filled from the image once its root filesystem is mounted ([`to_oci`]).

use std::path::{Path, PathBuf};

use crate::error::Ctx as _;
use oci_spec::runtime::{Mount, MountBuilder};
use wharf_sandbox::volume::{VolumeStore, is_valid_name};

use crate::ContainerError;

/// Where a mount's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A host path (canonical).
    Bind(PathBuf),
    /// A named volume; `copy` asks for podman's copy-up of the image's content on first use.
    Named { name: String, copy: bool },
    /// A fresh tmpfs with these mount options (`size=64m`, `mode=1777`, `nosuid`, ...).
    Tmpfs(Vec<String>),
    /// A new volume with a random name for an image's `VOLUME`, filled from the image, and
    /// removed with its container by `rm -v` and `run --rm`.
    Anonymous(String),
}

/// One `-v`, `--mount` or `--tmpfs` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub source: Source,
    /// The absolute path in the container.
    pub container: String,
    pub readonly: bool,
    /// The flag and value, for messages.
    pub flag: String,
}

fn check_target(flag: &str, target: &str) -> Result<(), ContainerError> {
    crate::error::ensure!(!target.is_empty(), "{flag}: the container path is missing");
    crate::error::ensure!(
        target.starts_with('/') && !target.split('/').any(|c| c == ".."),
        "{flag}: the container path {target:?} must be absolute, without `..`"
    );
    Ok(())
}

fn canonical_host(flag: &str, host: &str) -> Result<PathBuf, ContainerError> {
    std::fs::canonicalize(host).ctx(|| format!("{flag}: host path {host}"))
}

/// Parses `-v HOST:CONTAINER[:OPTS]` (HOST an existing absolute path) or
/// `-v NAME:CONTAINER[:OPTS]` (a volume name, podman's `[a-zA-Z0-9][a-zA-Z0-9_.-]*`).
pub fn parse(spec: &str) -> Result<Volume, ContainerError> {
    let flag = format!("invalid volume {spec:?} (-v/--volume)");
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container, opts) = match parts.as_slice() {
        [h, c] => (*h, *c, ""),
        [h, c, o] => (*h, *c, *o),
        // `-v /data`: a new anonymous volume there, as podman.
        [c] if c.starts_with('/') => {
            check_target(&flag, c)?;
            return Ok(Volume {
                source: Source::Anonymous(crate::new_id()),
                container: (*c).to_string(),
                readonly: false,
                flag,
            });
        }
        [_] => crate::error::bail!(
            "{flag}: expected HOST-DIR:CONTAINER-DIR[:OPTIONS], VOLUME-NAME:CONTAINER-DIR or \
             CONTAINER-DIR (an anonymous volume)"
        ),
        _ => crate::error::bail!("{flag}: expected HOST-DIR:CONTAINER-DIR[:OPTIONS]"),
    };
    check_target(&flag, container)?;
    let named = !host.starts_with('/');
    crate::error::ensure!(
        !named || is_valid_name(host),
        "{flag}: {host:?} is neither an absolute host path nor a volume name \
         ([a-zA-Z0-9][a-zA-Z0-9_.-]*)"
    );
    let mut readonly = false;
    let mut copy = true;
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => readonly = true,
            "rw" => readonly = false,
            "nocopy" if named => copy = false,
            "copy" if named => copy = true,
            "z" | "Z" => {} // SELinux relabelling: nothing to do without SELinux
            _ => crate::error::bail!(
                "{flag}: unknown option {o:?} (known: ro, rw{})",
                if named { ", nocopy" } else { "" }
            ),
        }
    }
    let source = if named {
        Source::Named {
            name: host.to_string(),
            copy,
        }
    } else {
        Source::Bind(canonical_host(&flag, host)?)
    };
    Ok(Volume {
        source,
        container: container.to_string(),
        readonly,
        flag,
    })
}

/// `true`/`false` of a boolean `--mount` option given bare (`ro`) or with a value.
fn bool_opt(flag: &str, key: &str, value: Option<&str>) -> Result<bool, ContainerError> {
    match value {
        None | Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(v) => crate::error::bail!("{flag}: {key}={v:?} must be true or false"),
    }
}

/// `64m`, `1g`, `65536`, `1048576b`, `50%` as the kernel's tmpfs `size=` wants it.
fn tmpfs_size(flag: &str, v: &str) -> Result<String, ContainerError> {
    let v = v.trim().to_ascii_lowercase();
    let v = v.strip_suffix('b').unwrap_or(&v);
    let digits = v.trim_end_matches(['k', 'm', 'g', '%']);
    crate::error::ensure!(
        !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && v.len() - digits.len() <= 1,
        "{flag}: invalid tmpfs size {v:?} (a number of bytes with an optional k, m, g suffix)"
    );
    Ok(v.to_string())
}

fn tmpfs_mode(flag: &str, v: &str) -> Result<String, ContainerError> {
    let mode = u32::from_str_radix(v, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| {
            ContainerError::Invalid(format!(
                "{flag}: invalid tmpfs mode {v:?} (octal, like 1777)"
            ))
        })?;
    Ok(format!("{mode:o}"))
}

/// Applies tmpfs options in order over `defaults`: a later `exec` removes an earlier `noexec`.
fn merge_tmpfs_options(
    flag: &str,
    defaults: &[&str],
    given: &[&str],
) -> Result<(Vec<String>, bool), ContainerError> {
    let mut out: Vec<String> = defaults.iter().map(|s| (*s).to_string()).collect();
    let mut readonly = false;
    for o in given.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
        let (key, value) = o.split_once('=').map_or((o, None), |(k, v)| (k, Some(v)));
        let opposite = |a: &str| match a {
            "nosuid" => "suid",
            "suid" => "nosuid",
            "nodev" => "dev",
            "dev" => "nodev",
            "noexec" => "exec",
            "exec" => "noexec",
            "noatime" => "atime",
            "atime" => "noatime",
            _ => "",
        };
        let new = match (key, value) {
            ("ro", None) => {
                readonly = true;
                continue;
            }
            ("rw", None) => {
                readonly = false;
                continue;
            }
            ("size", Some(v)) => format!("size={}", tmpfs_size(flag, v)?),
            ("mode", Some(v)) => format!("mode={}", tmpfs_mode(flag, v)?),
            ("uid" | "gid" | "nr_inodes", Some(v)) if v.bytes().all(|b| b.is_ascii_digit()) => {
                o.to_string()
            }
            (
                "nosuid" | "suid" | "nodev" | "dev" | "noexec" | "exec" | "noatime" | "atime"
                | "relatime" | "strictatime",
                None,
            ) => o.to_string(),
            // podman's tmpfs copy-up switches: our tmpfs mounts start empty either way.
            ("notmpcopyup", None) => continue,
            _ => crate::error::bail!(
                "{flag}: unknown tmpfs option {o:?} (known: ro, rw, size=, mode=, uid=, gid=, \
                 nr_inodes=, [no]exec, [no]suid, [no]dev, [no]atime)"
            ),
        };
        let key = new
            .split_once('=')
            .map_or(new.as_str(), |(k, _)| k)
            .to_string();
        out.retain(|e| {
            let k = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
            k != key && k != opposite(&key)
        });
        out.push(new);
    }
    Ok((out, readonly))
}

/// Parses `--tmpfs CONTAINER[:OPTIONS]`; podman's defaults `rw,noexec,nosuid,nodev`.
pub fn parse_tmpfs(spec: &str) -> Result<Volume, ContainerError> {
    let flag = format!("invalid --tmpfs {spec:?}");
    let (target, opts) = spec.split_once(':').unwrap_or((spec, ""));
    check_target(&flag, target)?;
    let given: Vec<&str> = opts.split(',').collect();
    let (options, readonly) = merge_tmpfs_options(&flag, &["noexec", "nosuid", "nodev"], &given)?;
    Ok(Volume {
        source: Source::Tmpfs(options),
        container: target.to_string(),
        readonly,
        flag,
    })
}

/// Parses `--mount type=bind|volume|tmpfs,source=..,target=..[,readonly][,tmpfs-size=..]
/// [,tmpfs-mode=..]` (podman's and docker's syntax, with `src`, `dst`, `destination` aliases).
pub fn parse_mount(spec: &str) -> Result<Volume, ContainerError> {
    let flag = format!("invalid --mount {spec:?}");
    let mut typ = None;
    let mut source = None;
    let mut target = None;
    let mut readonly = false;
    let mut copy = true;
    let mut tmpfs: Vec<String> = Vec::new();
    for field in spec.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let (key, value) = field
            .split_once('=')
            .map_or((field, None), |(k, v)| (k, Some(v)));
        match (key, value) {
            ("type", Some(v)) => typ = Some(v),
            ("source" | "src", Some(v)) => source = Some(v),
            ("target" | "dst" | "destination", Some(v)) => target = Some(v),
            ("readonly" | "ro", v) => readonly = bool_opt(&flag, key, v)?,
            ("rw", v) => readonly = !bool_opt(&flag, key, v)?,
            ("volume-nocopy" | "nocopy", v) => copy = !bool_opt(&flag, key, v)?,
            ("tmpfs-size", Some(v)) => tmpfs.push(format!("size={v}")),
            ("tmpfs-mode", Some(v)) => tmpfs.push(format!("mode={v}")),
            ("relabel" | "z" | "Z", _) => {} // SELinux: nothing to do without it
            _ => crate::error::bail!(
                "{flag}: unknown option {field:?} (known: type, source/src, \
                 target/dst/destination, readonly/ro, rw, volume-nocopy, tmpfs-size, tmpfs-mode)"
            ),
        }
    }
    let Some(typ) = typ else {
        crate::error::bail!("{flag}: type= is missing (bind, volume or tmpfs)");
    };
    let Some(target) = target else {
        crate::error::bail!("{flag}: target= is missing (the path in the container)");
    };
    check_target(&flag, target)?;
    crate::error::ensure!(
        typ == "tmpfs" || tmpfs.is_empty(),
        "{flag}: tmpfs-size and tmpfs-mode need type=tmpfs"
    );
    let source = match typ {
        "bind" => {
            let Some(host) = source else {
                crate::error::bail!("{flag}: type=bind needs source= (the host path)");
            };
            crate::error::ensure!(
                host.starts_with('/'),
                "{flag}: the host path {host:?} must be absolute"
            );
            Source::Bind(canonical_host(&flag, host)?)
        }
        "volume" => {
            // Without source=, a new anonymous volume (as podman).
            let Some(name) = source else {
                return Ok(Volume {
                    source: Source::Anonymous(crate::new_id()),
                    container: target.to_string(),
                    readonly,
                    flag,
                });
            };
            crate::error::ensure!(
                is_valid_name(name),
                "{flag}: invalid volume name {name:?} ([a-zA-Z0-9][a-zA-Z0-9_.-]*)"
            );
            Source::Named {
                name: name.to_string(),
                copy,
            }
        }
        "tmpfs" => {
            crate::error::ensure!(source.is_none(), "{flag}: type=tmpfs takes no source=");
            let given: Vec<&str> = tmpfs.iter().map(String::as_str).collect();
            let (options, _) = merge_tmpfs_options(&flag, &["nosuid", "nodev"], &given)?;
            Source::Tmpfs(options)
        }
        other => crate::error::bail!("{flag}: unknown type {other:?} (known: bind, volume, tmpfs)"),
    };
    Ok(Volume {
        source,
        container: target.to_string(),
        readonly,
        flag,
    })
}

/// Parses every `-v`, `--mount` and `--tmpfs` flag and checks that no two share a target.
pub fn parse_all(
    volume: &[String],
    mount: &[String],
    tmpfs: &[String],
) -> Result<Vec<Volume>, ContainerError> {
    let mut all = Vec::new();
    for v in volume {
        all.push(parse(v)?);
    }
    for m in mount {
        all.push(parse_mount(m)?);
    }
    for t in tmpfs {
        all.push(parse_tmpfs(t)?);
    }
    check_targets(&all)?;
    Ok(all)
}

/// Anonymous volumes for the image's `VOLUME` paths that no `-v`, `--mount` or `--tmpfs` of
/// `given` covers (the same container path), as podman does; each gets a random 64-hex name.
pub fn anonymous_for_image<'a>(
    image_volumes: impl IntoIterator<Item = &'a String>,
    given: &[Volume],
) -> Result<Vec<Volume>, ContainerError> {
    let norm = |p: &str| {
        let t = p.trim_end_matches('/');
        if t.is_empty() {
            "/".to_string()
        } else {
            t.to_string()
        }
    };
    let mut out: Vec<Volume> = Vec::new();
    for path in image_volumes {
        let flag = format!("the image's VOLUME {path:?}");
        check_target(&flag, path)?;
        let target = norm(path);
        if given
            .iter()
            .chain(&out)
            .any(|v| norm(&v.container) == target)
        {
            continue;
        }
        out.push(Volume {
            source: Source::Anonymous(crate::new_id()),
            container: target,
            readonly: false,
            flag,
        });
    }
    Ok(out)
}

/// The names of the anonymous volumes among `all`.
pub fn anonymous_names(all: &[Volume]) -> Vec<String> {
    all.iter()
        .filter_map(|v| match &v.source {
            Source::Anonymous(name) => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// Removes the anonymous volumes `names` of a removed container (best effort: a volume
/// already gone is fine).
pub fn remove_anonymous(store_root: &Path, names: &[String]) {
    let volumes = VolumeStore::new(store_root);
    for name in names {
        if volumes.get(name).is_ok_and(|v| v.anonymous) {
            let _ = volumes.remove(name);
        }
    }
}

/// Refuses two mounts on one container path, as podman does.
pub fn check_targets(all: &[Volume]) -> Result<(), ContainerError> {
    for (i, v) in all.iter().enumerate() {
        let norm = |p: &str| p.trim_end_matches('/').to_string();
        if let Some(other) = all[..i]
            .iter()
            .find(|o| norm(&o.container) == norm(&v.container))
        {
            crate::error::bail!(
                "{}: duplicate mount destination {:?} (also in {})",
                v.flag,
                v.container,
                other.flag
            );
        }
    }
    Ok(())
}

impl Volume {
    /// The OCI mount; named volumes must exist ([`to_oci`] creates them).
    fn mount(&self, volumes: &VolumeStore) -> Result<Mount, ContainerError> {
        let builder = MountBuilder::default().destination(&self.container);
        let mut options = Vec::new();
        let builder = match &self.source {
            Source::Bind(host) => {
                options.extend(["rbind".to_string(), "rprivate".to_string()]);
                builder.typ("bind").source(host)
            }
            Source::Named { name, .. } | Source::Anonymous(name) => {
                options.extend(["rbind", "rprivate", "nosuid", "nodev"].map(String::from));
                builder.typ("bind").source(volumes.data_dir(name))
            }
            Source::Tmpfs(opts) => {
                options.extend(opts.iter().cloned());
                builder.typ("tmpfs").source("tmpfs")
            }
        };
        if self.readonly {
            options.push("ro".into());
        }
        builder
            .options(options)
            .build()
            .ctx(|| format!("mount on {}", self.container))
    }
}

/// The OCI mounts for `all`, parents before children; named volumes are created when missing
/// and, on their first use, filled with the image's content at the mount point (`rootfs` is
/// the container's mounted root filesystem), as podman does.
pub fn to_oci(
    store_root: &Path,
    all: &[Volume],
    rootfs: &Path,
) -> Result<Vec<Mount>, ContainerError> {
    let volumes = VolumeStore::new(store_root);
    let mut sorted: Vec<&Volume> = all.iter().collect();
    sorted.sort_by_key(|v| v.container.split('/').filter(|c| !c.is_empty()).count());
    let mut out = Vec::new();
    for v in sorted {
        let copy_from_image = match &v.source {
            Source::Named { name, copy } => {
                volumes
                    .get_or_create(name, &crate::now())
                    .ctx(|| format!("volume {name}"))?;
                copy.then_some(name)
            }
            Source::Anonymous(name) => {
                volumes
                    .create_anonymous(name, &crate::now())
                    .ctx(|| format!("anonymous volume for {}", v.flag))?;
                Some(name)
            }
            Source::Bind(_) | Source::Tmpfs(_) => None,
        };
        if let Some(name) = copy_from_image {
            volumes
                .copy_up(name, rootfs, &v.container)
                .ctx(|| format!("copying {} into volume {name}", v.container))?;
        }
        out.push(v.mount(&volumes)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_specs() {
        let v = parse("/tmp:/data:ro").unwrap();
        assert_eq!(v.container, "/data");
        assert!(v.readonly);
        assert!(!parse("/tmp:/data").unwrap().readonly);
        assert_eq!(
            parse("pgdata:/var/lib/pg:nocopy").unwrap().source,
            Source::Named {
                name: "pgdata".into(),
                copy: false
            }
        );
        for bad in [
            "tmp",
            "rel/ative:/x",
            ".x:/x",
            "/tmp:rel",
            "/tmp:/x:bogus",
            "/tmp:/x:nocopy",
            "/tmp:/a/../b",
            "/a:/b:ro:x",
        ] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains("-v/--volume"), "{bad}: {err}");
        }
        assert!(parse("/nonexistent-wharf-path:/x").is_err());
    }

    #[test]
    fn mount_specs_with_aliases() {
        let m = parse_mount("type=bind,src=/tmp,dst=/data,readonly").unwrap();
        assert_eq!(
            m.source,
            Source::Bind(std::fs::canonicalize("/tmp").unwrap())
        );
        assert_eq!(m.container, "/data");
        assert!(m.readonly);
        let m = parse_mount("type=volume,source=v1,destination=/v,ro=false").unwrap();
        assert!(!m.readonly);
        assert!(matches!(m.source, Source::Named { ref name, copy: true } if name == "v1"));
        let m = parse_mount("type=tmpfs,target=/t,tmpfs-size=64M,tmpfs-mode=1777").unwrap();
        assert_eq!(
            m.source,
            Source::Tmpfs(vec![
                "nosuid".into(),
                "nodev".into(),
                "size=64m".into(),
                "mode=1777".into()
            ])
        );
        for (bad, says) in [
            ("type=nfs,target=/x", "unknown type \"nfs\""),
            ("type=bind,source=/tmp", "target= is missing"),
            ("source=/tmp,target=/x", "type= is missing"),
            ("type=tmpfs,target=rel", "must be absolute"),
            ("type=bind,target=/x", "needs source="),
            ("type=bind,source=/tmp,target=/x,bogus=1", "unknown option"),
            ("type=tmpfs,target=/x,tmpfs-size=lots", "invalid tmpfs size"),
            ("type=tmpfs,target=/x,tmpfs-mode=999", "invalid tmpfs mode"),
            (
                "type=bind,source=/tmp,target=/x,tmpfs-size=1m",
                "need type=tmpfs",
            ),
            ("type=volume,source=a/b,target=/x", "invalid volume name"),
        ] {
            let err = parse_mount(bad).unwrap_err().to_string();
            assert!(
                err.contains("--mount") && err.contains(says),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn tmpfs_flags_merge_over_defaults() {
        let t = parse_tmpfs("/run:exec,size=1g,mode=755").unwrap();
        assert_eq!(
            t.source,
            Source::Tmpfs(vec![
                "nosuid".into(),
                "nodev".into(),
                "exec".into(),
                "size=1g".into(),
                "mode=755".into()
            ])
        );
        assert!(parse_tmpfs("/ro:ro").unwrap().readonly);
        assert_eq!(
            parse_tmpfs("/t").unwrap().source,
            Source::Tmpfs(vec!["noexec".into(), "nosuid".into(), "nodev".into()])
        );
        assert!(
            parse_tmpfs("t")
                .unwrap_err()
                .to_string()
                .contains("--tmpfs")
        );
        assert!(parse_tmpfs("/t:huge").is_err());
    }

    #[test]
    fn a_lone_container_path_or_a_sourceless_volume_mount_is_anonymous() {
        let v = parse("/scratch").unwrap();
        assert!(matches!(&v.source, Source::Anonymous(n) if n.len() == 64));
        assert_eq!(v.container, "/scratch");
        let m = parse_mount("type=volume,target=/cache,ro").unwrap();
        assert!(matches!(m.source, Source::Anonymous(_)));
        assert!(m.readonly);
        // A relative lone path is neither a volume nor a target.
        assert!(parse("scratch").is_err());
        assert!(parse("/a/../b").is_err());
    }

    #[test]
    fn image_volumes_not_covered_get_anonymous_ones() {
        let given = vec![
            parse("named:/covered/").unwrap(),
            parse_tmpfs("/tmp").unwrap(),
        ];
        let image: Vec<String> = ["/data", "/covered", "/tmp", "/data/"]
            .map(String::from)
            .to_vec();
        let anon = anonymous_for_image(&image, &given).unwrap();
        assert_eq!(anon.len(), 1, "{anon:?}");
        assert_eq!(anon[0].container, "/data");
        let names = anonymous_names(&anon);
        assert_eq!(names[0].len(), 64);
        assert!(names[0].bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(anonymous_names(&given).is_empty());
        let bad = anonymous_for_image(&["rel".to_string()], &[]).unwrap_err();
        assert!(bad.to_string().contains("VOLUME"), "{bad}");
    }

    #[test]
    fn duplicate_destinations_are_refused() {
        let a = parse_tmpfs("/data").unwrap();
        let b = parse("/tmp:/data/").unwrap();
        let err = check_targets(&[a, b]).unwrap_err().to_string();
        assert!(err.contains("duplicate mount destination"), "{err}");
    }
}
