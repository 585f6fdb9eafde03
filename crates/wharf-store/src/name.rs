//! Image names as the store records them: full, normalised, podman-style.
//!
//! `app` becomes `localhost/app:latest` (a short name given to the store names a local image, as
//! in buildah and podman); `docker.io/busybox` becomes `docker.io/library/busybox:latest`.
//! The result also satisfies the OCI `org.opencontainers.image.ref.name` grammar, so skopeo's and
//! umoci's `oci:` transports accept it as the tag part of `oci:DIR:NAME`.

use crate::StoreError;

pub(crate) const DOCKER_HUB: &str = "docker.io";
pub(crate) const LOCALHOST: &str = "localhost";

/// A parsed image name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// Registry host, `None` for a short name.
    pub domain: Option<String>,
    /// Repository path, without `library/` added.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

fn bad(name: &str, reason: &'static str) -> StoreError {
    StoreError::InvalidName {
        name: name.to_owned(),
        reason,
    }
}

fn looks_like_host(s: &str) -> bool {
    s.contains('.') || s.contains(':') || s == LOCALHOST
}

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_lowercase() || b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && matches!(b[i], b'.' | b'_' | b'-') {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok || i == start {
            return false;
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'))
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.bytes()
            .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'.' | b'-' | b':'))
}

impl Name {
    pub(crate) fn parse(input: &str) -> Result<Self, StoreError> {
        if input.is_empty() {
            return Err(bad(input, "empty"));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((n, d)) => {
                wharf_oci::digest::parse(d).map_err(|_| bad(input, "bad digest after '@'"))?;
                (n, Some(d.to_owned()))
            }
            None => (input, None),
        };
        // A tag follows the last ':' after the last '/'; a ':' before that is a port.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag
            && !valid_tag(t)
        {
            return Err(bad(
                input,
                "bad tag (allowed: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})",
            ));
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, path)) if looks_like_host(first) => {
                if !valid_host(first) {
                    return Err(bad(input, "bad registry host"));
                }
                let first = if first == "index.docker.io" {
                    DOCKER_HUB
                } else {
                    first
                };
                (Some(first.to_owned()), path)
            }
            _ => (None, name),
        };
        if path.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(bad(input, "repository name must be lower-case"));
        }
        if !path.split('/').all(valid_component) {
            return Err(bad(
                input,
                "bad repository path component (allowed: lower-case letters and digits, with '.', '_', '__' or '-' between them)",
            ));
        }
        if name.len() > 255 {
            return Err(bad(input, "repository name longer than 255 characters"));
        }
        Ok(Self {
            domain,
            path: path.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// The full name with `domain` for short names, `library/` on Docker Hub, and `latest`
    /// when neither tag nor digest is given.
    pub(crate) fn full(&self, default_domain: &str) -> String {
        let domain = self.domain.as_deref().unwrap_or(default_domain);
        let mut s = if domain == DOCKER_HUB && !self.path.contains('/') {
            format!("{domain}/library/{}", self.path)
        } else {
            format!("{domain}/{}", self.path)
        };
        match (&self.tag, &self.digest) {
            (None, None) => s.push_str(":latest"),
            (tag, digest) => {
                if let Some(t) = tag {
                    s.push(':');
                    s.push_str(t);
                }
                if let Some(d) = digest {
                    s.push('@');
                    s.push_str(d);
                }
            }
        }
        s
    }

    /// The repository (`domain/path`) and the tag-or-digest suffix of a full name.
    pub(crate) fn repo_and_suffix(&self) -> (String, String) {
        let full = self.full(LOCALHOST);
        let domain = self.domain.as_deref().unwrap_or(LOCALHOST);
        let repo_len = if domain == DOCKER_HUB && !self.path.contains('/') {
            domain.len() + "/library/".len() + self.path.len()
        } else {
            domain.len() + 1 + self.path.len()
        };
        (full[..repo_len].to_owned(), full[repo_len..].to_owned())
    }
}

/// Normalises an image name the way the store records it: short names go under `localhost/`,
/// Docker Hub names get `library/`, a missing tag becomes `latest`.
pub fn normalize_name(input: &str) -> Result<String, StoreError> {
    Ok(Name::parse(input)?.full(LOCALHOST))
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
        for bad in ["", "App", "a//b", "a:", "a:-x", "a@sha256:12", "-a", "a..b"] {
            assert!(normalize_name(bad).is_err(), "{bad:?} accepted");
        }
        let (repo, suffix) = Name::parse("docker.io/busybox:1")
            .unwrap()
            .repo_and_suffix();
        assert_eq!(
            (repo.as_str(), suffix.as_str()),
            ("docker.io/library/busybox", ":1")
        );
    }
}
