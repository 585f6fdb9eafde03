//! Referrers (OCI 1.1 `subject`): listing them at a source, writing them at a destination,
//! and copying an image's referrers after the image (`--referrers`), recursively (signatures
//! of SBOMs). Every referrer is fetched by digest and must name its subject; a listing is
//! never trusted for more than which digests to fetch.

use std::collections::HashSet;

use bytes::Bytes;
use wharf_oci::{Descriptor, Digest, RawManifest};

use crate::copy::{CopyOptions, CopyReport, copy_blobs};
use crate::dest::Destination;
use crate::error::{Result, TransportError};
use crate::files::write_atomic;
use crate::layout;
use crate::source::Source;

/// How deep referrers of referrers are followed (an image, its SBOM, the SBOM's signature is
/// depth 2); deeper chains are refused rather than followed without end.
pub const MAX_DEPTH: usize = 8;

/// More referrers than this in one copy (all subjects together) are refused.
pub const MAX_TOTAL: usize = wharf_registry::referrers::MAX_REFERRERS;

impl Source {
    /// The referrers of `subject` this source lists (unverified descriptors).
    pub async fn referrers(&self, subject: &Digest) -> Result<Vec<Descriptor>> {
        match self {
            Self::Registry {
                reference,
                endpoints,
            } => {
                let e = endpoints.served(reference).await?;
                let (list, _) = e
                    .client
                    .referrers(&e.reference.repository, subject, None)
                    .await?;
                Ok(list)
            }
            Self::Layout { files, .. } => layout::referrers(files, subject),
            Self::Store { store, .. } => Ok(store.referrers(subject)?),
            Self::Dir { .. } | Self::DockerArchive { .. } => Ok(Vec::new()),
        }
    }
}

impl Destination {
    /// Writes a referrer manifest (its blobs already written) so that it is found as a
    /// referrer of `subject`.
    pub async fn put_referrer(
        &self,
        m: &RawManifest,
        d: &Descriptor,
        subject: &Digest,
    ) -> Result<()> {
        match self {
            Self::Registry { client, reference } => {
                client
                    .put_referrer(
                        &reference.repository,
                        Bytes::from(m.bytes.clone()),
                        d,
                        subject,
                    )
                    .await?;
                Ok(())
            }
            Self::Layout {
                dir, archive: None, ..
            } => {
                write_atomic(&layout::blob_file(dir, &m.digest), &m.bytes)?;
                layout::add_referrer(dir, d)
            }
            // The store checks that the referrer's blobs and subject are present and keeps
            // it as long as its subject lives.
            Self::Store { store, .. } => {
                store.put_referrer(&m.bytes)?;
                Ok(())
            }
            _ => Err(TransportError::Unsupported {
                destination: self.describe(),
                what: "referrers (--referrers): copy to a registry, an oci: layout or the store"
                    .into(),
            }),
        }
    }

    /// Whether [`Destination::put_referrer`] can write here.
    pub fn supports_referrers(&self) -> bool {
        matches!(
            self,
            Self::Registry { .. } | Self::Layout { archive: None, .. } | Self::Store { .. }
        )
    }
}

/// Refuses `--referrers` when the copy would change the image's digest: referrers name their
/// subject by digest and would be left pointing at an image the destination does not have.
pub(crate) fn check_digest_kept(
    opts: &CopyOptions,
    top: &RawManifest,
    dst: &Destination,
) -> Result<()> {
    let refuse = |flag: &str| {
        Err(TransportError::Unsupported {
            destination: dst.describe(),
            what: format!(
                "--referrers with {flag}: it changes the image's digest, and referrers name \
                 their subject by digest; drop one of the two"
            ),
        })
    };
    if opts.compress.is_some() {
        return refuse("--dest-compress-format (recompressing layers)");
    }
    let docker = matches!(
        top.kind,
        wharf_oci::media_type::ManifestKind::DockerManifest
            | wharf_oci::media_type::ManifestKind::DockerManifestList
    );
    match opts.format {
        Some(wharf_oci::ManifestFormat::Docker) if !docker => return refuse("--format v2s2"),
        Some(wharf_oci::ManifestFormat::Oci) if docker => {
            return refuse(if dst.oci_only() {
                "an oci: destination (it converts Docker manifests to OCI)"
            } else {
                "--format oci"
            });
        }
        _ => {}
    }
    if !dst.supports_referrers() {
        return Err(TransportError::Unsupported {
            destination: dst.describe(),
            what: "referrers (--referrers): copy to a registry, an oci: layout or the store".into(),
        });
    }
    Ok(())
}

/// Copies the referrers of each of `subjects` (and theirs, to [`MAX_DEPTH`]) from `src` to
/// `dst`. Returns how many were written.
pub(crate) async fn copy_referrers(
    src: &Source,
    dst: &Destination,
    subjects: &[Digest],
    opts: &CopyOptions,
    report: &mut CopyReport,
) -> Result<usize> {
    // Referrers are copied as they are: no conversion, no policy (they are checked by digest
    // against their subject, which passed the policy), no new signatures.
    let plain = CopyOptions {
        format: None,
        compress: None,
        policy: None,
        sign: None,
        all: false,
        ..opts.clone()
    };
    let mut seen: HashSet<Digest> = subjects.iter().cloned().collect();
    let mut level: Vec<Digest> = subjects.to_vec();
    let mut written = 0;
    for depth in 0..=MAX_DEPTH {
        let mut next = Vec::new();
        for subject in &level {
            for d in src.referrers(subject).await? {
                if !seen.insert(d.digest().clone()) {
                    continue;
                }
                if depth == MAX_DEPTH {
                    return Err(TransportError::Invalid {
                        location: src.describe(),
                        what: format!(
                            "referrers nest deeper than {MAX_DEPTH} levels (at {})",
                            d.digest()
                        ),
                    });
                }
                if seen.len() > MAX_TOTAL + subjects.len() {
                    return Err(TransportError::Invalid {
                        location: src.describe(),
                        what: format!(
                            "more than {MAX_TOTAL} referrers to copy; copy without --referrers"
                        ),
                    });
                }
                let m = src.child_manifest(&d).await?;
                let image = m.image().ok_or_else(|| TransportError::Unsupported {
                    destination: dst.describe(),
                    what: format!(
                        "referrer {} is an index (only manifests are copied)",
                        d.digest()
                    ),
                })?;
                let named = image.subject().as_ref().map(|s| s.digest().clone());
                if named.as_ref() != Some(subject) {
                    return Err(TransportError::Invalid {
                        location: src.describe(),
                        what: format!(
                            "listed as a referrer of {subject}, manifest {} names subject {}; \
                             the source's referrers list is wrong",
                            d.digest(),
                            named.map_or_else(|| "none".to_owned(), |n| n.to_string())
                        ),
                    });
                }
                let out = copy_blobs(src, dst, &m, &plain, report).await?;
                // The descriptor written is rebuilt from the verified manifest, not copied
                // from the listing: only its annotations come from there.
                let mut desc = m.descriptor();
                desc.set_artifact_type(
                    image
                        .artifact_type()
                        .clone()
                        .or_else(|| Some(image.config().media_type().clone())),
                );
                desc.set_annotations(image.annotations().clone());
                dst.put_referrer(&out, &desc, subject).await?;
                written += 1;
                next.push(m.digest.clone());
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    Ok(written)
}
