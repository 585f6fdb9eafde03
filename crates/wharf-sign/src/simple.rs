//! Simple signing (`signedBy`, `--sign-by`): an OpenPGP-signed JSON payload of type
//! `atomic container signature`, kept in lookaside storage. Verification is rPGP's (pure
//! Rust); signing runs `gpg` with the caller's keyring, as gpgme does for skopeo.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use pgp::{Deserializable as _, Message, SignedPublicKey};
use wharf_oci::Digest;

use crate::error::{Result, SignError};
use crate::sigstore::Payload;

/// The payload's `critical.type`.
pub const PAYLOAD_TYPE: &str = "atomic container signature";

/// GPG public keys a `signedBy` requirement trusts.
#[derive(Debug, Clone)]
pub struct GpgKeys {
    /// The key material as read (armored or binary), one entry per file or `keyData`.
    pub material: Vec<Vec<u8>>,
}

impl GpgKeys {
    /// Parses every key of every entry (armored or binary keyrings).
    pub fn parse(&self) -> Result<Vec<SignedPublicKey>> {
        let mut out = Vec::new();
        for m in &self.material {
            let keys: Vec<SignedPublicKey> = if m.trim_ascii_start().starts_with(b"-----BEGIN") {
                SignedPublicKey::from_armor_many(std::io::Cursor::new(m))
                    .map(|(k, _)| k.filter_map(std::result::Result::ok).collect())
                    .map_err(|e| SignError::BadKey {
                        what: "GPG key".into(),
                        why: e.to_string(),
                    })?
            } else {
                SignedPublicKey::from_bytes_many(std::io::Cursor::new(m))
                    .filter_map(std::result::Result::ok)
                    .collect()
            };
            out.extend(keys);
        }
        if out.is_empty() {
            return Err(SignError::BadKey {
                what: "GPG keys".into(),
                why: "no OpenPGP public key could be read".into(),
            });
        }
        Ok(out)
    }
}

/// Verifies an OpenPGP-signed simple-signing blob with `keys`; returns its payload when the
/// signature is good and names `digest`. Only the verified content is parsed.
pub fn verify(keys: &[SignedPublicKey], blob: &[u8], digest: &Digest) -> Result<Payload> {
    let (p, _) = verify_signer(keys, blob)?;
    p.check_digest(digest)?;
    Ok(p)
}

/// Verifies an OpenPGP-signed simple-signing blob with `keys`; returns its payload (digest
/// not yet checked) and the uppercase hex fingerprint of the (sub)key that made the signature,
/// what gpgme calls the key identity.
pub fn verify_signer(keys: &[SignedPublicKey], blob: &[u8]) -> Result<(Payload, String)> {
    use pgp::types::PublicKeyTrait as _;
    let bad = |why: String| SignError::BadSignature { why };
    let msg = Message::from_bytes(std::io::Cursor::new(blob))
        .map_err(|e| bad(format!("not an OpenPGP message: {e}")))?
        .decompress()
        .map_err(|e| bad(format!("OpenPGP message: {e}")))?;
    let hex = |f: pgp::types::Fingerprint| {
        f.as_bytes().iter().fold(String::new(), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02X}");
            s
        })
    };
    let signer = keys.iter().find_map(|k| {
        if msg.verify(k).is_ok() {
            return Some(hex(k.fingerprint()));
        }
        k.public_subkeys
            .iter()
            .find(|s| msg.verify(*s).is_ok())
            .map(|s| hex(s.fingerprint()))
    });
    let Some(signer) = signer else {
        return Err(bad(
            "the OpenPGP signature does not verify with the trusted GPG keys".into(),
        ));
    };
    let content = msg
        .get_content()
        .map_err(|e| bad(format!("OpenPGP message: {e}")))?
        .ok_or_else(|| bad("the OpenPGP message has no content".into()))?;
    let p = Payload::parse(&content, PAYLOAD_TYPE)?;
    Ok((p, signer))
}

/// Signs with `gpg --sign` using the key `fingerprint` of the caller's keyring (`$GNUPGHOME`),
/// as skopeo's gpgme does; `passphrase_file` feeds gpg's loopback pinentry.
pub fn sign(
    fingerprint: &str,
    passphrase_file: Option<&std::path::Path>,
    reference: &str,
    digest: &Digest,
) -> Result<Vec<u8>> {
    let payload =
        serde_json::to_vec(&Payload::new(PAYLOAD_TYPE, reference, digest)).map_err(|e| {
            SignError::Unsupported {
                what: format!("encoding the payload: {e}"),
            }
        })?;
    let mut cmd = Command::new("gpg");
    cmd.args(["--batch", "--no-tty", "--sign", "--local-user", fingerprint]);
    if let Some(p) = passphrase_file {
        cmd.args(["--pinentry-mode", "loopback", "--passphrase-file"])
            .arg(p);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(SignError::io("running", PathBuf::from("gpg")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(&payload)
            .map_err(SignError::io("writing to", PathBuf::from("gpg")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(SignError::io("running", PathBuf::from("gpg")))?;
    if !out.status.success() || out.stdout.is_empty() {
        return Err(SignError::BadKey {
            what: format!("GPG key {fingerprint}"),
            why: format!(
                "gpg --sign failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(out.stdout)
}

/// The `artifactType` (and layer media type) of a simple signature kept with a stored image
/// (`kiln build --sign-by`). Simple signing has no registry form but lookaside storage, so
/// this form lives only in the store and in layouts: a push to a registry writes the signature
/// to the destination's lookaside instead (as containers-storage keeps an image's signatures
/// beside it and `buildah push` writes them to lookaside).
pub const STORED_ARTIFACT_TYPE: &str = "application/vnd.wharf.simple-signing.v1";

/// `signature` (an OpenPGP-signed simple-signing blob) of the manifest `subject` (digest,
/// media type, size) as a referrer: an empty config and the signature as its one layer.
///
/// # Errors
/// The manifest cannot be encoded or described.
pub fn referrer_form(
    subject: (&Digest, &str, u64),
    signature: &[u8],
) -> Result<crate::attach::ReferrerForm> {
    let (digest, subject_mt, subject_size) = subject;
    let empty = wharf_oci::digest::sha256(b"{}");
    let m = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": wharf_oci::media_type::OCI_MANIFEST,
        "artifactType": STORED_ARTIFACT_TYPE,
        "config": {
            "mediaType": wharf_oci::media_type::OCI_EMPTY_JSON,
            "digest": empty.to_string(),
            "size": 2,
        },
        "layers": [{
            "mediaType": STORED_ARTIFACT_TYPE,
            "digest": wharf_oci::digest::sha256(signature).to_string(),
            "size": signature.len(),
        }],
        "subject": {
            "mediaType": subject_mt,
            "digest": digest.to_string(),
            "size": subject_size,
        },
    });
    crate::attach::ReferrerForm::new(
        &m,
        STORED_ARTIFACT_TYPE,
        STORED_ARTIFACT_TYPE,
        signature.to_vec(),
    )
}
