//! The image a policy is evaluated for: its transport, its policy scopes and what its
//! signatures are checked against.

use std::path::Path;

use wharf_oci::{Digest, Reference};
use wharf_registry::RegistryClient;

/// An image's scope identity and its enclosing namespaces, most specific first, as
/// containers/image computes them for policy lookups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    pub identity: String,
    pub namespaces: Vec<String>,
}

impl Scopes {
    /// `docker`: `HOST/REPO:TAG` (or `@DIGEST`), then `HOST/REPO`, each parent namespace, the
    /// host, and wildcard domains (`*.example.com`, `*.com`).
    pub fn docker(r: &Reference) -> Self {
        let name = r.name();
        let identity = match (&r.digest, &r.tag) {
            (Some(d), _) => format!("{name}@{d}"),
            (None, Some(t)) => format!("{name}:{t}"),
            (None, None) => format!("{name}:latest"),
        };
        let mut namespaces = Vec::new();
        let mut n = name.as_str();
        loop {
            namespaces.push(n.to_owned());
            match n.rfind('/') {
                Some(i) => n = &n[..i],
                None => break,
            }
        }
        // The host without its port, then each wildcard domain.
        let mut host = n.split(':').next().unwrap_or(n);
        while let Some(i) = host.find('.') {
            host = &host[i + 1..];
            namespaces.push(format!("*.{host}"));
        }
        Self {
            identity,
            namespaces,
        }
    }

    /// Path transports (`oci:`, `oci-archive:`, `dir:`): the path (with `:NAME` for a layout),
    /// then the path and each parent directory, `/` excluded.
    pub fn path(path: &Path, name: Option<&str>) -> Self {
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        let p = abs.to_string_lossy().trim_end_matches('/').to_owned();
        let identity = match name {
            Some(n) => format!("{p}:{n}"),
            None => p.clone(),
        };
        let mut namespaces = Vec::new();
        let mut s = p.as_str();
        while !s.is_empty() && s != "/" {
            namespaces.push(s.to_owned());
            match s.rfind('/') {
                Some(i) => s = &s[..i],
                None => break,
            }
        }
        Self {
            identity,
            namespaces,
        }
    }
}

/// What [`crate::PolicyContext::check`] needs of an image.
#[derive(Debug)]
pub struct PolicyImage<'a> {
    /// containers-transports(5) name: `docker`, `oci`, `oci-archive`, `docker-archive`, `dir`.
    pub transport: &'a str,
    pub scopes: Scopes,
    /// For messages: the reference as the user wrote it.
    pub describe: String,
    /// The docker reference signatures are matched against (`docker://` images only).
    pub docker: Option<Reference>,
    /// The digest of the top-level manifest (or index) as the source served it.
    pub digest: Digest,
    /// Where sigstore attachments are read (`docker://` images only).
    pub client: Option<&'a RegistryClient>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_scopes_as_containers_image() {
        let s = Scopes::docker(&Reference::parse("127.0.0.1:5000/a/b/c:1").expect("ref"));
        assert_eq!(s.identity, "127.0.0.1:5000/a/b/c:1");
        assert_eq!(
            s.namespaces,
            [
                "127.0.0.1:5000/a/b/c",
                "127.0.0.1:5000/a/b",
                "127.0.0.1:5000/a",
                "127.0.0.1:5000",
                "*.0.0.1",
                "*.0.1",
                "*.1"
            ]
        );
        let s = Scopes::docker(&Reference::parse("busybox").expect("ref"));
        assert_eq!(s.identity, "docker.io/library/busybox:latest");
        assert_eq!(
            s.namespaces,
            [
                "docker.io/library/busybox",
                "docker.io/library",
                "docker.io",
                "*.io"
            ]
        );
    }

    #[test]
    fn path_scopes() {
        let s = Scopes::path(Path::new("/srv/images/app"), Some("v1"));
        assert_eq!(s.identity, "/srv/images/app:v1");
        assert_eq!(s.namespaces, ["/srv/images/app", "/srv/images", "/srv"]);
    }
}
