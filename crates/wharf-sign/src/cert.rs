//! Certificates of keyless (Fulcio) and PKI sigstore signatures, verified offline as
//! containers/image does (`signature/fulcio_cert.go`, `signature/pki_cert.go`): the signing
//! certificate (`dev.sigstore.cosign/certificate`) must chain, through the untrusted
//! intermediates of `dev.sigstore.cosign/chain` (and, for PKI, the policy's intermediates), to a
//! CA the policy trusts, at the relevant time (the Rekor integrated time for Fulcio, whose
//! certificates live ten minutes; now for PKI), for code signing; and it must name the subject
//! the policy requires (Fulcio: the OIDC issuer extension and a SAN email; PKI: a SAN email
//! and/or hostname). Its public key then verifies the payload signature.
//!
//! Parsing is `x509-cert` (RustCrypto); path building, signatures, validity periods and
//! extended key usage are `rustls-webpki`, the verifier rustls already uses for TLS.

use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use x509_cert::Certificate;
use x509_cert::der::asn1::{ObjectIdentifier, Utf8StringRef};
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};

use crate::sigstore::PublicKey;

/// Fulcio's OIDC issuer extension, v1: the issuer URL as the raw extension value.
const OID_FULCIO_ISSUER_V1: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// Fulcio's OIDC issuer extension, v2: a DER UTF8String.
const OID_FULCIO_ISSUER_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
const OID_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const OID_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// id-kp-codeSigning's DER value bytes, as webpki's `KeyUsage` takes them.
const CODE_SIGNING_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
/// Certificate files and annotations larger than this are refused.
const MAX_PEM: usize = 1 << 20;

/// The `CERTIFICATE` blocks of a PEM file or annotation, as DER (other blocks are skipped, as
/// Go's `AppendCertsFromPEM` does); none is an error.
pub fn pem_certificates(bytes: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    if bytes.len() > MAX_PEM {
        return Err(format!("{what} is larger than {MAX_PEM} bytes"));
    }
    let blocks = pem::parse_many(bytes).map_err(|e| format!("{what} is not PEM: {e}"))?;
    let certs: Vec<_> = blocks
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(|b| CertificateDer::from(b.into_contents()))
        .collect();
    if certs.is_empty() {
        return Err(format!("{what} holds no PEM CERTIFICATE"));
    }
    Ok(certs)
}

/// Trusted CA certificates, checked usable as trust anchors when the policy is read.
#[derive(Debug, Clone)]
pub struct Cas(Vec<CertificateDer<'static>>);

impl Cas {
    /// The certificates of `pem_bytes` (`what` names them in errors).
    pub fn from_pem(pem_bytes: &[u8], what: &str) -> Result<Self, String> {
        let certs = pem_certificates(pem_bytes, what)?;
        for (i, c) in certs.iter().enumerate() {
            webpki::anchor_from_trusted_cert(c)
                .map_err(|e| format!("{what}: certificate {} is not usable as a CA: {e}", i + 1))?;
        }
        Ok(Self(certs))
    }

    fn anchors(&self) -> Vec<TrustAnchor<'_>> {
        self.0
            .iter()
            .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
            .collect()
    }
}

/// `sigstoreSigned.fulcio`: certificates issued by a Fulcio CA to one OIDC identity.
#[derive(Debug, Clone)]
pub struct Fulcio {
    pub cas: Cas,
    pub oidc_issuer: String,
    pub subject_email: String,
}

/// `sigstoreSigned.pki`: certificates of an X.509 PKI for one email and/or hostname.
#[derive(Debug, Clone)]
pub struct Pki {
    pub roots: Cas,
    pub intermediates: Vec<CertificateDer<'static>>,
    pub subject_email: Option<String>,
    pub subject_hostname: Option<String>,
}

/// The public key of a signing certificate: ECDSA P-256 (cosign's and Fulcio's default) or
/// RSA (PKI certificates; cosign signs with PKCS#1 v1.5 and SHA-256 with those).
#[derive(Debug, Clone)]
pub enum CertKey {
    Ecdsa(PublicKey),
    /// The DER RSAPublicKey.
    Rsa(Vec<u8>),
}

impl CertKey {
    /// Whether `signature` is this key's signature (SHA-256) of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Ecdsa(k) => k.verify_raw(message, signature),
            Self::Rsa(der) => ring::signature::UnparsedPublicKey::new(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                der,
            )
            .verify(message, signature)
            .is_ok(),
        }
    }
}

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// What the checks need of the signing certificate.
#[derive(Debug)]
pub struct Leaf {
    der: CertificateDer<'static>,
    key: Result<CertKey, String>,
    emails: Vec<String>,
    issuer_v1: Option<String>,
    issuer_v2: Option<String>,
    /// `None`: no extendedKeyUsage extension; else whether it has codeSigning.
    code_signing: Option<bool>,
}

