//! Cosign-compatible sigstore signatures: the payload, ECDSA P-256 keys (public keys as PEM
//! `PUBLIC KEY`, private keys in cosign's encrypted format: scrypt + NaCl secretbox around a
//! PKCS#8 key), signing and verification.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use crypto_secretbox::aead::{AeadInPlace as _, KeyInit as _};
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{self as rsig, KeyPair as _};
use serde::{Deserialize, Serialize};
use wharf_oci::Digest;

use crate::error::{Result, SignError};

/// The media type of a sigstore signature layer (its blob is the payload).
pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation holding the base64 signature of the payload.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The payload's `critical.type`.
pub const PAYLOAD_TYPE: &str = "cosign container image signature";
/// What cosign's `generate-key-pair` writes (and containers/image reads).
const ENCRYPTED_PEM: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// The newer name of the same format.
const ENCRYPTED_PEM_SIGSTORE: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// SubjectPublicKeyInfo of an id-ecPublicKey on prime256v1, up to the 65-byte point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// Keys and payloads larger than this are refused.
const MAX_KEY: usize = 64 << 10;

/// A signature's payload (cosign's "simple signing" JSON). Unknown critical fields are refused,
/// as containers/image does.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    pub critical: Critical,
    #[serde(default)]
    pub optional: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Critical {
    pub identity: PayloadIdentity,
    pub image: PayloadImage,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadIdentity {
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadImage {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

impl Payload {
    /// A payload naming `reference` and `digest`, of type `kind`.
    pub fn new(kind: &str, reference: &str, digest: &Digest) -> Self {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            critical: Critical {
                identity: PayloadIdentity {
                    docker_reference: reference.to_owned(),
                },
                image: PayloadImage {
                    docker_manifest_digest: digest.to_string(),
                },
                kind: kind.to_owned(),
            },
            optional: Some(serde_json::json!({
                "creator": concat!("Wharf ", env!("CARGO_PKG_VERSION")),
                "timestamp": ts,
            })),
        }
    }

    /// Parses a payload and checks its type.
    pub fn parse(bytes: &[u8], kind: &str) -> Result<Self> {
        let p: Self = serde_json::from_slice(bytes).map_err(|e| SignError::BadSignature {
            why: format!("payload: {e}"),
        })?;
        if p.critical.kind != kind {
            return Err(SignError::BadSignature {
                why: format!("payload type {:?}, expected {kind:?}", p.critical.kind),
            });
        }
        Ok(p)
    }

    /// Whether the payload names the manifest with `digest`.
    pub fn check_digest(&self, digest: &Digest) -> Result<()> {
        if self.critical.image.docker_manifest_digest == digest.to_string() {
            Ok(())
        } else {
            Err(SignError::BadSignature {
                why: format!(
                    "the signature is for manifest {}, not {digest}",
                    self.critical.image.docker_manifest_digest
                ),
            })
        }
    }
}

/// A verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The uncompressed P-256 point.
    point: Vec<u8>,
}

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as cosign and skopeo write them.
    pub fn from_pem(pem_bytes: &[u8], what: &str) -> Result<Self> {
        let bad = |why: String| SignError::BadKey {
            what: what.to_owned(),
            why,
        };
        if pem_bytes.len() > MAX_KEY {
            return Err(bad("larger than 64 KiB".into()));
        }
        let p = pem::parse(pem_bytes).map_err(|e| bad(format!("not PEM: {e}")))?;
        if p.tag() != "PUBLIC KEY" {
            return Err(bad(format!(
                "a PEM {:?} block, expected \"PUBLIC KEY\"",
                p.tag()
            )));
        }
        Self::from_spki(p.contents()).map_err(bad)
    }

    fn from_spki(der: &[u8]) -> Result<Self, String> {
        match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
            Some(point) if point.len() == 65 && point[0] == 4 => Ok(Self {
                point: point.to_vec(),
            }),
            _ => Err("only ECDSA P-256 public keys are supported (cosign's default)".into()),
        }
    }

    /// The PEM `PUBLIC KEY` form.
    pub fn to_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.spki_der()))
    }

    /// A key from a DER SubjectPublicKeyInfo (a certificate's key).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, String> {
        Self::from_spki(der)
    }

    /// The DER SubjectPublicKeyInfo (what a Rekor entry logs for a key-signed signature).
    pub fn spki_der(&self) -> Vec<u8> {
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.point);
        der
    }

    /// Checks an ASN.1 ECDSA signature (SHA-256) of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        if self.verify_raw(message, signature) {
            Ok(())
        } else {
            Err(SignError::BadSignature {
                why: "the cryptographic signature does not verify with the policy's key".into(),
            })
        }
    }

    /// Whether `signature` is an ASN.1 ECDSA signature (SHA-256) of `message` by this key.
    pub fn verify_raw(&self, message: &[u8], signature: &[u8]) -> bool {
        rsig::UnparsedPublicKey::new(&rsig::ECDSA_P256_SHA256_ASN1, &self.point)
            .verify(message, signature)
            .is_ok()
    }
}

