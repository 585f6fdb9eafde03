//! TLS trust for one registry host: the system roots, plus the CAs (`*.crt`) and client
//! certificate pairs (`*.cert` + `*.key`) of its certificate directory, laid out like
//! containers-certs.d(5). `--cert-dir` replaces the lookup; otherwise the first existing of
//! [`ConfigPaths::cert_dirs`] is used.
//!
//! Trust follows Go's crypto/x509, which skopeo, buildah and podman use: a certificate placed in
//! a cert dir is a trust anchor, and a server presenting exactly that certificate is trusted even
//! when it is marked `CA:TRUE` (what `openssl req -x509`, as Docker's documentation shows, makes).
//! rustls alone refuses such a server (`CaUsedAsEndEntity`); the verifier here accepts it after
//! checking the name and the validity period, as Go does for a one-certificate chain.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::error::{RegistryError, Result};
use crate::paths::ConfigPaths;

/// What a certificate directory holds.
#[derive(Debug, Default)]
pub struct CertDir {
    pub path: Option<PathBuf>,
    /// Extra trusted CAs (DER).
    pub cas: Vec<CertificateDer<'static>>,
    /// A client identity: certificate chain and key.
    pub identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

/// Picks the certificate directory for `host`: `explicit` when given, else the first existing
/// per-host directory.
pub fn cert_dir_for(paths: &ConfigPaths, explicit: Option<&Path>, host: &str) -> Result<CertDir> {
    let dir = match explicit {
        Some(d) => Some(d.to_owned()),
        None => paths.cert_dirs(host).into_iter().find(|d| d.is_dir()),
    };
    match dir {
        Some(d) => load(&d),
        None => Ok(CertDir::default()),
    }
}

/// Reads one certificate directory. A `.key` without its `.cert` (or the reverse) is an error,
/// as it is for containers/image.
pub fn load(dir: &Path) -> Result<CertDir> {
    let err = |what: String| RegistryError::CertDir {
        path: dir.to_owned(),
        what,
    };
    let rd = std::fs::read_dir(dir).map_err(|e| err(format!("cannot read it: {e}")))?;
    let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    let mut out = CertDir {
        path: Some(dir.to_owned()),
        ..CertDir::default()
    };
    let read = |p: &Path| std::fs::read(p).map_err(|e| err(format!("{}: {e}", p.display())));
    let certs_of = |p: &Path, pem: &[u8]| -> Result<Vec<CertificateDer<'static>>> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| err(format!("{}: not a PEM certificate: {e}", p.display())))?;
        if certs.is_empty() {
            return Err(err(format!("{}: no PEM certificate in it", p.display())));
        }
        Ok(certs)
    };
    for p in &names {
        let Some(ext) = p.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        match ext {
            "crt" => {
                let pem = read(p)?;
                out.cas.extend(certs_of(p, &pem)?);
            }
            "cert" => {
                let key = p.with_extension("key");
                if !key.exists() {
                    return Err(err(format!(
                        "missing key {} for client certificate {}",
                        key.display(),
                        p.display()
                    )));
                }
                if out.identity.is_some() {
                    return Err(err("more than one client certificate pair".to_owned()));
                }
                let chain = certs_of(p, &read(p)?)?;
                let k = PrivateKeyDer::from_pem_slice(&read(&key)?)
                    .map_err(|e| err(format!("{}: not a PEM private key: {e}", key.display())))?;
                out.identity = Some((chain, k));
            }
            "key" => {
                let cert = p.with_extension("cert");
                if !cert.exists() {
                    return Err(err(format!(
                        "missing client certificate {} for key {}",
                        cert.display(),
                        p.display()
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The TLS configuration for one host: system and bundled roots plus the cert dir's CAs, its
/// client certificate, and no verification at all when `insecure`.
pub fn client_config(certs: &CertDir, insecure: bool) -> Result<rustls::ClientConfig> {
    let bad = |what: String| RegistryError::CertDir {
        path: certs.path.clone().unwrap_or_default(),
        what,
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // Unreadable system certificates are skipped, as Go's loader does.
    let native = rustls_native_certs::load_native_certs();
    let _ = roots.add_parsable_certificates(native.certs);
    for ca in &certs.cas {
        // A certificate webpki cannot use as an anchor is still pinned by exact match below.
        let _ = roots.add(ca.clone());
    }
    let provider = provider();
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| bad(format!("no usable trust anchor: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = if insecure {
        Arc::new(NoVerify(webpki))
    } else {
        Arc::new(DirTrust {
            inner: webpki,
            pinned: certs.cas.clone(),
        })
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS set-up: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match &certs.identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain.clone(), key.clone_key())
            .map_err(|e| bad(format!("unusable client certificate/key: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    Ok(config)
}

/// Web PKI verification, plus Go's acceptance of a trusted certificate presented as the
/// server's own.
#[derive(Debug)]
struct DirTrust {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    /// The certificates of the cert dir: trust anchors.
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for DirTrust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let err = match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return Err(err);
        }
        // The leaf is itself a trust anchor: the chain is that one certificate. Go then checks
        // the name and the validity period; the handshake signature is checked as usual.
        let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, server_name)?;
        match validity(end_entity.as_ref()) {
            Some((not_before, not_after))
                if (not_before..=not_after).contains(&now.as_secs().cast_signed()) =>
            {
                Ok(ServerCertVerified::assertion())
            }
            Some(_) => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired,
            )),
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::BadEncoding,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `--tls-verify=false` / `insecure = true`: any certificate (the handshake signatures are still
/// checked, so the connection is at least to the holder of the presented key).
#[derive(Debug)]
struct NoVerify(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// One DER element: (tag, content, rest).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The validity period of an X.509 certificate, in Unix seconds.
fn validity(cert: &[u8]) -> Option<(i64, i64)> {
    let (_, certificate, _) = der(cert)?;
    let (_, tbs, _) = der(certificate)?;
    let mut rest = tbs;
    // [0] version (optional), serial, signature algorithm, issuer, then validity.
    if rest.first() == Some(&0xa0) {
        rest = der(rest)?.2;
    }
    for _ in 0..3 {
        rest = der(rest)?.2;
    }
    let (_, validity, _) = der(rest)?;
    let (t1, before, rest) = der(validity)?;
    let (t2, after, _) = der(rest)?;
    Some((asn1_time(t1, before)?, asn1_time(t2, after)?))
}

/// UTCTime (`YYMMDDHHMMSSZ`, tag 0x17) or GeneralizedTime (`YYYYMMDDHHMMSSZ`, tag 0x18).
fn asn1_time(tag: u8, s: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(s).ok()?.strip_suffix('Z')?;
    let full = match tag {
        0x17 if s.len() == 12 => {
            let yy: i64 = s[..2].parse().ok()?;
            format!("{}{s}", if yy >= 50 { "19" } else { "20" })
        }
        0x18 if s.len() == 14 => s.to_owned(),
        _ => return None,
    };
    let t = chrono::NaiveDateTime::parse_from_str(&full, "%Y%m%d%H%M%S").ok()?;
    Some(t.and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_key_is_an_error_and_bad_pem_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("client.key"), "x").unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("missing client certificate") && e.contains("client.cert"),
            "{e}"
        );
        std::fs::remove_file(dir.path().join("client.key")).unwrap();
        std::fs::write(dir.path().join("ca.crt"), "not pem").unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("ca.crt"), "{e}");
        std::fs::remove_file(dir.path().join("ca.crt")).unwrap();
        let empty = load(dir.path()).unwrap();
        assert!(empty.cas.is_empty() && empty.identity.is_none());
    }

    #[test]
    fn first_existing_per_host_dir_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let paths = ConfigPaths::isolated(dir.path());
        let sys = dir.path().join("etc/containers/certs.d/reg.example:5000");
        std::fs::create_dir_all(&sys).unwrap();
        let c = cert_dir_for(&paths, None, "reg.example:5000").unwrap();
        assert_eq!(c.path.as_deref(), Some(sys.as_path()));
        let user = paths
            .config_home()
            .unwrap()
            .join("containers/certs.d/reg.example:5000");
        std::fs::create_dir_all(&user).unwrap();
        let c = cert_dir_for(&paths, None, "reg.example:5000").unwrap();
        assert_eq!(c.path.as_deref(), Some(user.as_path()));
        assert!(
            cert_dir_for(&paths, None, "none.example")
                .unwrap()
                .path
                .is_none()
        );
    }

    #[test]
    fn asn1_times() {
        assert_eq!(asn1_time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(asn1_time(0x17, b"240229120000Z"), Some(1_709_208_000));
        assert_eq!(asn1_time(0x18, b"20240229120000Z"), Some(1_709_208_000));
        assert_eq!(asn1_time(0x17, b"2402291200Z"), None);
    }
}
