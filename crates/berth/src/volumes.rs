//! `-v HOST:CONTAINER[:OPTIONS]` bind mounts.

use std::path::PathBuf;

use anyhow::Context as _;
use oci_spec::runtime::{Mount, MountBuilder};

/// One parsed `-v` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub host: PathBuf,
    pub container: String,
    pub readonly: bool,
}

/// Parses `HOST:CONTAINER[:ro|rw]`; the host side must be an existing absolute path (named
/// volumes are not supported yet).
pub fn parse(spec: &str) -> anyhow::Result<Volume> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container, opts) = match parts.as_slice() {
        [h, c] => (*h, *c, ""),
        [h, c, o] => (*h, *c, *o),
        _ => anyhow::bail!("invalid volume {spec:?}: expected HOST:CONTAINER[:ro|rw]"),
    };
    anyhow::ensure!(
        host.starts_with('/'),
        "invalid volume {spec:?}: the host path {host:?} must be absolute (named volumes are not \
         supported yet)"
    );
    anyhow::ensure!(
        container.starts_with('/') && !container.split('/').any(|c| c == ".."),
        "invalid volume {spec:?}: the container path {container:?} must be absolute, without `..`"
    );
    let mut readonly = false;
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => readonly = true,
            "rw" => readonly = false,
            "z" | "Z" => {}
            _ => anyhow::bail!("invalid volume {spec:?}: unknown option {o:?} (known: ro, rw)"),
        }
    }
    let host = std::fs::canonicalize(host)
        .with_context(|| format!("invalid volume {spec:?}: host path {host}"))?;
    Ok(Volume {
        host,
        container: container.to_string(),
        readonly,
    })
}

impl Volume {
    /// The OCI mount: a recursive, private bind.
    pub fn mount(&self) -> anyhow::Result<Mount> {
        let mut options = vec!["rbind".to_string(), "rprivate".to_string()];
        if self.readonly {
            options.push("ro".into());
        }
        MountBuilder::default()
            .destination(&self.container)
            .typ("bind")
            .source(&self.host)
            .options(options)
            .build()
            .with_context(|| format!("volume {}", self.container))
    }
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
        for bad in [
            "/tmp",
            "data:/x",
            "/tmp:rel",
            "/tmp:/x:bogus",
            "/tmp:/a/../b",
            "/a:/b:ro:x",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("/nonexistent-wharf-path:/x").is_err());
    }
}
