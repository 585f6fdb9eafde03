//! Image names as the store records them: full, normalised, podman-style, parsed by
//! `wharf_oci::reference`.
//!
//! `app` becomes `localhost/app:latest` (a short name given to the store names a local image, as
//! in buildah and podman); `docker.io/busybox` becomes `docker.io/library/busybox:latest`.
//! The result also satisfies the OCI `org.opencontainers.image.ref.name` grammar, so skopeo's and
//! umoci's `oci:` transports accept it as the tag part of `oci:DIR:NAME`.

use wharf_oci::reference::Reference;

use crate::StoreError;

/// A parsed image name, with the two full forms a short name can stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// No registry given (`app`, `team/app:1`).
    pub short: bool,
    /// The name under `localhost/` when short.
    pub local: Reference,
    /// The name under Docker Hub when short (`docker.io/library/app:latest`).
    pub hub: Reference,
}

impl Name {
    pub(crate) fn parse(input: &str) -> Result<Self, StoreError> {
        let err = |source| StoreError::InvalidName {
            name: input.to_owned(),
            source,
        };
        Ok(Self {
            short: Reference::is_short_name(input),
            local: Reference::parse_local(input)
                .map_err(err)?
                .with_default_tag(),
            hub: Reference::parse(input).map_err(err)?.with_default_tag(),
        })
    }

    /// The full names to try, in podman's order: `localhost/NAME`, then Docker Hub.
    pub(crate) fn candidates(&self) -> Vec<String> {
        if self.short {
            vec![self.local.to_string(), self.hub.to_string()]
        } else {
            vec![self.local.to_string()]
        }
    }

    /// `/REPO:TAG` (or `/REPO@DIGEST`) as typed, to match the end of any full name.
    pub(crate) fn tail(&self) -> String {
        let full = self.local.to_string();
        let suffix = &full[self.local.name().len()..];
        format!("/{}{suffix}", self.local.repository)
    }
}

/// Normalises an image name the way the store records it: short names go under `localhost/`,
/// Docker Hub names get `library/`, a missing tag becomes `latest`.
pub fn normalize_name(input: &str) -> Result<String, StoreError> {
    Ok(Name::parse(input)?.local.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_like_podman() {
        let n = |s| normalize_name(s).unwrap();
        assert_eq!(n("app"), "localhost/app:latest");
        assert_eq!(n("app:v1"), "localhost/app:v1");
        assert_eq!(n("team/app"), "localhost/team/app:latest");
        assert_eq!(n("docker.io/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(
            n("index.docker.io/busybox:1"),
            "docker.io/library/busybox:1"
        );
        assert_eq!(n("localhost:5000/a/b:t"), "localhost:5000/a/b:t");
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(n(&format!("quay.io/x@{d}")), format!("quay.io/x@{d}"));
        for bad in [
            "",
            "app:",
            "a//b",
            "a:",
            "a:-x",
            "a@sha256:12",
            "-a",
            "a..b",
        ] {
            assert!(normalize_name(bad).is_err(), "{bad:?} accepted");
        }
        let name = Name::parse("busybox:1").unwrap();
        assert_eq!(
            name.candidates(),
            ["localhost/busybox:1", "docker.io/library/busybox:1"]
        );
        assert_eq!(name.tail(), "/busybox:1");
        assert_eq!(
            Name::parse("team/tool").unwrap().tail(),
            "/team/tool:latest"
        );
    }
}