/// A signing key.
pub struct PrivateKey {
    pair: rsig::EcdsaKeyPair,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey").finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct Encrypted {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[allow(non_snake_case)]
struct ScryptParams {
    N: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn scrypt_key(passphrase: &[u8], salt: &[u8], p: &ScryptParams) -> Result<[u8; 32], String> {
    if !p.N.is_power_of_two() || p.N < 2 {
        return Err(format!("scrypt N={} is not a power of two", p.N));
    }
    let log_n = p.N.trailing_zeros() as u8;
    // Bound the work a key file can ask for: 128·N·r bytes of memory (cosign: 32 MiB).
    if u128::from(p.N) * 128 * u128::from(p.r) > 512 << 20 || p.p > 16 {
        return Err(format!(
            "scrypt parameters N={} r={} p={} ask for too much work",
            p.N, p.r, p.p
        ));
    }
    let params = scrypt::Params::new(log_n, p.r, p.p, 32).map_err(|e| e.to_string())?;
    let mut key = [0u8; 32];
    scrypt::scrypt(passphrase, salt, &params, &mut key).map_err(|e| e.to_string())?;
    Ok(key)
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| SignError::Unsupported {
            what: "no system random number generator".into(),
        })?;
    Ok(b)
}

impl PrivateKey {
    /// Reads a private key: cosign's encrypted PEM (`ENCRYPTED COSIGN PRIVATE KEY` or
    /// `ENCRYPTED SIGSTORE PRIVATE KEY`) with `passphrase`, or an unencrypted PKCS#8
    /// `PRIVATE KEY`.
    pub fn from_pem(pem_bytes: &[u8], passphrase: &[u8], what: &str) -> Result<Self> {
        let bad = |why: String| SignError::BadKey {
            what: what.to_owned(),
            why,
        };
        if pem_bytes.len() > MAX_KEY {
            return Err(bad("larger than 64 KiB".into()));
        }
        let p = pem::parse(pem_bytes).map_err(|e| bad(format!("not PEM: {e}")))?;
        let der = match p.tag() {
            ENCRYPTED_PEM | ENCRYPTED_PEM_SIGSTORE => {
                let e: Encrypted = serde_json::from_slice(p.contents())
                    .map_err(|e| bad(format!("encrypted key: {e}")))?;
                if e.kdf.name != "scrypt" || e.cipher.name != "nacl/secretbox" {
                    return Err(bad(format!(
                        "key encrypted with {}/{}, expected scrypt/nacl/secretbox",
                        e.kdf.name, e.cipher.name
                    )));
                }
                let salt = B64
                    .decode(&e.kdf.salt)
                    .map_err(|e| bad(format!("salt: {e}")))?;
                let nonce = B64
                    .decode(&e.cipher.nonce)
                    .map_err(|e| bad(format!("nonce: {e}")))?;
                let sealed = B64
                    .decode(&e.ciphertext)
                    .map_err(|e| bad(format!("ciphertext: {e}")))?;
                if nonce.len() != 24 || sealed.len() < 16 {
                    return Err(bad("truncated nonce or ciphertext".into()));
                }
                let key = scrypt_key(passphrase, &salt, &e.kdf.params).map_err(bad)?;
                let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
                // NaCl's secretbox: the Poly1305 tag, then the ciphertext.
                let (tag, body) = sealed.split_at(16);
                let mut buf = body.to_vec();
                cipher
                    .decrypt_in_place_detached(
                        crypto_secretbox::Nonce::from_slice(&nonce),
                        b"",
                        &mut buf,
                        crypto_secretbox::Tag::from_slice(tag),
                    )
                    .map_err(|_| SignError::BadPassphrase {
                        what: what.to_owned(),
                    })?;
                buf
            }
            "PRIVATE KEY" => p.contents().to_vec(),
            other => {
                return Err(bad(format!(
                    "a PEM {other:?} block, expected {ENCRYPTED_PEM:?} or \"PRIVATE KEY\""
                )));
            }
        };
        let pair = rsig::EcdsaKeyPair::from_pkcs8(
            &rsig::ECDSA_P256_SHA256_ASN1_SIGNING,
            &der,
            &SystemRandom::new(),
        )
        .map_err(|e| bad(format!("not an ECDSA P-256 PKCS#8 key: {e}")))?;
        Ok(Self { pair })
    }

