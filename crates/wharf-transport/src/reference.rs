//! Image references with a transport prefix, as containers-transports(5) writes them.

use std::fmt;
use std::path::PathBuf;

use wharf_oci::Reference;

use crate::error::{Result, TransportError};

/// Where an image is: one of the transports of containers-transports(5), plus `store:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// `docker://HOST/NAME[:TAG|@DIGEST]`
    Docker(Reference),
    /// `oci:PATH[:REF]`, an OCI image layout directory.
    Oci { path: PathBuf, name: Option<String> },
    /// `oci-archive:PATH[:REF]`, an OCI image layout in a tar file.
    OciArchive { path: PathBuf, name: Option<String> },
    /// `docker-archive:PATH[:NAME:TAG|:@INDEX]`, the `docker save` format.
    DockerArchive {
        path: PathBuf,
        tag: Option<Reference>,
        index: Option<usize>,
    },
    /// `dir:PATH`, skopeo's directory format (one file per blob).
    Dir { path: PathBuf },
    /// `store:NAME[:TAG]`, wharf's own store (its root comes from the options).
    Store { name: String },
}

impl ImageRef {
    /// Parses `TRANSPORT:DETAILS`. A bare `docker://` reference is normalised as Docker does
    /// (`busybox` means `docker.io/library/busybox:latest`).
    pub fn parse(input: &str) -> Result<Self> {
        let bad = |why: &str| TransportError::BadReference {
            input: input.to_owned(),
            why: why.to_owned(),
        };
        let (transport, rest) = input
            .split_once(':')
            .ok_or_else(|| bad("expected TRANSPORT:DETAILS (docker://, oci:, oci-archive:, docker-archive:, dir:, store:)"))?;
        match transport {
            "docker" => {
                let name = rest
                    .strip_prefix("//")
                    .ok_or_else(|| bad("docker references start with docker://"))?;
                let r = Reference::parse(name).map_err(|e| bad(&e.to_string()))?;
                Ok(Self::Docker(r.with_default_tag()))
            }
            "oci" | "oci-archive" => {
                let (path, name) = split_path(rest);
                if path.is_empty() {
                    return Err(bad("empty path"));
                }
                let path = PathBuf::from(path);
                let name = name.filter(|n| !n.is_empty()).map(str::to_owned);
                Ok(if transport == "oci" {
                    Self::Oci { path, name }
                } else {
                    Self::OciArchive { path, name }
                })
            }
            "docker-archive" => {
                let (path, name) = split_path(rest);
                if path.is_empty() {
                    return Err(bad("empty path"));
                }
                let (tag, index) = match name {
                    None | Some("") => (None, None),
                    Some(n) => {
                        if let Some(i) = n.strip_prefix('@') {
                            (
                                None,
                                Some(i.parse().map_err(|_| bad("@INDEX must be a number"))?),
                            )
                        } else {
                            {
                                let r = Reference::parse(n).map_err(|e| bad(&e.to_string()))?;
                                if r.digest.is_some() {
                                    return Err(bad(
                                        "docker-archive references cannot name a digest",
                                    ));
                                }
                                (Some(r.with_default_tag()), None)
                            }
                        }
                    }
                };
                Ok(Self::DockerArchive {
                    path: PathBuf::from(path),
                    tag,
                    index,
                })
            }
            "dir" => {
                if rest.is_empty() {
                    return Err(bad("empty path"));
                }
                Ok(Self::Dir {
                    path: PathBuf::from(rest),
                })
            }
            "store" | "containers-storage" => {
                if rest.is_empty() {
                    return Err(bad("empty image name"));
                }
                Ok(Self::Store {
                    name: rest.to_owned(),
                })
            }
            other => Err(bad(&format!("unknown transport {other:?}"))),
        }
    }

    /// The transport name, as in the reference's prefix.
    pub fn transport(&self) -> &'static str {
        match self {
            Self::Docker(_) => "docker",
            Self::Oci { .. } => "oci",
            Self::OciArchive { .. } => "oci-archive",
            Self::DockerArchive { .. } => "docker-archive",
            Self::Dir { .. } => "dir",
            Self::Store { .. } => "store",
        }
    }
}

/// Splits `PATH[:REF]` at the first colon, as containers/image does on Unix.
fn split_path(rest: &str) -> (&str, Option<&str>) {
    match rest.split_once(':') {
        Some((p, r)) => (p, Some(r)),
        None => (rest, None),
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Docker(r) => write!(f, "docker://{r}"),
            Self::Oci { path, name } | Self::OciArchive { path, name } => {
                write!(f, "{}:{}", self.transport(), path.display())?;
                if let Some(n) = name {
                    write!(f, ":{n}")?;
                }
                Ok(())
            }
            Self::DockerArchive { path, tag, index } => {
                write!(f, "docker-archive:{}", path.display())?;
                if let Some(t) = tag {
                    write!(f, ":{}", t.familiar())?;
                }
                if let Some(i) = index {
                    write!(f, ":@{i}")?;
                }
                Ok(())
            }
            Self::Dir { path } => write!(f, "dir:{}", path.display()),
            Self::Store { name } => write!(f, "store:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_transport() {
        let r = ImageRef::parse("docker://busybox").unwrap();
        assert_eq!(r.to_string(), "docker://docker.io/library/busybox:latest");
        let r = ImageRef::parse("oci:/tmp/x:v1").unwrap();
        assert_eq!(
            r,
            ImageRef::Oci {
                path: "/tmp/x".into(),
                name: Some("v1".into())
            }
        );
        let r = ImageRef::parse("docker-archive:/tmp/a.tar:busybox:1").unwrap();
        assert_eq!(r.to_string(), "docker-archive:/tmp/a.tar:busybox:1");
        let r = ImageRef::parse("docker-archive:/tmp/a.tar:@2").unwrap();
        assert!(matches!(r, ImageRef::DockerArchive { index: Some(2), .. }));
        assert!(ImageRef::parse("dir:").is_err());
        assert!(ImageRef::parse("ftp://x").is_err());
        assert!(ImageRef::parse("busybox").is_err());
        assert_eq!(
            ImageRef::parse("store:app:1").unwrap(),
            ImageRef::Store {
                name: "app:1".into()
            }
        );
    }
}
