//! OCI 1.1 referrers: `GET /v2/<name>/referrers/<digest>` where the registry serves it, else
//! the distribution spec's tag schema (an index under the tag `sha256-<hex>` listing the
//! referrers), which a client updates itself (read, modify, write) after pushing a manifest
//! with a `subject` when the registry does not answer with `OCI-Subject`.
//!
//! Listings are outside input: bounded in size ([`MAX_REFERRERS`], pages of at most
//! [`MAX_MANIFEST_SIZE`]) and never trusted for content — a caller fetches each referrer by
//! digest and checks its `subject`.

use bytes::Bytes;
use reqwest::{Method, StatusCode, Url};
use wharf_oci::{Descriptor, Digest, ImageIndex, MediaType};

use crate::auth::Scope;
use crate::client::{Missing, RegistryClient, Req, check_repository};
use crate::error::{RegistryError, Result};
use crate::manifest::MAX_MANIFEST_SIZE;

/// More referrers than this for one subject are refused: a registry cannot make a copy do
/// unbounded work by listing (or inventing) referrers.
pub const MAX_REFERRERS: usize = 1000;

/// The fallback tag of `subject`: `<alg>-<hex>`.
pub fn fallback_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm().as_ref(), subject.digest())
}

/// Where a listing came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersSource {
    /// The registry's referrers API.
    Api,
    /// The fallback tag's index (or its absence).
    Tag,
}

/// Parses a referrers index (API answer or fallback tag), keeping the descriptors that carry
/// `artifact_type` when asked.
fn parse_index(body: &[u8], url: &str, artifact_type: Option<&str>) -> Result<Vec<Descriptor>> {
    let index: ImageIndex =
        serde_json::from_slice(body).map_err(|e| RegistryError::BadResponse {
            url: url.to_owned(),
            what: format!("the referrers list is not an OCI image index: {e}"),
        })?;
    let entries: Vec<Descriptor> = index
        .manifests()
        .iter()
        .filter(|d| {
            artifact_type.is_none_or(|t| {
                d.artifact_type()
                    .as_ref()
                    .map(ToString::to_string)
                    .as_deref()
                    == Some(t)
            })
        })
        .cloned()
        .collect();
    Ok(entries)
}

fn too_many(url: &str) -> RegistryError {
    RegistryError::BadResponse {
        url: url.to_owned(),
        what: format!(
            "the registry lists more than {MAX_REFERRERS} referrers for one image; copy the \
             image without --referrers, or remove referrers at the source"
        ),
    }
}

impl RegistryClient {
    /// The referrers of `subject` in `repository` (optionally only those of `artifact_type`),
    /// by the referrers API, else by the fallback tag. Descriptors only: unverified.
    pub async fn referrers(
        &self,
        repository: &str,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<(Vec<Descriptor>, ReferrersSource)> {
        check_repository(repository)?;
        let mut url = self
            .url(repository, &format!("referrers/{subject}"))
            .await?;
        if let Some(t) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", t);
        }
        let mut out = Vec::new();
        // Pages follow `Link: <...>; rel="next"`; the count bound ends a looping registry.
        for page in 0..=MAX_REFERRERS {
            let resp = self
                .send(
                    Req::new(Method::GET, url.clone(), Scope::pull(repository))
                        .header("accept", wharf_oci::media_type::OCI_INDEX),
                )
                .await?;
            if page == 0 && resp.status() == StatusCode::NOT_FOUND {
                return Ok((
                    self.referrers_by_tag(repository, subject, artifact_type)
                        .await?,
                    ReferrersSource::Tag,
                ));
            }
            if !resp.status().is_success() {
                return Err(self
                    .fail(resp, "GET", repository, Missing::Repository)
                    .await);
            }
            let next = resp
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(crate::tags::next_link)
                .map(str::to_owned);
            let body = self.read_small(resp, &url).await?;
            // Registries that ignore the filter say so by leaving out OCI-Filters-Applied;
            // filtering again here is harmless either way.
            out.extend(parse_index(&body, url.as_str(), artifact_type)?);
            if out.len() > MAX_REFERRERS {
                return Err(too_many(url.as_str()));
            }
            let Some(next) = next else {
                return Ok((out, ReferrersSource::Api));
            };
            url = url.join(&next).map_err(|_| RegistryError::BadHeader {
                url: url.to_string(),
                header: "Link",
                value: next.clone(),
            })?;
            if url.origin() != self.ping().await?.base.origin() {
                return Err(RegistryError::BadHeader {
                    url: url.to_string(),
                    header: "Link",
                    value: next,
                });
            }
        }
        Err(too_many(url.as_str()))
    }