    /// A new key pair: (the encrypted private key PEM, the public key PEM), as
    /// `cosign generate-key-pair` and `skopeo generate-sigstore-key` write them.
    pub fn generate(passphrase: &[u8]) -> Result<(String, String)> {
        let rng = SystemRandom::new();
        let pkcs8 = rsig::EcdsaKeyPair::generate_pkcs8(&rsig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| SignError::Unsupported {
                what: "generating an ECDSA P-256 key".into(),
            })?;
        let pair = rsig::EcdsaKeyPair::from_pkcs8(
            &rsig::ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .map_err(|e| SignError::Unsupported {
            what: format!("reading a generated key: {e}"),
        })?;
        let public = PublicKey {
            point: pair.public_key().as_ref().to_vec(),
        };
        let salt: [u8; 32] = random()?;
        let nonce: [u8; 24] = random()?;
        let params = ScryptParams {
            N: 32768,
            r: 8,
            p: 1,
        };
        let key = scrypt_key(passphrase, &salt, &params).map_err(|why| SignError::BadKey {
            what: "generated".into(),
            why,
        })?;
        let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
        let mut buf = pkcs8.as_ref().to_vec();
        let tag = cipher
            .encrypt_in_place_detached(crypto_secretbox::Nonce::from_slice(&nonce), b"", &mut buf)
            .map_err(|_| SignError::Unsupported {
                what: "encrypting the private key".into(),
            })?;
        let mut sealed = tag.to_vec();
        sealed.extend_from_slice(&buf);
        let enc = Encrypted {
            kdf: Kdf {
                name: "scrypt".into(),
                params,
                salt: B64.encode(salt),
            },
            cipher: Cipher {
                name: "nacl/secretbox".into(),
                nonce: B64.encode(nonce),
            },
            ciphertext: B64.encode(sealed),
        };
        let json = serde_json::to_vec(&enc).map_err(|e| SignError::Unsupported {
            what: format!("encoding the private key: {e}"),
        })?;
        Ok((
            pem::encode(&pem::Pem::new(ENCRYPTED_PEM, json)),
            public.to_pem(),
        ))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            point: self.pair.public_key().as_ref().to_vec(),
        }
    }

    /// An ASN.1 ECDSA P-256 signature (SHA-256) of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| SignError::Unsupported {
                what: "ECDSA signing failed".into(),
            })
    }
}

/// Decodes standard base64 as Go's `encoding/base64` does (what cosign and containers/image
/// write and read): line breaks are ignored, so wrapped values (cosign's PKI signatures) read.
pub fn decode_b64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let joined: String = s.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
    B64.decode(joined.trim())
}

/// The annotation holding the PEM signing certificate of a keyless (Fulcio) or PKI signature.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The annotation holding the PEM intermediate chain of the signing certificate (root last).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";

