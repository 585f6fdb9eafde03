//! Manifests and indexes by tag or digest. Bytes are returned exactly as the registry sent them
//! (a manifest's digest is the digest of its bytes, so it is never re-serialised), with the
//! media type and the digest, verified when the reference is a digest.

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use wharf_oci::media_type::ACCEPTED_MANIFESTS;
use wharf_oci::{Digest, Hasher};

use crate::auth::Scope;
use crate::client::{Missing, RegistryClient, Req, ReqBody, check_repository};
use crate::error::{RegistryError, Result};

/// Manifests larger than this are refused (containers/image uses the same 4 MiB bound), so a
/// hostile registry cannot make us buffer without limit. The one cap of `wharf_oci::limits`.
pub const MAX_MANIFEST_SIZE: u64 = wharf_oci::limits::MAX_MANIFEST_SIZE;

/// A manifest or index as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub bytes: Bytes,
    pub media_type: String,
    pub digest: Digest,
}

/// What `HEAD` says about a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    /// `Docker-Content-Digest`, when the registry sends it.
    pub digest: Option<Digest>,
    pub media_type: Option<String>,
    pub size: Option<u64>,
}

/// Checks a tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`) or digest reference, and returns the
/// digest when it is one.
pub fn check_reference(reference: &str) -> Result<Option<Digest>> {
    if reference.contains(':') {
        return wharf_oci::digest::parse(reference)
            .map(Some)
            .map_err(|_| RegistryError::BadName {
                kind: "digest",
                name: reference.to_owned(),
                why: "expected ALGORITHM:HEX",
            });
    }
    let ok = !reference.is_empty()
        && reference.len() <= 128
        && !reference.starts_with(['.', '-'])
        && reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(None)
    } else {
        Err(RegistryError::BadName {
            kind: "tag",
            name: reference.to_owned(),
            why: "expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
        })
    }
}

fn accept() -> String {
    ACCEPTED_MANIFESTS.join(", ")
}

/// The media type of manifest bytes: the JSON `mediaType` field when present, else the
/// `Content-Type` the registry sent, else guessed from the shape (`manifests` => index).
fn media_type_of(bytes: &[u8], content_type: Option<&str>) -> String {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde::de::IgnoredAny>,
    }
    let probe: Option<Probe> = serde_json::from_slice(bytes).ok();
    if let Some(mt) = probe.as_ref().and_then(|p| p.media_type.clone()) {
        return mt;
    }
    let ct = content_type.map(|c| c.split(';').next().unwrap_or(c).trim());
    match ct {
        Some(c) if c.starts_with("application/vnd.") => c.to_owned(),
        _ if probe.is_some_and(|p| p.manifests.is_some()) => {
            wharf_oci::media_type::OCI_INDEX.to_owned()
        }
        _ => wharf_oci::media_type::OCI_MANIFEST.to_owned(),
    }
}

fn digest_of(bytes: &[u8], like: Option<&Digest>) -> Result<Digest> {
    let mut h = match like {
        Some(d) => Hasher::for_digest(d).map_err(|source| RegistryError::UnverifiableDigest {
            digest: d.clone(),
            source,
        })?,
        None => Hasher::sha256(),
    };
    h.update(bytes);
    Ok(h.finish())
}

