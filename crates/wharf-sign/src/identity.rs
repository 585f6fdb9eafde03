//! `signedIdentity`: which docker reference a signature must name for the image it is checked
//! against, as containers-policy.json(5) documents (and containers/image implements).

use serde::{Deserialize, Serialize};
use wharf_oci::Reference;

/// A `signedIdentity` matcher.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum SignedIdentity {
    /// The signature names exactly the image's reference (tag or digest included).
    #[serde(rename = "matchExact")]
    MatchExact,
    /// The default: for a digest reference, the same repository; for a tag, the same tag.
    #[serde(rename = "matchRepoDigestOrExact")]
    #[default]
    MatchRepoDigestOrExact,
    /// The same repository, whatever the tag.
    #[serde(rename = "matchRepository")]
    MatchRepository,
    /// The signature names exactly this reference, whatever the image's.
    #[serde(rename = "exactReference")]
    ExactReference {
        #[serde(rename = "dockerReference")]
        docker_reference: String,
    },
    /// The signature names this repository.
    #[serde(rename = "exactRepository")]
    ExactRepository {
        #[serde(rename = "dockerRepository")]
        docker_repository: String,
    },
    /// An image under `prefix` is matched as if it were under `signedPrefix` (mirrors), then as
    /// `matchRepoDigestOrExact`.
    #[serde(rename = "remapIdentity")]
    RemapIdentity {
        prefix: String,
        #[serde(rename = "signedPrefix")]
        signed_prefix: String,
    },
}