impl Leaf {
    /// Parses the PEM signing certificate of a signature (exactly one certificate).
    pub fn from_pem(pem_bytes: &[u8]) -> Result<Self, String> {
        let mut certs = pem_certificates(pem_bytes, "the signing certificate")?;
        if certs.len() != 1 {
            return Err(format!(
                "the signing certificate annotation holds {} certificates, expected one",
                certs.len()
            ));
        }
        let der = certs.remove(0);
        let cert = Certificate::from_der(&der)
            .map_err(|e| format!("the signing certificate is not valid X.509: {e}"))?;
        let tbs = &cert.tbs_certificate;
        let spki = &tbs.subject_public_key_info;
        let key = if spki.algorithm.oid == OID_RSA {
            spki.subject_public_key
                .as_bytes()
                .map(|b| CertKey::Rsa(b.to_vec()))
                .ok_or_else(|| "the signing certificate's RSA key is not whole bytes".to_owned())
        } else {
            spki.to_der()
                .map_err(|e| e.to_string())
                .and_then(|der| PublicKey::from_spki_der(&der))
                .map(CertKey::Ecdsa)
                .map_err(|e| {
                    format!("the signing certificate's key: {e} (or RSA, for PKI certificates)")
                })
        };
        let mut leaf = Self {
            der,
            key,
            emails: Vec::new(),
            issuer_v1: None,
            issuer_v2: None,
            code_signing: None,
        };
        let mut seen = Vec::new();
        for ext in tbs.extensions.iter().flatten() {
            // Go rejects duplicate extensions; a second issuer or SAN could otherwise hide.
            if seen.contains(&ext.extn_id) {
                return Err(format!(
                    "the signing certificate has the extension {} twice",
                    ext.extn_id
                ));
            }
            seen.push(ext.extn_id);
            let value = ext.extn_value.as_bytes();
            if ext.extn_id == OID_FULCIO_ISSUER_V1 {
                leaf.issuer_v1 = Some(
                    String::from_utf8(value.to_vec())
                        .map_err(|_| "the Fulcio OIDC issuer (v1) is not UTF-8".to_owned())?,
                );
            } else if ext.extn_id == OID_FULCIO_ISSUER_V2 {
                leaf.issuer_v2 = Some(
                    Utf8StringRef::from_der(value)
                        .map_err(|e| {
                            format!("the Fulcio OIDC issuer (v2) is not a UTF8String: {e}")
                        })?
                        .as_str()
                        .to_owned(),
                );
            } else if ext.extn_id == OID_SAN {
                let san = SubjectAltName::from_der(value)
                    .map_err(|e| format!("the signing certificate's subjectAltName: {e}"))?;
                for n in san.0 {
                    if let GeneralName::Rfc822Name(e) = n {
                        leaf.emails.push(e.to_string());
                    }
                }
            } else if ext.extn_id == OID_EKU {
                let eku = ExtendedKeyUsage::from_der(value)
                    .map_err(|e| format!("the signing certificate's extendedKeyUsage: {e}"))?;
                leaf.code_signing = Some(eku.0.contains(&OID_CODE_SIGNING));
            }
        }
        Ok(leaf)
    }

    /// The certificate's DER (what a Rekor entry logs).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The OIDC issuer Fulcio recorded (v1 and v2 extensions must agree when both are there).
    fn fulcio_issuer(&self) -> Result<&str, String> {
        match (&self.issuer_v1, &self.issuer_v2) {
            (Some(a), Some(b)) if a != b => Err(format!(
                "the certificate's OIDC issuer extensions disagree: v1 {a:?}, v2 {b:?}"
            )),
            (Some(a), _) | (None, Some(a)) => Ok(a),
            (None, None) => {
                Err("the certificate has no Fulcio OIDC issuer extension (1.3.6.1.4.1.57264.1.1 or .1.8)".into())
            }
        }
    }

