//! Image references as the containers tools and Docker parse them:
//!
//! ```text
//! reference       := name [ ":" tag ] [ "@" digest ]
//! name            := [domain "/"] path-component ["/" path-component]*
//! domain          := host [":" port]          host := domain-name | IPv4 | "[" IPv6 "]"
//! path-component  := alnum+ (separator alnum+)*   separator := "_" | "__" | "." | "-"+   (lower case)
//! tag             := [\w][\w.-]{0,127}
//! ```
//!
//! The first component is a domain when it contains `.` or `:`, or is `localhost`; otherwise the
//! reference is a *short name*. [`Reference::parse`] normalises short names the Docker way
//! (`busybox` -> `docker.io/library/busybox:latest`); [`Reference::parse_local`] puts them under
//! `localhost/`, which is how buildah and podman name images that exist only locally.

use std::fmt;

use crate::digest::{self, Digest, DigestError};

pub const DOCKER_HUB: &str = "docker.io";
pub const LOCALHOST: &str = "localhost";
pub const DEFAULT_TAG: &str = "latest";
const NAME_TOTAL_MAX: usize = 255;

/// Why a reference string was refused; each variant names the part that is wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid reference: empty")]
    Empty,
    #[error("invalid reference {input:?}: bad registry host {host:?}")]
    BadHost { input: String, host: String },
    #[error(
        "invalid reference {input:?}: bad repository path component {component:?} (allowed: lower-case letters, digits, and '.', '_', '__' or '-' between them)"
    )]
    BadComponent { input: String, component: String },
    #[error("invalid reference {input:?}: repository name must be lower-case")]
    Uppercase { input: String },
    #[error(
        "invalid reference {input:?}: bad tag {tag:?} (allowed: [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})"
    )]
    BadTag { input: String, tag: String },
    #[error("invalid reference {input:?}: bad digest")]
    BadDigest {
        input: String,
        #[source]
        source: DigestError,
    },
    #[error("invalid reference {input:?}: repository name longer than {NAME_TOTAL_MAX} characters")]
    NameTooLong { input: String },
}

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host with optional port, e.g. `docker.io`, `localhost:5000`, `[::1]:5000`.
    pub registry: String,
    /// Repository path, e.g. `library/busybox`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses `input`, normalising short names to Docker Hub (`docker.io/library/NAME`).
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        Self::parse_with_default(input, DOCKER_HUB)
    }

    /// Parses `input`, putting short names under `localhost/` (local-only images).
    pub fn parse_local(input: &str) -> Result<Self, ReferenceError> {
        Self::parse_with_default(input, LOCALHOST)
    }

    /// Whether `input` names no registry (a short name such as `busybox` or `library/busybox`).
    pub fn is_short_name(input: &str) -> bool {
        let name = input.split('@').next().unwrap_or(input);
        match name.split_once('/') {
            None => true,
            Some((first, _)) => !looks_like_host(first),
        }
    }

    fn parse_with_default(input: &str, default_registry: &str) -> Result<Self, ReferenceError> {
        if input.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let err_input = || input.to_owned();
        let (rest, digest) = match input.split_once('@') {
            Some((n, d)) => {
                let d = digest::parse(d).map_err(|source| ReferenceError::BadDigest {
                    input: err_input(),
                    source,
                })?;
                (n, Some(d))
            }
            None => (input, None),
        };
        // A tag follows the last ':' that comes after the last '/' (a ':' before it is a port).
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&rest[..at], Some(&rest[at + 1..]))
            }
            None => (rest, None),
        };
        if let Some(tag) = tag
            && !valid_tag(tag)
        {
            return Err(ReferenceError::BadTag {
                input: err_input(),
                tag: tag.to_owned(),
            });
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path)) if looks_like_host(first) => {
                if !valid_host(first) {
                    return Err(ReferenceError::BadHost {
                        input: err_input(),
                        host: first.to_owned(),
                    });
                }
                (first.to_owned(), path.to_owned())
            }
            _ => (default_registry.to_owned(), name.to_owned()),
        };
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB.to_owned()
        } else {
            registry
        };
        if path.is_empty() {
            return Err(ReferenceError::BadComponent {
                input: err_input(),
                component: String::new(),
            });
        }
        for component in path.split('/') {
            if component.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(ReferenceError::Uppercase { input: err_input() });
            }
            if !valid_component(component) {
                return Err(ReferenceError::BadComponent {
                    input: err_input(),
                    component: component.to_owned(),
                });
            }
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        if registry.len() + 1 + repository.len() > NAME_TOTAL_MAX {
            return Err(ReferenceError::NameTooLong { input: err_input() });
        }
        Ok(Self {
            registry,
            repository,
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// The tag, or `latest` when the reference has neither tag nor digest.
    pub fn tag_or_latest(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(t), _) => Some(t),
            (None, None) => Some(DEFAULT_TAG),
            (None, Some(_)) => None,
        }
    }

    /// `registry/repository` without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The reference with `latest` filled in when it has neither tag nor digest.
    pub fn with_default_tag(mut self) -> Self {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_owned());
        }
        self
    }

    /// What to ask the registry for: the digest when there is one, else the tag (or `latest`).
    pub fn tag_or_digest(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => DEFAULT_TAG.to_owned(),
        }
    }

    /// The short form Docker prints: `busybox:latest` for `docker.io/library/busybox:latest`.
    pub fn familiar(&self) -> String {
        let mut s = if self.registry == DOCKER_HUB {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_owned()
        } else {
            self.name()
        };
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d.as_ref());
        }
        s
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn looks_like_host(first: &str) -> bool {
    // Docker also takes a first component with upper-case letters as a host name.
    first.contains('.')
        || first.contains(':')
        || first == LOCALHOST
        || first.starts_with('[')
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn valid_host(host: &str) -> bool {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        // [IPv6]:port
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => ("ok", Some(port)),
                None => return false,
            },
        }
    } else {
        match host.rsplit_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn valid_component(c: &str) -> bool {
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
        // separator := "." | "_" | "__" | "-"+ , always followed by an alphanumeric
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || i >= b.len() || !b[i].is_ascii_alphanumeric() {
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
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        Reference::parse(s).unwrap().with_default_tag().to_string()
    }

    #[test]
    fn docker_hub_normalisation() {
        assert_eq!(p("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(p("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(p("user/app"), "docker.io/user/app:latest");
        assert_eq!(
            p("index.docker.io/library/busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(p("localhost/app"), "localhost/app:latest");
        assert_eq!(p("localhost:5000/a/b/c:v1"), "localhost:5000/a/b/c:v1");
        assert_eq!(p("127.0.0.1:5000/app:v1"), "127.0.0.1:5000/app:v1");
        assert_eq!(p("[::1]:5000/app"), "[::1]:5000/app:latest");
        assert_eq!(
            Reference::parse_local("app").unwrap().to_string(),
            "localhost/app"
        );
        assert_eq!(Reference::parse("busybox").unwrap().familiar(), "busybox");
    }

    #[test]
    fn tags_digests_and_ports() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("quay.io/x/y:v1@{d}")).unwrap();
        assert_eq!(r.registry, "quay.io");
        assert_eq!(r.repository, "x/y");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.digest.as_ref().unwrap().to_string(), d);
        assert_eq!(r.tag_or_digest(), d);
        let r = Reference::parse(&format!("host:5000/y@{d}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.tag_or_latest(), None);
        assert_eq!(r.registry, "host:5000");
        assert!(Reference::is_short_name("busybox:latest"));
        assert!(Reference::is_short_name("library/busybox"));
        assert!(!Reference::is_short_name("localhost/busybox"));
        assert!(!Reference::is_short_name("quay.io/busybox"));
    }

    #[test]
    fn errors_name_the_part() {
        assert_eq!(Reference::parse(""), Err(ReferenceError::Empty));
        assert!(matches!(
            Reference::parse("Busybox"),
            Err(ReferenceError::Uppercase { .. })
        ));
        assert!(matches!(
            Reference::parse("busybox:"),
            Err(ReferenceError::BadTag { .. })
        ));
        assert!(matches!(
            Reference::parse("busybox:-x"),
            Err(ReferenceError::BadTag { .. })
        ));
        assert!(matches!(
            Reference::parse("busybox@sha256:12"),
            Err(ReferenceError::BadDigest { .. })
        ));
        assert!(matches!(
            Reference::parse("a..b/c"),
            Err(ReferenceError::BadHost { .. })
        ));
        assert!(matches!(
            Reference::parse("host:port/c"),
            Err(ReferenceError::BadHost { .. })
        ));
        assert!(matches!(
            Reference::parse("x/a__-b"),
            Err(ReferenceError::BadComponent { .. })
        ));
        assert!(matches!(
            Reference::parse("x/-a"),
            Err(ReferenceError::BadComponent { .. })
        ));
        assert!(matches!(
            Reference::parse("x//a"),
            Err(ReferenceError::BadComponent { .. })
        ));
        assert!(matches!(
            Reference::parse("localhost/"),
            Err(ReferenceError::BadComponent { .. })
        ));
        let long = format!("x/{}", "a".repeat(300));
        assert!(matches!(
            Reference::parse(&long),
            Err(ReferenceError::NameTooLong { .. })
        ));
        assert!(Reference::parse(&format!("x:{}", "t".repeat(129))).is_err());
        assert!(Reference::parse("x/a_b.c--d__e/f").is_ok());
        assert!(
            matches!(
                Reference::parse("Host/app"),
                Err(ReferenceError::BadHost { .. })
            ) || Reference::parse("Host/app").is_ok()
        );
    }
}