impl SignedIdentity {
    /// Checks the matcher's own fields (a policy error, not a refusal).
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::ExactReference { docker_reference } => {
                let r = parse(docker_reference)
                    .map_err(|e| format!("exactReference {docker_reference:?}: {e}"))?;
                if name_only(&r) {
                    return Err(format!(
                        "exactReference {docker_reference:?} names no tag or digest"
                    ));
                }
            }
            Self::ExactRepository { docker_repository } => {
                let r = parse(docker_repository)
                    .map_err(|e| format!("exactRepository {docker_repository:?}: {e}"))?;
                if !name_only(&r) {
                    return Err(format!(
                        "exactRepository {docker_repository:?} is not a bare repository"
                    ));
                }
            }
            Self::RemapIdentity {
                prefix,
                signed_prefix,
            } => {
                for p in [prefix, signed_prefix] {
                    if !valid_prefix(p) {
                        return Err(format!(
                            "remapIdentity prefix {p:?} is not a host[:port], host/namespace or repository"
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether a signature naming `signed` is accepted for an image known as `image` (`None`
    /// when the image's transport has no docker reference, e.g. `dir:`).
    pub fn matches(&self, image: Option<&Reference>, signed: &str) -> Result<(), String> {
        let signed = parse(signed)
            .map_err(|e| format!("the signature names an invalid reference {signed:?}: {e}"))?;
        let ok = match self {
            Self::ExactReference { docker_reference } => {
                let want = parse(docker_reference).map_err(|e| e.to_string())?;
                exact(&want, &signed)
            }
            Self::ExactRepository { docker_repository } => {
                let want = parse(docker_repository).map_err(|e| e.to_string())?;
                want.name() == signed.name()
            }
            _ => {
                let image = image.ok_or_else(|| {
                    "the image has no docker reference to compare the signature's identity with"
                        .to_owned()
                })?;
                match self {
                    Self::MatchExact => exact(image, &signed),
                    Self::MatchRepository => image.name() == signed.name(),
                    Self::RemapIdentity {
                        prefix,
                        signed_prefix,
                    } => match remap(image, prefix, signed_prefix)? {
                        Some(remapped) => repo_digest_or_exact(&remapped, &signed),
                        None => repo_digest_or_exact(image, &signed),
                    },
                    _ => repo_digest_or_exact(image, &signed),
                }
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "the signature is for {signed}, which {} does not accept for {}",
                self.describe(),
                image.map_or_else(|| "this image".to_owned(), ToString::to_string)
            ))
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Self::MatchExact => "signedIdentity matchExact",
            Self::MatchRepoDigestOrExact => "signedIdentity matchRepoDigestOrExact",
            Self::MatchRepository => "signedIdentity matchRepository",
            Self::ExactReference { .. } => "signedIdentity exactReference",
            Self::ExactRepository { .. } => "signedIdentity exactRepository",
            Self::RemapIdentity { .. } => "signedIdentity remapIdentity",
        }
    }
}

fn parse(s: &str) -> Result<Reference, wharf_oci::reference::ReferenceError> {
    Reference::parse(s)
}

fn name_only(r: &Reference) -> bool {
    r.tag.is_none() && r.digest.is_none()
}

fn exact(a: &Reference, b: &Reference) -> bool {
    !name_only(a) && !name_only(b) && a.to_string() == b.to_string()
}

fn repo_digest_or_exact(image: &Reference, signed: &Reference) -> bool {
    if image.digest.is_some() {
        image.name() == signed.name()
    } else if image.tag.is_some() {
        exact(image, signed)
    } else {
        false
    }
}

fn valid_prefix(p: &str) -> bool {
    !p.is_empty()
        && !p.contains(['@', ' '])
        && !p.ends_with('/')
        && p.split('/').all(|c| !c.is_empty())
        // A tag is not part of a prefix; a colon is only allowed as the host's port.
        && p.split('/').skip(1).all(|c| !c.contains(':'))
}

/// The image's reference with `prefix` replaced by `signed_prefix`, when it is under `prefix`.
fn remap(
    image: &Reference,
    prefix: &str,
    signed_prefix: &str,
) -> Result<Option<Reference>, String> {
    let name = image.name();
    let under = name == prefix
        || (name.len() > prefix.len()
            && name.starts_with(prefix)
            && name.as_bytes().get(prefix.len()) == Some(&b'/'));
    if !under {
        return Ok(None);
    }
    let full = image.to_string();
    let rest = full.get(prefix.len()..).unwrap_or_default();
    let remapped = format!("{signed_prefix}{rest}");
    parse(&remapped)
        .map(Some)
        .map_err(|e| format!("remapIdentity made an invalid reference {remapped:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        Reference::parse(s).expect("reference")
    }
    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn default_matches_tags_exactly_and_digests_by_repository() {
        let m = SignedIdentity::default();
        assert!(
            m.matches(Some(&r("example.com/a/b:1")), "example.com/a/b:1")
                .is_ok()
        );
        assert!(
            m.matches(Some(&r("example.com/a/b:1")), "example.com/a/b:2")
                .is_err()
        );
        let by_digest = r(&format!("example.com/a/b@{D}"));
        assert!(
            m.matches(Some(&by_digest), "example.com/a/b:anything")
                .is_ok()
        );
        assert!(
            m.matches(Some(&by_digest), "example.com/a/c:anything")
                .is_err()
        );
        assert!(
            m.matches(Some(&r("busybox:1")), "docker.io/library/busybox:1")
                .is_ok()
        );
        assert!(m.matches(None, "example.com/a/b:1").is_err());
    }

    #[test]
    fn exact_repository_reference_and_remap() {
        let m = SignedIdentity::MatchRepository;
        assert!(
            m.matches(Some(&r("example.com/a/b:1")), "example.com/a/b:2")
                .is_ok()
        );
        let m = SignedIdentity::ExactReference {
            docker_reference: "example.com/x:1".into(),
        };
        assert!(m.validate().is_ok());
        assert!(m.matches(Some(&r("mirror/y:9")), "example.com/x:1").is_ok());
        assert!(
            m.matches(Some(&r("mirror/y:9")), "example.com/x:2")
                .is_err()
        );
        let m = SignedIdentity::ExactRepository {
            docker_repository: "example.com/x".into(),
        };
        assert!(m.matches(None, "example.com/x:7").is_ok());
        let m = SignedIdentity::RemapIdentity {
            prefix: "mirror.local:5000/hub".into(),
            signed_prefix: "docker.io/library".into(),
        };
        assert!(m.validate().is_ok());
        assert!(
            m.matches(Some(&r("mirror.local:5000/hub/busybox:1")), "busybox:1")
                .is_ok()
        );
        assert!(
            m.matches(Some(&r("mirror.local:5000/hubx/busybox:1")), "busybox:1")
                .is_err()
        );
        let bad = SignedIdentity::ExactReference {
            docker_reference: "example.com/x".into(),
        };
        assert!(bad.validate().is_err());
    }
}
