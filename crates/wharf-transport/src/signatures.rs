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
/// each signature with the image as an OCI 1.1 referrer (sigstore: cosign's
/// `--registry-referrers-mode=oci-1-1` form; GPG: [`wharf_sign::simple::referrer_form`]),
/// so that `kiln push` and `ferry copy --referrers` carry it (`kiln build --sign-by…`).
/// Returns the referrer descriptors.
///
/// # Errors
/// A manifest the store does not hold, a signing or store failure.
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
        let subject = (
            manifest,
            parsed.kind.media_type(),
            parsed.bytes.len() as u64,
        );
        let form = match signer.as_ref() {
            Signer::Sigstore(key) => {
                let sig =
                    wharf_sign::sigstore::Signature::create(key, &identity.to_string(), manifest)?;
                wharf_sign::attach::referrer_form(subject, &sig)?
            }
            // Kept beside the image in the store (a Wharf-private referrer form); a push to a
            // registry writes it to the destination's lookaside ([`write_stored_simple`]).
            Signer::Gpg {
                fingerprint,
                passphrase_file,
            } => {
                let sig = wharf_sign::simple::sign(
                    fingerprint,
                    passphrase_file.as_deref(),
                    &identity.to_string(),
                    manifest,
                )?;
                wharf_sign::simple::referrer_form(subject, &sig)?
            }
        };
        for (media_type, blob) in &form.blobs {
            store.put_blob_bytes(media_type, blob)?;
        }
        out.push(store.put_referrer(&form.manifest)?);
    }
    Ok(out)
}

/// Writes a simple signature kept with a stored image (the referrer `m` of `subject`, in
/// [`wharf_sign::simple::referrer_form`]) to the lookaside storage registries.d configures for
/// the registry destination `dst`, where skopeo and podman look for it.
pub(crate) async fn write_stored_simple(
    src: &Source,
    dst: &Destination,
    m: &RawManifest,
    subject: &wharf_oci::Digest,
    registries_d: &RegistriesD,
) -> Result<()> {
    let Destination::Registry { reference, .. } = dst else {
        return Ok(());
    };
    let layer = m
        .image()
        .and_then(|i| i.layers().first().cloned())
        .ok_or_else(|| crate::TransportError::Invalid {
            location: src.describe(),
            what: format!("simple signature referrer {} has no layer", m.digest),
        })?;
    let signature = src.blob_bytes(&layer).await?;
    let base = registries_d
        .lookaside(reference, true)
        .ok_or_else(|| SignError::CannotStore {
            destination: dst.describe(),
            why: format!(
                "the image has a GPG (simple signing) signature, which lives in lookaside \
                 storage, and registries.d ({}) configures none for {} (and $HOME is unset): \
                 set lookaside-staging (or lookaside) there, or push with --referrers=false to \
                 leave it behind",
                registries_d.dir.as_ref().map_or_else(
                    || "/etc/containers/registries.d".to_owned(),
                    |d| d.display().to_string()
                ),
                reference.name()
            ),
        })?;
    wharf_sign::lookaside::write(&base, reference, subject, &signature)?;
    Ok(())
}