    /// Builds a path to `cas` through `intermediates`, valid at `time`, for code signing.
    /// `eku_required`: the leaf must have the extendedKeyUsage extension (else, as Go's
    /// verifier, a leaf without it may sign anything).
    fn chain(
        &self,
        cas: &Cas,
        intermediates: &[CertificateDer<'_>],
        time: u64,
        when: &str,
        whose: &str,
        eku_required: bool,
    ) -> Result<(), String> {
        match self.code_signing {
            Some(true) => {}
            None if !eku_required => {}
            Some(false) => {
                return Err(
                    "the signing certificate's extendedKeyUsage does not include codeSigning"
                        .into(),
                );
            }
            None => {
                return Err(
                    "the signing certificate has no extendedKeyUsage (a Fulcio certificate has codeSigning)"
                        .into(),
                );
            }
        }
        let ee = webpki::EndEntityCert::try_from(&self.der)
            .map_err(|e| format!("the signing certificate is not usable: {e}"))?;
        let anchors = cas.anchors();
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            intermediates,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(time)),
            webpki::KeyUsage::required_if_present(CODE_SIGNING_DER),
            None,
            None,
        )
        .map(|_| ())
        .map_err(|e| match e {
            webpki::Error::CertExpired { .. } => {
                format!("the signing certificate (or one of its issuers) had expired {when}")
            }
            webpki::Error::CertNotValidYet { .. } => {
                format!("the signing certificate (or one of its issuers) was not yet valid {when}")
            }
            webpki::Error::UnknownIssuer => {
                format!("the signing certificate does not chain to {whose}")
            }
            webpki::Error::RequiredEkuNotFoundContext(_) => {
                "an issuer of the signing certificate does not allow code signing".into()
            }
            other => format!("the signing certificate does not verify against {whose}: {other}"),
        })
    }

    fn require_email(&self, email: &str) -> Result<(), String> {
        if self.emails.iter().any(|e| e == email) {
            Ok(())
        } else {
            Err(format!(
                "the signing certificate is for {:?}, the policy requires subjectEmail {email:?}",
                self.emails
            ))
        }
    }

    fn key(&self) -> Result<CertKey, String> {
        self.key.clone()
    }
}

fn untrusted_chain(chain_pem: Option<&str>) -> Result<Vec<CertificateDer<'static>>, String> {
    match chain_pem {
        // Every certificate of the chain is only a candidate intermediate: a root in it is not
        // trusted unless the policy's CA file has it.
        Some(c) if !c.trim().is_empty() => {
            pem_certificates(c.as_bytes(), "the certificate chain annotation")
        }
        _ => Ok(Vec::new()),
    }
}

impl Fulcio {
    /// Checks `leaf` (with the untrusted `chain`) at the Rekor integrated time `time` and
    /// returns its key.
    pub fn verify(&self, leaf: &Leaf, chain: Option<&str>, time: u64) -> Result<CertKey, String> {
        let intermediates = untrusted_chain(chain)?;
        leaf.chain(
            &self.cas,
            &intermediates,
            time,
            &format!("at the Rekor integrated time ({time}, seconds since 1970)"),
            "the policy's Fulcio CA (fulcio.caPath/caData)",
            // Fulcio always names code signing: requiring it keeps another kind of
            // certificate of the same CA from signing images.
            true,
        )?;
        let issuer = leaf.fulcio_issuer()?;
        if issuer != self.oidc_issuer {
            return Err(format!(
                "the certificate's OIDC issuer is {issuer:?}, the policy requires oidcIssuer {:?}",
                self.oidc_issuer
            ));
        }
        leaf.require_email(&self.subject_email)?;
        leaf.key()
    }
}

impl Pki {
    /// Checks `leaf` (with the untrusted `chain`) now and returns its key.
    pub fn verify(&self, leaf: &Leaf, chain: Option<&str>) -> Result<CertKey, String> {
        if let Some(e) = &self.subject_email {
            leaf.require_email(e)?;
        }
        if let Some(h) = &self.subject_hostname {
            let name = ServerName::try_from(h.as_str())
                .map_err(|e| format!("subjectHostname {h:?}: {e}"))?;
            let ee = webpki::EndEntityCert::try_from(&leaf.der)
                .map_err(|e| format!("the signing certificate is not usable: {e}"))?;
            ee.verify_is_valid_for_subject_name(&name).map_err(|_| {
                format!("the signing certificate is not for the policy's subjectHostname {h:?}")
            })?;
        }
        let mut intermediates = self.intermediates.clone();
        intermediates.extend(untrusted_chain(chain)?);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        leaf.chain(
            &self.roots,
            &intermediates,
            now,
            "now",
            "the policy's PKI roots (pki.caRootsPath/caRootsData)",
            false,
        )?;
        leaf.key()
    }
}
