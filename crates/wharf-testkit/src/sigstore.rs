//! Keyless sigstore test material, made here rather than fetched: a Fulcio-like CA (root and
//! intermediate), short-lived leaf certificates with Fulcio's extensions (OIDC issuer v1 and
//! v2, SAN email, code-signing EKU), a Rekor-like log key and the `dev.sigstore.cosign/bundle`
//! SETs it signs, as cosign writes them. Signing uses `ring` directly, not Wharf's code, so a
//! verifier bug is not mirrored by the material.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType, date_time_ymd,
};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use sha2::Digest as _;

/// Fulcio's OIDC issuer extensions (v1: raw bytes; v2: a DER UTF8String).
const ISSUER_V1: &[u64] = &[1, 3, 6, 1, 4, 1, 57264, 1, 1];
const ISSUER_V2: &[u64] = &[1, 3, 6, 1, 4, 1, 57264, 1, 8];

/// A root CA and an intermediate (both ECDSA P-256), as Fulcio's chain is.
pub struct Ca {
    root: rcgen::Certificate,
    inter: rcgen::Certificate,
    inter_key: KeyPair,
}

/// What a leaf certificate says.
#[derive(Debug, Clone)]
pub struct LeafSpec {
    pub email: String,
    pub issuer: String,
    /// Validity, seconds since 1970.
    pub not_before: u64,
    pub not_after: u64,
    /// Whether the leaf has extendedKeyUsage codeSigning (else serverAuth).
    pub code_signing: bool,
}

/// A leaf certificate and its private key.
pub struct Leaf {
    pub cert_pem: String,
    /// The certificate's DER (what a Rekor entry logs, as PEM).
    pub cert_der: Vec<u8>,
    key_pkcs8: Vec<u8>,
}

fn ca_params(cn: &str, code_signing: bool) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "sigstore.dev");
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    if code_signing {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    }
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2090, 1, 1);
    p
}

impl Ca {
    /// A new CA. Two CAs made by this function have the same names but different keys, so a
    /// leaf of one presented to the other fails on its signature, not on a name.
    pub fn new() -> Self {
        let root_key = KeyPair::generate().expect("key");
        let root = ca_params("sigstore", false)
            .self_signed(&root_key)
            .expect("root");
        let inter_key = KeyPair::generate().expect("key");
        let inter = ca_params("sigstore-intermediate", true)
            .signed_by(&inter_key, &root, &root_key)
            .expect("intermediate");
        Self {
            root,
            inter,
            inter_key,
        }
    }

    /// The root, PEM (what a policy's `caPath` holds).
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    /// The chain annotation cosign writes: the intermediate, then the root.
    pub fn chain_pem(&self) -> String {
        format!("{}{}", self.inter.pem(), self.root.pem())
    }

    /// A leaf issued by the intermediate, with an empty subject and the SAN email, as Fulcio
    /// issues them.
    pub fn leaf(&self, spec: &LeafSpec) -> Leaf {
        let key = KeyPair::generate().expect("key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.distinguished_name = DistinguishedName::new();
        p.subject_alt_names = vec![SanType::Rfc822Name(
            spec.email.as_str().try_into().expect("ia5 email"),
        )];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![if spec.code_signing {
            ExtendedKeyUsagePurpose::CodeSigning
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        p.not_before = date_time_ymd(1970, 1, 1) + Duration::from_secs(spec.not_before);
        p.not_after = date_time_ymd(1970, 1, 1) + Duration::from_secs(spec.not_after);
        let mut v2 = vec![0x0c, u8::try_from(spec.issuer.len()).expect("short issuer")];
        v2.extend_from_slice(spec.issuer.as_bytes());
        p.custom_extensions = vec![
            CustomExtension::from_oid_content(ISSUER_V1, spec.issuer.as_bytes().to_vec()),
            CustomExtension::from_oid_content(ISSUER_V2, v2),
        ];
        let cert = p
            .signed_by(&key, &self.inter, &self.inter_key)
            .expect("leaf");
        Leaf {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pkcs8: key.serialize_der(),
        }
    }
}

impl Default for Ca {
    fn default() -> Self {
        Self::new()
    }
}

/// An ASN.1 ECDSA P-256 SHA-256 signature of `msg` by the PKCS#8 key `pkcs8`.
fn sign(pkcs8: &[u8], msg: &[u8]) -> Vec<u8> {
    let rng = SystemRandom::new();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng).expect("pkcs8 key");
    pair.sign(&rng, msg).expect("sign").as_ref().to_vec()
}

impl Leaf {
    /// The base64 signature of `payload` by the leaf's key (the `dev.cosignproject.cosign/
    /// signature` annotation).
    pub fn sign_b64(&self, payload: &[u8]) -> String {
        B64.encode(sign(&self.key_pkcs8, payload))
    }
}

/// A transparency log's signing key.
pub struct Rekor {
    key: KeyPair,
}

/// What a Rekor entry (hashedrekord 0.0.1) logs.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The DER of the signing certificate (or public key) it names.
    pub cert_der: &'a [u8],
    /// The base64 signature it names.
    pub signature_b64: &'a str,
    /// The payload whose SHA-256 it names.
    pub payload: &'a [u8],
    pub integrated_time: u64,
}

impl Rekor {
    pub fn new() -> Self {
        Self {
            key: KeyPair::generate().expect("key"),
        }
    }

    /// The log's public key, PEM (`rekorPublicKeyPath`).
    pub fn public_pem(&self) -> String {
        self.key.public_key_pem()
    }

    /// The `dev.sigstore.cosign/bundle` annotation for `entry`: the payload written in
    /// cosign's field order, the SET over its canonical (RFC 8785) form, written by hand here.
    pub fn bundle(&self, entry: &Entry<'_>) -> String {
        let cert_pem = pem_block("CERTIFICATE", entry.cert_der);
        let body = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {
                    "algorithm": "sha256",
                    "value": hex_sha256(entry.payload),
                }},
                "signature": {
                    "content": entry.signature_b64,
                    "publicKey": {"content": B64.encode(cert_pem)},
                },
            },
        });
        let body = B64.encode(serde_json::to_vec(&body).expect("json"));
        let log_id = hex_sha256(&self.key.public_key_der());
        let t = entry.integrated_time;
        let canonical =
            format!(r#"{{"body":"{body}","integratedTime":{t},"logID":"{log_id}","logIndex":7}}"#);
        let set = B64.encode(sign(&self.key.serialize_der(), canonical.as_bytes()));
        format!(
            r#"{{"SignedEntryTimestamp":"{set}","Payload":{{"body":"{body}", "integratedTime": {t}, "logIndex": 7, "logID": "{log_id}"}}}}"#
        )
    }
}

impl Default for Rekor {
    fn default() -> Self {
        Self::new()
    }
}

fn hex_sha256(b: &[u8]) -> String {
    use std::fmt::Write as _;
    sha2::Sha256::digest(b)
        .iter()
        .fold(String::new(), |mut out, x| {
            let _ = write!(out, "{x:02x}");
            out
        })
}

/// A PEM block of `der`, 64 columns.
pub fn pem_block(tag: &str, der: &[u8]) -> String {
    let b = B64.encode(der);
    let mut out = format!("-----BEGIN {tag}-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("ascii"));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(tag);
    out.push_str("-----\n");
    out
}
