//! The copy pipeline's two signature hooks: the source's image is checked against the signature
//! policy before anything is written ([`check_source`]), and the manifest written to a registry
//! is signed once it is there ([`sign_destination`]).

use std::sync::Arc;

use wharf_oci::{RawManifest, Reference};
use wharf_sign::{PolicyContext, PolicyImage, RegistriesD, Scopes, SignError, Signer};

use crate::dest::Destination;
use crate::error::Result;
use crate::reference::ImageRef;
use crate::source::Source;

/// How a copy signs what it writes (`--sign-by-sigstore-private-key`).
#[derive(Debug, Clone)]
pub struct SignOptions {
    pub signers: Vec<Arc<Signer>>,
    /// The identity signatures name (`--sign-identity`); the destination's reference when
    /// `None`.
    pub identity: Option<Reference>,
    /// Where signatures are stored.
    pub registries_d: RegistriesD,
    /// Store sigstore signatures as OCI 1.1 referrers (cosign's
    /// `--registry-referrers-mode=oci-1-1`) instead of the `sha256-<hex>.sig` tag.
    pub referrers_mode: bool,
}

/// Checks the image `src` serves (its top-level manifest `top`) against `policy`. Images from
/// the store are not checked again: they were checked when they entered it, or built here.
pub async fn check_source(policy: &PolicyContext, src: &Source, top: &RawManifest) -> Result<()> {
    let describe = src.describe();
    let image = match src {
        Source::Store { .. } => return Ok(()),
        // The policy is about the name the user asked for; signatures are read where the
        // image came from (a mirror serves its copies' attachments), as containers/image does.
        Source::Registry {
            reference,
            endpoints,
        } => PolicyImage {
            transport: "docker",
            scopes: Scopes::docker(reference),
            describe,
            docker: Some(reference.clone()),
            digest: top.digest.clone(),
            client: Some(&endpoints.current().client),
        },
        _ => {
            let r = ImageRef::parse(&describe).ok();
            let scopes = match &r {
                Some(ImageRef::Oci { path, name } | ImageRef::OciArchive { path, name }) => {
                    Scopes::path(path, name.as_deref())
                }
                Some(ImageRef::Dir { path }) => Scopes::path(path, None),
                // containers/image gives archives no scopes: only the transport's "" scope
                // or the default apply.
                _ => Scopes::default(),
            };
            PolicyImage {
                transport: r.as_ref().map_or("docker-archive", ImageRef::transport),
                scopes,
                describe,
                docker: None,
                digest: top.digest.clone(),
                client: None,
            }
        }
    };
    policy.check(&image).await?;
    Ok(())
}

/// Signs the manifest `digest` just written to `dst` with every signer of `opts`.
pub async fn sign_destination(
    opts: &SignOptions,
    dst: &Destination,
    written: &RawManifest,
) -> Result<()> {
    let digest = &written.digest;
    if opts.signers.is_empty() {
        return Ok(());
    }
    let Destination::Registry { client, reference } = dst else {
        return Err(SignError::CannotStore {
            destination: dst.describe(),
            why: "signatures are stored only with registry (docker://) destinations".into(),
        }
        .into());
    };
    let identity = opts
        .identity
        .clone()
        .unwrap_or_else(|| reference.clone().with_default_tag());
    for signer in &opts.signers {
        match signer.as_ref() {
            Signer::Sigstore(key) => {
                if !opts.registries_d.use_sigstore_attachments(reference) {
                    return Err(SignError::CannotStore {
                        destination: dst.describe(),
                        why: format!(
                            "sigstore signatures are stored as attachments only when registries.d sets use-sigstore-attachments: true for {} (e.g. default-docker: {{use-sigstore-attachments: true}} in {}/default.yaml)",
                            reference.name(),
                            opts.registries_d.dir.as_ref().map_or_else(
                                || "/etc/containers/registries.d".to_owned(),
                                |d| d.display().to_string()
                            )
                        ),
                    }
                    .into());
                }
                let sig =
                    wharf_sign::sigstore::Signature::create(key, &identity.to_string(), digest)?;
                if opts.referrers_mode {
                    let subject = (
                        digest,
                        written.kind.media_type(),
                        written.bytes.len() as u64,
                    );
                    wharf_sign::attach::push_referrer(client, reference, subject, &sig).await?;
                } else {
                    wharf_sign::attach::push(client, reference, digest, &sig).await?;
                }
            }
            Signer::Gpg {
                fingerprint,
                passphrase_file,
            } => {
                let base = opts
                    .registries_d
                    .lookaside(reference, true)
                    .ok_or_else(|| SignError::CannotStore {
                        destination: dst.describe(),
                        why:
                            "no lookaside storage is configured in registries.d (lookaside-staging)"
                                .into(),
                    })?;
                let sig = wharf_sign::simple::sign(
                    fingerprint,
                    passphrase_file.as_deref(),
                    &identity.to_string(),
                    digest,
                )?;
                wharf_sign::lookaside::write(&base, reference, digest, &sig)?;
            }
        }
    }
    Ok(())
}

/// Signs the manifest `manifest` held in `store` as `identity` with every signer, and keeps
/// each signature with the image as an OCI 1.1 referrer (cosign's
/// `--registry-referrers-mode=oci-1-1` form), so that `kiln push` and
/// `ferry copy --referrers` carry it (`kiln build --sign-by-sigstore-private-key`).
/// Returns the referrer descriptors.
///
/// # Errors
/// A GPG signer (simple signing has no referrer form: sign at push with `--sign-by`), a
/// manifest the store does not hold, a signing or store failure.
pub fn sign_stored(
    store: &wharf_store::Store,
    signers: &[Arc<Signer>],
    identity: &Reference,
    manifest: &wharf_oci::Digest,
) -> Result<Vec<wharf_oci::Descriptor>> {
    let bytes = store.read_small(manifest)?;
    let parsed = RawManifest::parse(bytes, None).map_err(|e| crate::TransportError::Invalid {
        location: format!("store manifest {manifest}"),
        what: format!("the manifest to sign does not parse: {e}"),
    })?;
    let mut out = Vec::new();
    for signer in signers {
        let Signer::Sigstore(key) = signer.as_ref() else {
            return Err(SignError::CannotStore {
                destination: format!("store image {manifest}"),
                why: "GPG (simple signing) signatures have no referrer form to keep with a \
                      stored image; sign when pushing: kiln push --sign-by FINGERPRINT"
                    .into(),
            }
            .into());
        };
        let sig = wharf_sign::sigstore::Signature::create(key, &identity.to_string(), manifest)?;
        let subject = (
            manifest,
            parsed.kind.media_type(),
            parsed.bytes.len() as u64,
        );
        let form = wharf_sign::attach::referrer_form(subject, &sig)?;
        for (media_type, blob) in &form.blobs {
            store.put_blob_bytes(media_type, blob)?;
        }
        out.push(store.put_referrer(&form.manifest)?);
    }
    Ok(out)
}
