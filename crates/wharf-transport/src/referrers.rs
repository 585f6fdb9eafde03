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
            // oci-archive: is the same layout, in a temporary directory packed again by
            // [`Destination::finish_referrers`] once the referrers are in.
            Self::Layout { dir, .. } => {
                write_atomic(&layout::blob_file(dir, &m.digest), &m.bytes)?;
                layout::add_referrer(dir, d)
            }
            // The store checks that the referrer's blobs and subject are present and keeps
            // it as long as its subject lives.
            Self::Store { store, .. } => {
                store.put_referrer(&m.bytes)?;
                Ok(())
            }
            _ => Err(self.no_referrers()),
        }
    }

    /// Whether [`Destination::put_referrer`] can write here.
    pub fn supports_referrers(&self) -> bool {
        matches!(
            self,
            Self::Registry { .. } | Self::Layout { .. } | Self::Store { .. }
        )
    }

    /// Why this destination cannot hold referrers.
    fn no_referrers(&self) -> TransportError {
        TransportError::Unsupported {
            destination: self.describe(),
            what: match self {
                // containers/image's dir: (skopeo's) is one image's manifest, blobs and
                // signature files: no index to list referrers in, no referrers concept.
                Self::Dir { .. } => "referrers (--referrers): the dir: format keeps one image \
                     (manifest.json, blobs, signature-N) with no index to list referrers in, \
                     and skopeo's dir: has no referrers concept; copy to oci:, oci-archive:, \
                     a registry or the store"
                    .into(),
                _ => "referrers (--referrers): copy to a registry, an oci: layout or archive, \
                      or the store"
                    .into(),
            },
        }
    }

    /// After referrers were written: an `oci-archive:` is packed again so that it holds them.
    pub async fn finish_referrers(&self) -> Result<()> {
        if let Self::Layout {
            dir,
            archive: Some((path, _)),
            ..
        } = self
        {
            let (dir, path) = (dir.clone(), path.clone());
            tokio::task::spawn_blocking(move || crate::dest::pack_layout(&dir, &path))
                .await
                .map_err(|e| TransportError::Task(e.to_string()))??;
        }
        Ok(())
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
        return Err(dst.no_referrers());
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
    // Where GPG signatures kept with a stored image go when pushed to a registry.
    let registries_d = match (&opts.sign, &opts.policy) {
        (Some(s), _) => s.registries_d.clone(),
        (None, Some(p)) => p.registries_d().clone(),
        (None, None) => wharf_sign::RegistriesD::load(&wharf_sign::RegistriesD::default_dir(None))?,
    };
    let mut seen: HashSet<Digest> = subjects.iter().cloned().collect();
    let mut level: Vec<Digest> = subjects.to_vec();
    let mut written = 0;
    for depth in 0..=MAX_DEPTH {
        let mut next = Vec::new();
        for subject in &level {
            // Every referrer of the subject is fetched and checked before any is written, so
            // a bad listing or manifest attaches none of them.
            let mut todo = Vec::new();
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
                todo.push(checked_referrer(src, dst, subject, &d).await?);
            }
            let mut done: Vec<Digest> = Vec::new();
            for (m, desc) in todo {
                let simple = desc
                    .artifact_type()
                    .as_ref()
                    .map(ToString::to_string)
                    .as_deref()
                    == Some(wharf_sign::simple::STORED_ARTIFACT_TYPE)
                    && matches!(dst, Destination::Registry { .. });
                let attempt = async {
                    if simple {
                        // A GPG signature: registries keep those in lookaside storage.
                        return crate::signatures::write_stored_simple(
                            src,
                            dst,
                            &m,
                            subject,
                            &registries_d,
                        )
                        .await;
                    }
                    let out = copy_blobs(src, dst, &m, &plain, report).await?;
                    dst.put_referrer(&out, &desc, subject).await
                };
                if let Err(e) = attempt.await {
                    if done.is_empty() {
                        return Err(e);
                    }
                    // The ones written stay (a registry may not allow deleting them): say
                    // exactly which, so that nobody takes the subject for fully attached.
                    dst.finish_referrers().await?;
                    let attached: Vec<String> = done.iter().map(ToString::to_string).collect();
                    return Err(TransportError::ReferrersPartial {
                        what: format!(
                            "copying the referrers of {subject} to {}: {} failed after {} were \
                             attached ({}); rerun the copy to attach the rest (those already \
                             there are written again unchanged)",
                            dst.describe(),
                            m.digest,
                            attached.len(),
                            attached.join(", ")
                        ),
                        source: Box::new(e),
                    });
                }
                written += 1;
                done.push(m.digest.clone());
                next.push(m.digest.clone());
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    if written > 0 {
        dst.finish_referrers().await?;
    }
    Ok(written)
}

/// Fetches the referrer `d` of `subject` by digest and checks that it is a manifest naming
/// `subject`; returns it with the descriptor to write (rebuilt from the verified manifest, not
/// copied from the listing: only its annotations come from there).
async fn checked_referrer(
    src: &Source,
    dst: &Destination,
    subject: &Digest,
    d: &Descriptor,
) -> Result<(RawManifest, Descriptor)> {
    let m = src.child_manifest(d).await?;
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
    let mut desc = m.descriptor();
    desc.set_artifact_type(
        image
            .artifact_type()
            .clone()
            .or_else(|| Some(image.config().media_type().clone())),
    );
    desc.set_annotations(image.annotations().clone());
    Ok((m, desc))
}