    /// The referrers the fallback tag `sha256-<hex>` lists (none when the tag is absent).
    pub async fn referrers_by_tag(
        &self,
        repository: &str,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>> {
        let tag = fallback_tag(subject);
        match self.get_manifest(repository, &tag).await {
            Ok(m) => {
                let what = format!("{}/{repository}:{tag}", self.host());
                let entries = parse_index(&m.bytes, &what, artifact_type)?;
                if entries.len() > MAX_REFERRERS {
                    return Err(too_many(&what));
                }
                Ok(entries)
            }
            Err(RegistryError::ManifestUnknown { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Pushes a manifest that has a `subject` (by digest, untagged) and makes it findable as a
    /// referrer: a registry that answers with `OCI-Subject` indexed it; otherwise the fallback
    /// tag's index gets `descriptor` (read, modify, write; the spec's client-side update).
    /// `descriptor` is the manifest's descriptor with its `artifactType` (and annotations).
    pub async fn put_referrer(
        &self,
        repository: &str,
        bytes: Bytes,
        descriptor: &Descriptor,
        subject: &Digest,
    ) -> Result<Digest> {
        let digest = descriptor.digest().clone();
        let media_type = descriptor.media_type().to_string();
        let (pushed, indexed) = self
            .put_manifest_subject(repository, digest.as_ref(), bytes, &media_type)
            .await?;
        if indexed.is_some() {
            return Ok(pushed);
        }
        let tag = fallback_tag(subject);
        let mut entries = match self.get_manifest(repository, &tag).await {
            Ok(m) => {
                let what = format!("{}/{repository}:{tag}", self.host());
                parse_index(&m.bytes, &what, None)?
            }
            Err(RegistryError::ManifestUnknown { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        if entries.iter().any(|d| *d.digest() == pushed) {
            return Ok(pushed);
        }
        if entries.len() >= MAX_REFERRERS {
            return Err(too_many(&format!("{}/{repository}:{tag}", self.host())));
        }
        entries.push(descriptor.clone());
        let mut index = ImageIndex::default();
        index.set_media_type(Some(MediaType::ImageIndex));
        index.set_manifests(entries);
        let body = serde_json::to_vec(&index).map_err(|e| RegistryError::BadResponse {
            url: tag.clone(),
            what: format!("encoding the referrers index: {e}"),
        })?;
        self.put_manifest(
            repository,
            &tag,
            Bytes::from(body),
            wharf_oci::media_type::OCI_INDEX,
        )
        .await?;
        Ok(pushed)
    }

    /// Reads a small JSON body, refusing more than [`MAX_MANIFEST_SIZE`].
    async fn read_small(&self, resp: reqwest::Response, url: &Url) -> Result<Vec<u8>> {
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
                    what: "referrers list",
                    url: url.to_string(),
                    limit: MAX_MANIFEST_SIZE,
                });
            }
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_tags_and_filters() {
        let d = wharf_oci::digest::sha256(b"x");
        assert_eq!(fallback_tag(&d), format!("sha256-{}", d.digest()));
        let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881","size":1,"artifactType":"a/b"},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881","size":1,"artifactType":"c/d"}]}"#;
        assert_eq!(parse_index(body, "u", None).unwrap().len(), 2);
        assert_eq!(parse_index(body, "u", Some("c/d")).unwrap().len(), 1);
        assert!(parse_index(b"<html>", "u", None).is_err());
    }
}