/// A sigstore signature as stored: the payload, its base64 signature and the layer's other
/// annotations (the certificate, its chain and the Rekor bundle, when cosign wrote them), which
/// are kept so that a copied signature still verifies.
#[derive(Debug, Clone)]
pub struct Signature {
    pub payload: Vec<u8>,
    pub signature_b64: String,
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// The prefix of a sigstore signature in containers/image's signature files (`dir:`).
const CONTAINERS_JSON_PREFIX: &[u8] = b"\x00sigstore-json\n";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainersJson {
    mime_type: String,
    payload: String,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

impl Signature {
    /// Reads a sigstore signature as containers/image stores it in a file (`dir:` images):
    /// `\0sigstore-json\n`, then `{"mimeType", "payload" (base64), "annotations"}`.
    pub fn from_containers_file(bytes: &[u8]) -> Result<Self> {
        let bad = |why: String| SignError::BadSignature { why };
        let json = bytes
            .strip_prefix(CONTAINERS_JSON_PREFIX)
            .ok_or_else(|| bad("not a sigstore signature file".into()))?;
        let f: ContainersJson =
            serde_json::from_slice(json).map_err(|e| bad(format!("signature file: {e}")))?;
        if f.mime_type != PAYLOAD_MEDIA_TYPE {
            return Err(bad(format!("signature of type {:?}", f.mime_type)));
        }
        let signature_b64 = f
            .annotations
            .get(SIGNATURE_ANNOTATION)
            .cloned()
            .ok_or_else(|| bad(format!("no {SIGNATURE_ANNOTATION} annotation")))?;
        let payload = B64
            .decode(&f.payload)
            .map_err(|e| bad(format!("payload is not base64: {e}")))?;
        let mut annotations = f.annotations;
        annotations.remove(SIGNATURE_ANNOTATION);
        Ok(Self {
            payload,
            signature_b64,
            annotations,
        })
    }

    /// The signature's bytes (its annotation is base64).
    pub fn raw_signature(&self) -> Result<Vec<u8>> {
        decode_b64(&self.signature_b64).map_err(|e| SignError::BadSignature {
            why: format!("the signature annotation is not base64: {e}"),
        })
    }

    /// Signs a new payload for `reference` at `digest`.
    pub fn create(key: &PrivateKey, reference: &str, digest: &Digest) -> Result<Self> {
        let payload =
            serde_json::to_vec(&Payload::new(PAYLOAD_TYPE, reference, digest)).map_err(|e| {
                SignError::Unsupported {
                    what: format!("encoding the payload: {e}"),
                }
            })?;
        let sig = key.sign(&payload)?;
        Ok(Self {
            payload,
            signature_b64: B64.encode(sig),
            annotations: std::collections::BTreeMap::new(),
        })
    }

    /// Verifies the signature with `key`, then parses the payload (only verified bytes are
    /// parsed) and checks that it names `digest`. Returns the payload for the identity check.
    pub fn verify(&self, key: &PublicKey, digest: &Digest) -> Result<Payload> {
        key.verify(&self.payload, &self.raw_signature()?)?;
        let p = Payload::parse(&self.payload, PAYLOAD_TYPE)?;
        p.check_digest(digest)?;
        Ok(p)
    }
}

/// What signs images on their way to a destination.
#[derive(Debug)]
pub enum Signer {
    /// `--sign-by-sigstore-private-key`.
    Sigstore(PrivateKey),
    /// `--sign-by FINGERPRINT`: a simple signature made by `gpg` from the caller's keyring.
    Gpg {
        fingerprint: String,
        passphrase_file: Option<std::path::PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_and_sign() {
        let (private, public) = PrivateKey::generate(b"pass").expect("generate");
        assert!(private.starts_with("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----"));
        let key = PrivateKey::from_pem(private.as_bytes(), b"pass", "k").expect("open");
        assert!(matches!(
            PrivateKey::from_pem(private.as_bytes(), b"wrong", "k"),
            Err(SignError::BadPassphrase { .. })
        ));
        let public = PublicKey::from_pem(public.as_bytes(), "pub").expect("public");
        assert_eq!(public, key.public_key());
        let d = wharf_oci::digest::sha256(b"manifest");
        let sig = Signature::create(&key, "example.com/a:1", &d).expect("sign");
        let p = sig.verify(&public, &d).expect("verify");
        assert_eq!(p.critical.identity.docker_reference, "example.com/a:1");
        assert!(
            sig.verify(&public, &wharf_oci::digest::sha256(b"other"))
                .is_err()
        );
        let mut tampered = sig.clone();
        tampered.payload = String::from_utf8(tampered.payload)
            .expect("utf8")
            .replace("example.com/a:1", "example.com/a:2")
            .into_bytes();
        assert!(tampered.verify(&public, &d).is_err());
        let (_, other) = PrivateKey::generate(b"").expect("generate");
        let other = PublicKey::from_pem(other.as_bytes(), "other").expect("public");
        assert!(sig.verify(&other, &d).is_err());
    }
}