impl RegistryClient {
    /// `GET /v2/<name>/manifests/<reference>` with every manifest type wharf reads accepted.
    pub async fn get_manifest(&self, repository: &str, reference: &str) -> Result<Manifest> {
        check_repository(repository)?;
        let by_digest = check_reference(reference)?;
        let url = self
            .url(repository, &format!("manifests/{reference}"))
            .await?;
        let resp = self
            .send(
                Req::new(Method::GET, url.clone(), Scope::pull(repository))
                    .header("accept", &accept()),
            )
            .await?;
        if !resp.status().is_success() {
            return Err(self
                .fail(resp, "GET", repository, Missing::Manifest(reference))
                .await);
        }
        if resp.content_length().is_some_and(|l| l > MAX_MANIFEST_SIZE) {
            return Err(RegistryError::TooLarge {
                what: "manifest",
                url: url.to_string(),
                limit: MAX_MANIFEST_SIZE,
            });
        }
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut resp = resp;
        let mut body = Vec::new();
        let mut watchdog = self.watchdog();
        loop {
            let chunk = crate::speed::next_chunk(&mut resp, watchdog.as_mut())
                .await
                .map_err(|e| self.chunk_error(url.as_str(), e))?;
            let Some(chunk) = chunk else { break };
            body.extend_from_slice(&chunk);
            if body.len() as u64 > MAX_MANIFEST_SIZE {
                return Err(RegistryError::TooLarge {
                    what: "manifest",
                    url: url.to_string(),
                    limit: MAX_MANIFEST_SIZE,
                });
            }
        }
        let digest = digest_of(&body, by_digest.as_ref())?;
        if let Some(expected) = by_digest
            && expected != digest
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("manifest {repository}@{expected}"),
                expected,
                actual: digest,
            });
        }
        let media_type = media_type_of(&body, content_type.as_deref());
        Ok(Manifest {
            bytes: Bytes::from(body),
            media_type,
            digest,
        })
    }

    /// `HEAD /v2/<name>/manifests/<reference>`: `None` when it does not exist.
    pub async fn head_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Option<ManifestHead>> {
        check_repository(repository)?;
        check_reference(reference)?;
        let url = self
            .url(repository, &format!("manifests/{reference}"))
            .await?;
        let resp = self
            .send(Req::new(Method::HEAD, url, Scope::pull(repository)).header("accept", &accept()))
            .await?;
        match resp.status() {
            s if s.is_success() => {
                let h = resp.headers();
                let text = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
                Ok(Some(ManifestHead {
                    digest: text("docker-content-digest")
                        .and_then(|d| wharf_oci::digest::parse(&d).ok()),
                    media_type: text("content-type"),
                    size: crate::blob::header_length(&resp),
                }))
            }
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self
                .fail(resp, "HEAD", repository, Missing::Manifest(reference))
                .await),
        }
    }

    /// `PUT /v2/<name>/manifests/<reference>` (a tag, or the manifest's own digest). Returns
    /// the digest of the bytes; a registry that reports another digest is an error.
    pub async fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        bytes: Bytes,
        media_type: &str,
    ) -> Result<Digest> {
        self.put_manifest_subject(repository, reference, bytes, media_type)
            .await
            .map(|(d, _)| d)
    }

    /// [`Self::put_manifest`], also returning the `OCI-Subject` header of the answer: a
    /// registry with the referrers API sends it when it indexed the manifest's `subject`.
    pub(crate) async fn put_manifest_subject(
        &self,
        repository: &str,
        reference: &str,
        bytes: Bytes,
        media_type: &str,
    ) -> Result<(Digest, Option<String>)> {
        check_repository(repository)?;
        let by_digest = check_reference(reference)?;
        let digest = digest_of(&bytes, by_digest.as_ref())?;
        if let Some(expected) = by_digest
            && expected != digest
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("manifest pushed as {repository}@{expected}"),
                expected,
                actual: digest,
            });
        }
        let url = self
            .url(repository, &format!("manifests/{reference}"))
            .await?;
        let mut req = Req::new(Method::PUT, url.clone(), Scope::push(repository))
            .header("content-type", media_type);
        req.body = ReqBody::Bytes(bytes);
        let resp = self.send(req).await?;
        if resp.status() != StatusCode::CREATED && !resp.status().is_success() {
            return Err(self
                .fail(resp, "PUT", repository, Missing::Manifest(reference))
                .await);
        }
        if let Some(reported) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|d| wharf_oci::digest::parse(d).ok())
            && reported != digest
        {
            return Err(RegistryError::DigestMismatch {
                what: format!("manifest stored in {repository}"),
                expected: digest,
                actual: reported,
            });
        }
        let subject = resp
            .headers()
            .get("oci-subject")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok((digest, subject))
    }

    /// `DELETE /v2/<name>/manifests/<digest>` (registries delete by digest only).
    pub async fn delete_manifest(&self, repository: &str, digest: &Digest) -> Result<()> {
        check_repository(repository)?;
        let reference = digest.to_string();
        let url = self
            .url(repository, &format!("manifests/{reference}"))
            .await?;
        let resp = self
            .send(Req::new(Method::DELETE, url, Scope::delete(repository)))
            .await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(self
                .fail(resp, "DELETE", repository, Missing::Manifest(&reference))
                .await)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_media_types() {
        assert_eq!(check_reference("v1.0-rc_1").unwrap(), None);
        assert!(check_reference(".bad").is_err());
        assert!(check_reference("a/b").is_err());
        assert!(check_reference(&"x".repeat(129)).is_err());
        assert!(check_reference("sha256:abc").is_err());
        let d = wharf_oci::digest::sha256(b"x");
        assert_eq!(check_reference(d.as_ref()).unwrap(), Some(d));
        assert_eq!(
            media_type_of(
                br#"{"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#,
                Some("application/json")
            ),
            wharf_oci::media_type::DOCKER_MANIFEST
        );
        assert_eq!(
            media_type_of(br#"{"manifests":[]}"#, Some("application/json")),
            wharf_oci::media_type::OCI_INDEX
        );
        assert_eq!(
            media_type_of(
                b"{}",
                Some("application/vnd.oci.image.manifest.v1+json; charset=x")
            ),
            wharf_oci::media_type::OCI_MANIFEST
        );
    }
}
