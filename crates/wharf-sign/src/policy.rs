//! containers-policy.json(5): which images may enter, per transport and scope.
//!
//! The requirements for an image are those of the most specific scope of its transport that
//! the policy names (the image's own identity, then each enclosing namespace, then the
//! transport's `""` scope), else the policy's `default`. Every requirement of the list must
//! accept the image; a signature requirement accepts it when at least one of its signatures
//! verifies with the requirement's keys and names an identity `signedIdentity` accepts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use crate::error::{Result, SignError};
use crate::identity::SignedIdentity;
use crate::image::PolicyImage;
use crate::registries_d::RegistriesD;
use crate::sigstore::{PublicKey, Signature};
use crate::simple::GpgKeys;
use crate::{attach, cert, lookaside, rekor, simple};

/// Policy files larger than this are refused.
const MAX_POLICY: u64 = 1 << 20;

/// Transports containers/image knows; a policy naming another is invalid.
const TRANSPORTS: &[&str] = &[
    "atomic",
    "containers-storage",
    "dir",
    "docker",
    "docker-archive",
    "docker-daemon",
    "oci",
    "oci-archive",
    "sif",
    "tarball",
];

/// One requirement of a policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type")]
pub enum Requirement {
    #[serde(rename = "insecureAcceptAnything")]
    InsecureAcceptAnything(Empty),
    #[serde(rename = "reject")]
    Reject(Empty),
    #[serde(rename = "signedBy")]
    SignedBy(SignedBy),
    #[serde(rename = "sigstoreSigned")]
    SigstoreSigned(Box<SigstoreSigned>),
    #[serde(rename = "signedBaseLayer")]
    SignedBaseLayer(SignedBaseLayer),
}

/// A requirement without fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `signedBy`: a simple-signing (GPG) signature by one of the keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignedBy {
    pub key_type: String,
    pub key_path: Option<PathBuf>,
    pub key_paths: Option<Vec<PathBuf>>,
    pub key_data: Option<String>,
    #[serde(default)]
    pub signed_identity: SignedIdentity,
}

/// `sigstoreSigned`: a sigstore signature by the public key (or a Fulcio certificate).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SigstoreSigned {
    pub key_path: Option<PathBuf>,
    pub key_paths: Option<Vec<PathBuf>>,
    pub key_data: Option<String>,
    pub key_datas: Option<Vec<String>>,
    pub fulcio: Option<FulcioConfig>,
    pub rekor_public_key_path: Option<PathBuf>,
    pub rekor_public_key_paths: Option<Vec<PathBuf>>,
    pub rekor_public_key_data: Option<String>,
    pub rekor_public_key_datas: Option<Vec<String>>,
    pub pki: Option<PkiConfig>,
    #[serde(default)]
    pub signed_identity: SignedIdentity,
}

/// `sigstoreSigned.fulcio`: keyless signatures, a certificate from this Fulcio CA for this
/// OIDC identity (Rekor keys are then required: the SET's time is when the short-lived
/// certificate must have been valid).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FulcioConfig {
    pub ca_path: Option<PathBuf>,
    pub ca_data: Option<String>,
    pub oidc_issuer: Option<String>,
    pub subject_email: Option<String>,
}

/// `sigstoreSigned.pki`: a certificate of this X.509 PKI for this email and/or hostname.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PkiConfig {
    pub ca_roots_path: Option<PathBuf>,
    pub ca_roots_data: Option<String>,
    pub ca_intermediates_path: Option<PathBuf>,
    pub ca_intermediates_data: Option<String>,
    pub subject_email: Option<String>,
    pub subject_hostname: Option<String>,
}

/// `signedBaseLayer`: parsed, never satisfied (containers/image does not implement it either).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SignedBaseLayer {
    pub base_layer_identity: serde_json::Value,
}

impl Requirement {
    fn name(&self) -> &'static str {
        match self {
            Self::InsecureAcceptAnything(_) => "insecureAcceptAnything",
            Self::Reject(_) => "reject",
            Self::SignedBy(_) => "signedBy",
            Self::SigstoreSigned(_) => "sigstoreSigned",
            Self::SignedBaseLayer(_) => "signedBaseLayer",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    default: Vec<Requirement>,
    #[serde(default)]
    transports: BTreeMap<String, BTreeMap<String, Vec<Requirement>>>,
}

/// A parsed policy, with key files read (relative paths are relative to the policy's
/// directory).
#[derive(Debug, Clone)]
pub struct Policy {
    default: Vec<Resolved>,
    transports: BTreeMap<String, BTreeMap<String, Vec<Resolved>>>,
}

/// A requirement with its keys loaded.
#[derive(Debug, Clone)]
enum Resolved {
    Accept,
    Reject,
    SignedBy {
        keys: Vec<pgp::SignedPublicKey>,
        identity: SignedIdentity,
    },
    Sigstore {
        trust: SigstoreTrust,
        /// Rekor keys: when set, a SET by one of them must log the signature.
        rekor: Vec<PublicKey>,
        identity: SignedIdentity,
    },
    Unsupported {
        name: &'static str,
        why: String,
    },
}

/// What a `sigstoreSigned` signature's key must be.
#[derive(Debug, Clone)]
enum SigstoreTrust {
    Keys(Vec<PublicKey>),
    Fulcio(cert::Fulcio),
    Pki(cert::Pki),
}

impl Resolved {
    fn name(&self) -> String {
        match self {
            Self::Accept => "insecureAcceptAnything".into(),
            Self::Reject => "reject".into(),
            Self::SignedBy { .. } => "signedBy".into(),
            Self::Sigstore { .. } => "sigstoreSigned".into(),
            Self::Unsupported { name, .. } => (*name).to_owned(),
        }
    }
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let f = std::fs::File::open(path).map_err(SignError::io("opening", path))?;
    let mut b = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut b)
        .map_err(SignError::io("reading", path))?;
    if b.len() as u64 > cap {
        return Err(SignError::BadKey {
            what: path.display().to_string(),
            why: format!("larger than {cap} bytes"),
        });
    }
    Ok(b)
}

impl Policy {
    /// Parses `text`, read from `path` (which relative key paths are resolved against).
    pub fn parse(text: &[u8], path: &Path) -> Result<Self> {
        let bad = |why: String| SignError::BadPolicy {
            path: path.to_owned(),
            why,
        };
        let f: PolicyFile = serde_json::from_slice(text).map_err(|e| bad(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("/"));
        let resolve_list = |list: Vec<Requirement>, scope: &str| -> Result<Vec<Resolved>> {
            if list.is_empty() {
                return Err(bad(format!(
                    "{scope}: an empty list of requirements (use [{{\"type\":\"insecureAcceptAnything\"}}] to accept anything)"
                )));
            }
            list.into_iter()
                .map(|r| resolve(r, base).map_err(|why| bad(format!("{scope}: {why}"))))
                .collect()
        };
        let default = resolve_list(f.default, "default")?;
        let mut transports = BTreeMap::new();
        for (t, scopes) in f.transports {
            if !TRANSPORTS.contains(&t.as_str()) {
                return Err(bad(format!("unknown transport {t:?}")));
            }
            let mut m = BTreeMap::new();
            for (scope, list) in scopes {
                let label = format!("transports.{t}[{scope:?}]");
                m.insert(scope, resolve_list(list, &label)?);
            }
            transports.insert(t, m);
        }
        Ok(Self {
            default,
            transports,
        })
    }

    /// Reads and parses the policy file at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_capped(path, MAX_POLICY)?;
        Self::parse(&text, path)
    }

    fn requirements(&self, image: &PolicyImage<'_>) -> (&[Resolved], String) {
        if let Some(scopes) = self.transports.get(image.transport) {
            let candidates = std::iter::once(&image.scopes.identity)
                .chain(&image.scopes.namespaces)
                .map(String::as_str)
                .chain(std::iter::once(""));
            for c in candidates {
                if let Some(r) = scopes.get(c) {
                    return (r, format!("transports.{}[{c:?}]", image.transport));
                }
            }
        }
        (&self.default, "default".into())
    }
}

fn resolve(r: Requirement, base: &Path) -> Result<Resolved, String> {
    let name = r.name();
    let abs = |p: &Path| base.join(p);
    let one_source = |n: usize| {
        if n == 1 {
            Ok(())
        } else {
            Err(format!(
                "{name}: exactly one of keyPath, keyPaths, keyData{} must be set",
                if name == "sigstoreSigned" {
                    ", keyDatas, fulcio"
                } else {
                    ""
                }
            ))
        }
    };
    Ok(match r {
        Requirement::InsecureAcceptAnything(_) => Resolved::Accept,
        Requirement::Reject(_) => Resolved::Reject,
        Requirement::SignedBaseLayer(_) => Resolved::Unsupported {
            name,
            why: "signedBaseLayer is not implemented (by containers/image either)".into(),
        },
        Requirement::SignedBy(s) => {
            s.signed_identity.validate()?;
            if s.key_type != "GPGKeys" {
                return Err(format!(
                    "signedBy: keyType {:?} is not supported (GPGKeys is)",
                    s.key_type
                ));
            }
            one_source(
                usize::from(s.key_path.is_some())
                    + usize::from(s.key_paths.is_some())
                    + usize::from(s.key_data.is_some()),
            )?;
            let mut material = Vec::new();
            for p in s.key_path.iter().chain(s.key_paths.iter().flatten()) {
                material.push(read_capped(&abs(p), 1 << 20).map_err(|e| e.to_string())?);
            }
            if let Some(d) = &s.key_data {
                material.push(decode(d, "keyData")?);
            }
            Resolved::SignedBy {
                keys: GpgKeys { material }.parse().map_err(|e| e.to_string())?,
                identity: s.signed_identity,
            }
        }
        Requirement::SigstoreSigned(s) => {
            s.signed_identity.validate()?;
            one_source(
                usize::from(s.key_path.is_some())
                    + usize::from(s.key_paths.is_some())
                    + usize::from(s.key_data.is_some())
                    + usize::from(s.key_datas.is_some())
                    + usize::from(s.fulcio.is_some())
                    + usize::from(s.pki.is_some()),
            )?;
            let rekor_sources = usize::from(s.rekor_public_key_path.is_some())
                + usize::from(s.rekor_public_key_paths.is_some())
                + usize::from(s.rekor_public_key_data.is_some())
                + usize::from(s.rekor_public_key_datas.is_some());
            if rekor_sources > 1 {
                return Err("sigstoreSigned: at most one of rekorPublicKeyPath, rekorPublicKeyPaths, rekorPublicKeyData, rekorPublicKeyDatas may be set".into());
            }
            if s.fulcio.is_some() && rekor_sources == 0 {
                return Err("sigstoreSigned: fulcio needs rekorPublicKeyPath (or rekorPublicKeyPaths, rekorPublicKeyData, rekorPublicKeyDatas): Fulcio certificates live minutes, the Rekor SET says when the signature was made".into());
            }
            if s.pki.is_some() && rekor_sources > 0 {
                return Err("sigstoreSigned: rekorPublicKey* cannot be used with pki (as in containers/image: PKI certificates are checked at the current time)".into());
            }
            let key_file = |p: &Path| -> Result<PublicKey, String> {
                let p = abs(p);
                let pem = read_capped(&p, 1 << 16).map_err(|e| e.to_string())?;
                PublicKey::from_pem(&pem, &p.display().to_string()).map_err(|e| e.to_string())
            };
            let key_data = |d: &String, what: &str| -> Result<PublicKey, String> {
                let pem = decode(d, what)?;
                PublicKey::from_pem(&pem, what).map_err(|e| e.to_string())
            };
            let mut rekor = Vec::new();
            for p in s
                .rekor_public_key_path
                .iter()
                .chain(s.rekor_public_key_paths.iter().flatten())
            {
                rekor.push(key_file(p)?);
            }
            for d in s
                .rekor_public_key_data
                .iter()
                .chain(s.rekor_public_key_datas.iter().flatten())
            {
                rekor.push(key_data(d, "rekorPublicKeyData")?);
            }
            let s = *s;
            let trust = if let Some(f) = s.fulcio {
                let cas = pem_source(
                    f.ca_path.as_deref(),
                    f.ca_data.as_deref(),
                    "fulcio.caPath",
                    "fulcio.caData",
                    base,
                )?
                .ok_or("sigstoreSigned: fulcio needs caPath or caData")?;
                SigstoreTrust::Fulcio(cert::Fulcio {
                    cas: cert::Cas::from_pem(&cas.0, &cas.1)?,
                    oidc_issuer: f
                        .oidc_issuer
                        .filter(|i| !i.is_empty())
                        .ok_or("sigstoreSigned: fulcio needs oidcIssuer")?,
                    subject_email: f
                        .subject_email
                        .filter(|i| !i.is_empty())
                        .ok_or("sigstoreSigned: fulcio needs subjectEmail")?,
                })
            } else if let Some(p) = s.pki {
                let roots = pem_source(
                    p.ca_roots_path.as_deref(),
                    p.ca_roots_data.as_deref(),
                    "pki.caRootsPath",
                    "pki.caRootsData",
                    base,
                )?
                .ok_or("sigstoreSigned: pki needs caRootsPath or caRootsData")?;
                let intermediates = match pem_source(
                    p.ca_intermediates_path.as_deref(),
                    p.ca_intermediates_data.as_deref(),
                    "pki.caIntermediatesPath",
                    "pki.caIntermediatesData",
                    base,
                )? {
                    Some((pem, what)) => cert::pem_certificates(&pem, &what)?,
                    None => Vec::new(),
                };
                let subject_email = p.subject_email.filter(|e| !e.is_empty());
                let subject_hostname = p.subject_hostname.filter(|e| !e.is_empty());
                if subject_email.is_none() && subject_hostname.is_none() {
                    return Err("sigstoreSigned: pki needs subjectEmail or subjectHostname".into());
                }
                SigstoreTrust::Pki(cert::Pki {
                    roots: cert::Cas::from_pem(&roots.0, &roots.1)?,
                    intermediates,
                    subject_email,
                    subject_hostname,
                })
            } else {
                let mut keys = Vec::new();
                for p in s.key_path.iter().chain(s.key_paths.iter().flatten()) {
                    keys.push(key_file(p)?);
                }
                for d in s.key_data.iter().chain(s.key_datas.iter().flatten()) {
                    keys.push(key_data(d, "keyData")?);
                }
                SigstoreTrust::Keys(keys)
            };
            Resolved::Sigstore {
                trust,
                rekor,
                identity: s.signed_identity,
            }
        }
    })
}

/// One of `FIELDPath` / `FIELDData` (base64) read: the PEM bytes and what to call them.
fn pem_source(
    path: Option<&Path>,
    data: Option<&str>,
    path_name: &str,
    data_name: &str,
    base: &Path,
) -> Result<Option<(Vec<u8>, String)>, String> {
    match (path, data) {
        (Some(_), Some(_)) => Err(format!("{path_name} and {data_name} cannot both be set")),
        (Some(p), None) => {
            let p = base.join(p);
            let b = read_capped(&p, 1 << 20).map_err(|e| e.to_string())?;
            Ok(Some((b, format!("{path_name} {}", p.display()))))
        }
        (None, Some(d)) => Ok(Some((decode(d, data_name)?, data_name.to_owned()))),
        (None, None) => Ok(None),
    }
}

/// Whether `sig` is accepted by a `sigstoreSigned` requirement for the manifest `digest`:
/// its key (the policy's, or a certificate's the policy trusts) and, when Rekor keys are
/// set, its Rekor SET. Returns the verified payload for the identity check.
fn accept_sigstore(
    trust: &SigstoreTrust,
    rekor_keys: &[PublicKey],
    sig: &Signature,
    digest: &wharf_oci::Digest,
) -> Result<crate::sigstore::Payload, String> {
    let raw = sig.raw_signature().map_err(|e| e.to_string())?;
    let bundle = || {
        sig.annotations
            .get(rekor::BUNDLE_ANNOTATION)
            .ok_or_else(|| {
                format!(
                    "the policy requires a Rekor SET, but the signature has no {} annotation",
                    rekor::BUNDLE_ANNOTATION
                )
            })
    };
    let leaf = || -> Result<cert::Leaf, String> {
        let pem = sig
            .annotations
            .get(crate::sigstore::CERTIFICATE_ANNOTATION)
            .ok_or_else(|| {
                format!(
                    "the policy requires a certificate, but the signature has no {} annotation",
                    crate::sigstore::CERTIFICATE_ANNOTATION
                )
            })?;
        cert::Leaf::from_pem(pem.as_bytes())
    };
    let chain = sig
        .annotations
        .get(crate::sigstore::CHAIN_ANNOTATION)
        .map(String::as_str);
    let with_cert_key = |key: cert::CertKey| -> Result<crate::sigstore::Payload, String> {
        if !key.verify(&sig.payload, &raw) {
            return Err(
                "the cryptographic signature does not verify with the signing certificate's key"
                    .into(),
            );
        }
        // Only verified bytes are parsed.
        let p = crate::sigstore::Payload::parse(&sig.payload, crate::sigstore::PAYLOAD_TYPE)
            .map_err(|e| e.to_string())?;
        p.check_digest(digest).map_err(|e| e.to_string())?;
        Ok(p)
    };
    match trust {
        SigstoreTrust::Keys(keys) => {
            let mut last = String::from("no key");
            for k in keys {
                if !rekor_keys.is_empty()
                    && let Err(e) =
                        rekor::verify(rekor_keys, bundle()?, &k.spki_der(), &raw, &sig.payload)
                {
                    last = e;
                    continue;
                }
                match sig.verify(k, digest) {
                    Ok(p) => return Ok(p),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(last)
        }
        SigstoreTrust::Fulcio(f) => {
            let leaf = leaf()?;
            let at = rekor::verify(rekor_keys, bundle()?, leaf.der(), &raw, &sig.payload)?;
            with_cert_key(f.verify(&leaf, chain, at.time)?)
        }
        SigstoreTrust::Pki(p) => {
            let leaf = leaf()?;
            with_cert_key(p.verify(&leaf, chain)?)
        }
    }
}

fn decode(d: &str, what: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(d.trim())
        .map_err(|e| format!("{what} is not base64: {e}"))
}

/// Where a policy comes from and what it says, with the signature storage configuration.
#[derive(Debug, Clone)]
pub struct PolicyContext {
    /// `None`: `--insecure-policy`, every image is accepted.
    policy: Option<Policy>,
    path: PathBuf,
    registries_d: RegistriesD,
}

impl PolicyContext {
    /// The policy file to read: `flag`, else `$HOME/.config/containers/policy.json`, else
    /// `/etc/containers/policy.json`, the first that exists (`None` if none does).
    pub fn find(flag: Option<&Path>) -> std::result::Result<PathBuf, Vec<PathBuf>> {
        if let Some(f) = flag {
            return Ok(f.to_owned());
        }
        let mut tried = Vec::new();
        if let Some(home) = std::env::var_os("HOME") {
            tried.push(Path::new(&home).join(".config/containers/policy.json"));
        }
        tried.push(PathBuf::from("/etc/containers/policy.json"));
        tried.iter().find(|p| p.exists()).cloned().ok_or(tried)
    }

    /// Loads the policy as skopeo and podman do: `--insecure-policy` accepts everything;
    /// otherwise a policy file must exist (a missing one is an error, never "accept").
    pub fn load(
        policy: Option<&Path>,
        insecure: bool,
        registries_d: Option<&Path>,
    ) -> Result<Self> {
        let dir = RegistriesD::default_dir(registries_d);
        let registries_d = RegistriesD::load(&dir)?;
        if insecure {
            return Ok(Self {
                policy: None,
                path: PathBuf::from("--insecure-policy"),
                registries_d,
            });
        }
        let path = Self::find(policy).map_err(|tried| SignError::NoPolicy {
            tried: tried
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        let p = Policy::load(&path)?;
        Ok(Self {
            policy: Some(p),
            path,
            registries_d,
        })
    }

    /// A context that accepts every image (`--insecure-policy`), with no signature storage.
    pub fn insecure() -> Self {
        Self {
            policy: None,
            path: PathBuf::from("--insecure-policy"),
            registries_d: RegistriesD::default(),
        }
    }

    /// A context from a parsed policy (tests, embedders).
    pub fn new(policy: Policy, path: PathBuf, registries_d: RegistriesD) -> Self {
        Self {
            policy: Some(policy),
            path,
            registries_d,
        }
    }

    /// The policy file in use.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The signature storage configuration.
    pub fn registries_d(&self) -> &RegistriesD {
        &self.registries_d
    }

    /// Whether `image` may enter: `Ok` when every requirement of its scope accepts it, else
    /// [`SignError::Rejected`] naming the image, the requirement and the policy file.
    pub async fn check(&self, image: &PolicyImage<'_>) -> Result<()> {
        let Some(policy) = &self.policy else {
            return Ok(());
        };
        let (reqs, scope) = policy.requirements(image);
        let mut sigstore: Option<Vec<Signature>> = None;
        let mut simple_sigs: Option<Vec<Vec<u8>>> = None;
        for req in reqs {
            let outcome = match req {
                Resolved::Accept => Ok(()),
                Resolved::Reject => Err("the policy rejects every image in this scope".to_owned()),
                Resolved::Unsupported { why, .. } => Err(why.clone()),
                Resolved::Sigstore {
                    trust,
                    rekor,
                    identity,
                } => {
                    if sigstore.is_none() {
                        sigstore = Some(self.sigstore_signatures(image).await?);
                    }
                    let sigs = sigstore.as_deref().unwrap_or_default();
                    any_accepted(image, sigs.len(), "sigstore", |i| {
                        let p = accept_sigstore(trust, rekor, &sigs[i], &image.digest)?;
                        identity
                            .matches(image.docker.as_ref(), &p.critical.identity.docker_reference)
                    })
                }
                Resolved::SignedBy { keys, identity } => {
                    if simple_sigs.is_none() {
                        simple_sigs = Some(self.lookaside_signatures(image).await?);
                    }
                    let sigs = simple_sigs.as_deref().unwrap_or_default();
                    any_accepted(image, sigs.len(), "simple-signing (GPG)", |i| {
                        let p = simple::verify(keys, &sigs[i], &image.digest)
                            .map_err(|e| e.to_string())?;
                        identity
                            .matches(image.docker.as_ref(), &p.critical.identity.docker_reference)
                    })
                }
            };
            if let Err(why) = outcome {
                return Err(SignError::Rejected {
                    image: image.describe.clone(),
                    requirement: format!("{} (scope {scope})", req.name()),
                    policy: self.path.clone(),
                    why,
                });
            }
        }
        Ok(())
    }

    async fn sigstore_signatures(&self, image: &PolicyImage<'_>) -> Result<Vec<Signature>> {
        match (&image.docker, image.client) {
            (Some(r), Some(client)) if self.registries_d.use_sigstore_attachments(r) => {
                attach::fetch(client, r, &image.digest).await
            }
            _ => Ok(Vec::new()),
        }
    }

    async fn lookaside_signatures(&self, image: &PolicyImage<'_>) -> Result<Vec<Vec<u8>>> {
        let Some(r) = &image.docker else {
            return Ok(Vec::new());
        };
        match self.registries_d.lookaside(r, false) {
            Some(base) => lookaside::read(&base, r, &image.digest).await,
            None => Ok(Vec::new()),
        }
    }
}

/// `Ok` when signature `i` is accepted for some `i`; else the reasons, or that there are none.
fn any_accepted(
    image: &PolicyImage<'_>,
    n: usize,
    kind: &str,
    mut check: impl FnMut(usize) -> Result<(), String>,
) -> Result<(), String> {
    if n == 0 {
        return Err(format!(
            "a {kind} signature is required, but {} has none{}",
            image.describe,
            if kind == "sigstore" {
                " (sigstore signatures are read from sha256-<digest>.sig attachments when registries.d sets use-sigstore-attachments: true)"
            } else {
                " (simple signatures are read from the lookaside storage registries.d configures)"
            }
        ));
    }
    let mut reasons = Vec::new();
    for i in 0..n {
        match check(i) {
            Ok(()) => return Ok(()),
            Err(e) => reasons.push(format!("signature {}: {e}", i + 1)),
        }
    }
    Err(format!("no signature is accepted: {}", reasons.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Scopes;

    fn image(r: &str) -> (Scopes, wharf_oci::Reference) {
        let r = wharf_oci::Reference::parse(r).expect("ref");
        (Scopes::docker(&r), r)
    }

    #[test]
    fn scope_precedence_as_the_man_page() {
        let p = Policy::parse(
            br#"{"default":[{"type":"reject"}],
                "transports":{"docker":{
                    "":[{"type":"insecureAcceptAnything"}],
                    "example.com":[{"type":"reject"}],
                    "example.com/ns/app":[{"type":"insecureAcceptAnything"}],
                    "*.org":[{"type":"reject"}]}}}"#,
            Path::new("/etc/containers/policy.json"),
        )
        .expect("parse");
        let check = |r: &str| {
            let (scopes, docker) = image(r);
            let img = PolicyImage {
                transport: "docker",
                scopes,
                describe: r.into(),
                docker: Some(docker),
                digest: wharf_oci::digest::sha256(b"m"),
                client: None,
            };
            let (reqs, scope) = p.requirements(&img);
            (reqs[0].name(), scope)
        };
        assert_eq!(check("example.com/ns/app:1").0, "insecureAcceptAnything");
        assert_eq!(check("example.com/ns/other:1").0, "reject");
        assert_eq!(check("quay.io/x:1").0, "insecureAcceptAnything");
        assert_eq!(check("a.example.org/x:1").0, "reject");
        let oci = PolicyImage {
            transport: "oci",
            scopes: Scopes::path(Path::new("/x"), None),
            describe: "oci:/x".into(),
            docker: None,
            digest: wharf_oci::digest::sha256(b"m"),
            client: None,
        };
        assert_eq!(p.requirements(&oci).1, "default");
    }

    #[test]
    fn invalid_policies_are_errors() {
        for bad in [
            r#"{"default":[]}"#,
            r#"{"default":[{"type":"nope"}]}"#,
            r#"{"default":[{"type":"reject","extra":1}]}"#,
            r#"{"default":[{"type":"reject"}],"transports":{"ftp":{"":[{"type":"reject"}]}}}"#,
            r#"{"default":[{"type":"sigstoreSigned"}]}"#,
            r#"{"default":[{"type":"signedBy","keyType":"X509Certificates","keyData":""}]}"#,
            r#"{"transports":{}}"#,
        ] {
            assert!(
                Policy::parse(bad.as_bytes(), Path::new("/p.json")).is_err(),
                "{bad}"
            );
        }
    }

    /// Judges `sig` for the manifest `digest` of `reference` by the policy whose default is
    /// the one requirement `req` (relative paths from `dir`), as `check` does.
    fn judge(
        req: &serde_json::Value,
        dir: &Path,
        sig: &Signature,
        digest: &wharf_oci::Digest,
        reference: &str,
    ) -> Result<(), String> {
        let text = serde_json::json!({ "default": [req] }).to_string();
        let p =
            Policy::parse(text.as_bytes(), &dir.join("policy.json")).map_err(|e| e.to_string())?;
        let Resolved::Sigstore {
            trust,
            rekor,
            identity,
        } = &p.default[0]
        else {
            return Err("not a sigstoreSigned requirement".into());
        };
        let payload = accept_sigstore(trust, rekor, sig, digest)?;
        let r = wharf_oci::Reference::parse(reference).map_err(|e| e.to_string())?;
        identity.matches(Some(&r), &payload.critical.identity.docker_reference)
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name),
        )
        .expect("fixture")
    }

    /// containers/image's fixtures, made by the real cosign against the real (2022) Fulcio and
    /// Rekor, and by an X.509 PKI: accepted as containers/image accepts them, and only so.
    #[test]
    fn containers_image_fulcio_rekor_and_pki_signatures_verify() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let fulcio = |email: &str, issuer: &str, rekor: &str| {
            serde_json::json!({"type": "sigstoreSigned",
                "fulcio": {"caPath": "fulcio_v1.crt.pem", "oidcIssuer": issuer, "subjectEmail": email},
                "rekorPublicKeyPath": rekor, "signedIdentity": {"type": "matchRepository"}})
        };
        let sig =
            Signature::from_containers_file(&fixture("fulcio-rekor-signature-1")).expect("sig");
        let digest = wharf_oci::digest::sha256(&fixture("fulcio-rekor-manifest.json"));
        let image = "192.168.64.2:5000/cosign-signed/fulcio-rekor-1";
        let gh = "https://github.com/login/oauth";
        judge(
            &fulcio("mitr@redhat.com", gh, "rekor.pub"),
            &dir,
            &sig,
            &digest,
            image,
        )
        .expect("the real Fulcio + Rekor signature is accepted");
        let refused = |req: &serde_json::Value, sig: &Signature, want: &str| {
            let err = judge(req, &dir, sig, &digest, image).expect_err("accepted");
            assert!(err.contains(want), "expected {want:?} in: {err}");
        };
        refused(
            &fulcio("other@redhat.com", gh, "rekor.pub"),
            &sig,
            "subjectEmail",
        );
        refused(
            &fulcio(
                "mitr@redhat.com",
                "https://accounts.google.com",
                "rekor.pub",
            ),
            &sig,
            "oidcIssuer",
        );
        refused(
            &fulcio("mitr@redhat.com", gh, "cosign.pub"),
            &sig,
            "not signed by the policy's Rekor",
        );
        let mut no_chain = sig.clone();
        no_chain
            .annotations
            .remove(crate::sigstore::CHAIN_ANNOTATION);
        refused(
            &fulcio("mitr@redhat.com", gh, "rekor.pub"),
            &no_chain,
            "does not chain",
        );
        let other = wharf_oci::digest::sha256(&fixture("valid-manifest.json"));
        let err = judge(
            &fulcio("mitr@redhat.com", gh, "rekor.pub"),
            &dir,
            &sig,
            &other,
            image,
        )
        .expect_err("another manifest");
        assert!(err.contains("not sha256:"), "{err}");

        // A key signature logged in Rekor (keyPath + rekorPublicKeyPath).
        let sig = Signature::from_containers_file(&fixture("key-rekor-signature-1")).expect("sig");
        let key_rekor = |keys: &[&str], rekor: &str| {
            serde_json::json!({"type": "sigstoreSigned", "keyPaths": keys, "rekorPublicKeyPath": rekor,
                "signedIdentity": {"type": "matchRepository"}})
        };
        let image = "192.168.64.2:5000/cosign-signed/key-1";
        judge(
            &key_rekor(&["cosign.pub", "cosign2.pub"], "rekor.pub"),
            &dir,
            &sig,
            &digest,
            image,
        )
        .expect("key + Rekor");
        let err = judge(
            &key_rekor(&["cosign2.pub"], "cosign.pub"),
            &dir,
            &sig,
            &digest,
            image,
        )
        .expect_err("other log");
        assert!(err.contains("Rekor SET"), "{err}");
        // The SET logs cosign2.pub: with cosign.pub alone, the entry is another key's.
        let err = judge(
            &key_rekor(&["cosign.pub"], "rekor.pub"),
            &dir,
            &sig,
            &digest,
            image,
        )
        .expect_err("other key");
        assert!(err.contains("another key"), "{err}");

        // PKI: a certificate of the fixtures' PKI for the email and the hostname.
        let sig = Signature::from_containers_file(&fixture("pki-signature-1")).expect("sig");
        let digest = wharf_oci::digest::sha256(&fixture("pki-manifest.json"));
        let pki = |email: &str, host: &str| {
            serde_json::json!({"type": "sigstoreSigned", "pki": {
                "caRootsPath": "pki_root_crts.pem", "caIntermediatesPath": "pki_intermediate_crts.pem",
                "subjectEmail": email, "subjectHostname": host},
                "signedIdentity": {"type": "matchRepository"}})
        };
        judge(
            &pki("qiwan@redhat.com", "myhost.example.com"),
            &dir,
            &sig,
            &digest,
            "localhost:5000/test",
        )
        .expect("PKI");
        for (req, want) in [
            (
                pki("qiwan@redhat.com", "otherhost.example.com"),
                "subjectHostname",
            ),
            (
                pki("other@redhat.com", "myhost.example.com"),
                "subjectEmail",
            ),
        ] {
            let err =
                judge(&req, &dir, &sig, &digest, "localhost:5000/test").expect_err("accepted");
            assert!(err.contains(want), "{err}");
        }
    }

    /// What a test's Rekor entry logs instead of the signature's (certificate, signature,
    /// payload).
    type Over<'a> = (Option<&'a [u8]>, Option<&'a str>, Option<&'a [u8]>);

    /// Keyless material made by the testkit (its own CA and log): the valid signature is
    /// accepted; every forgery is refused with the check that failed.
    #[test]
    fn fulcio_rekor_forgeries_are_refused() {
        use wharf_testkit::sigstore::{Ca, Entry, LeafSpec, Rekor};
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let (ca, other_ca, rekor, other_rekor) = (Ca::new(), Ca::new(), Rekor::new(), Rekor::new());
        std::fs::write(dir.join("ca.pem"), ca.root_pem()).expect("write");
        std::fs::write(dir.join("rekor.pub"), rekor.public_pem()).expect("write");
        let t0 = 1_700_000_000;
        let spec = LeafSpec {
            email: "ci@example.com".into(),
            issuer: "https://token.actions.example.com".into(),
            not_before: t0,
            not_after: t0 + 600,
            code_signing: true,
        };
        let image = "registry.example/app:1";
        let digest = wharf_oci::digest::sha256(b"manifest");
        let payload = |d: &wharf_oci::Digest| {
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"{image}"}},"image":{{"docker-manifest-digest":"{d}"}},"type":"cosign container image signature"}},"optional":null}}"#
            )
            .into_bytes()
        };
        // A signature by `leaf` of `payload`, whose SET (by `log`, at `time`) logs `entry`
        // (by default: this signature).
        // `over`: what the Rekor entry logs instead (certificate, signature, payload).
        let make = |ca: &Ca,
                    leaf: &wharf_testkit::sigstore::Leaf,
                    payload: Vec<u8>,
                    log: &Rekor,
                    time: u64,
                    over: Over<'_>| {
            let sig_b64 = leaf.sign_b64(&payload);
            let bundle = log.bundle(&Entry {
                cert_der: over.0.unwrap_or(&leaf.cert_der),
                signature_b64: over.1.unwrap_or(&sig_b64),
                payload: over.2.unwrap_or(&payload),
                integrated_time: time,
            });
            let mut annotations = std::collections::BTreeMap::new();
            annotations.insert(
                crate::sigstore::CERTIFICATE_ANNOTATION.to_owned(),
                leaf.cert_pem.clone(),
            );
            annotations.insert(crate::sigstore::CHAIN_ANNOTATION.to_owned(), ca.chain_pem());
            annotations.insert(rekor::BUNDLE_ANNOTATION.to_owned(), bundle);
            Signature {
                payload,
                signature_b64: sig_b64,
                annotations,
            }
        };
        let req = serde_json::json!({"type": "sigstoreSigned",
            "fulcio": {"caPath": "ca.pem", "oidcIssuer": spec.issuer, "subjectEmail": spec.email},
            "rekorPublicKeyPath": "rekor.pub"});
        let leaf = ca.leaf(&spec);
        let good = make(
            &ca,
            &leaf,
            payload(&digest),
            &rekor,
            t0 + 60,
            (None, None, None),
        );
        judge(&req, dir, &good, &digest, image).expect("valid keyless signature");

        let other_leaf = ca.leaf(&spec);
        let other_payload = payload(&wharf_oci::digest::sha256(b"other"));
        let other_sig = leaf.sign_b64(b"something else");
        let with = |s: LeafSpec| ca.leaf(&s);
        let cases: Vec<(&str, Signature)> = vec![
            ("does not verify against", {
                let l = other_ca.leaf(&spec);
                make(
                    &other_ca,
                    &l,
                    payload(&digest),
                    &rekor,
                    t0 + 60,
                    (None, None, None),
                )
            }),
            (
                "had expired at the Rekor integrated time",
                make(
                    &ca,
                    &leaf,
                    payload(&digest),
                    &rekor,
                    t0 + 3600,
                    (None, None, None),
                ),
            ),
            (
                "not yet valid",
                make(
                    &ca,
                    &leaf,
                    payload(&digest),
                    &rekor,
                    t0 - 60,
                    (None, None, None),
                ),
            ),
            ("oidcIssuer", {
                let l = with(LeafSpec {
                    issuer: "https://evil.example".into(),
                    ..spec.clone()
                });
                make(
                    &ca,
                    &l,
                    payload(&digest),
                    &rekor,
                    t0 + 60,
                    (None, None, None),
                )
            }),
            ("subjectEmail", {
                let l = with(LeafSpec {
                    email: "mallory@example.com".into(),
                    ..spec.clone()
                });
                make(
                    &ca,
                    &l,
                    payload(&digest),
                    &rekor,
                    t0 + 60,
                    (None, None, None),
                )
            }),
            (
                "not signed by the policy's Rekor",
                make(
                    &ca,
                    &leaf,
                    payload(&digest),
                    &other_rekor,
                    t0 + 60,
                    (None, None, None),
                ),
            ),
            (
                "logs payload",
                make(
                    &ca,
                    &leaf,
                    payload(&digest),
                    &rekor,
                    t0 + 60,
                    (None, None, Some(&other_payload)),
                ),
            ),
            (
                "another signature",
                make(
                    &ca,
                    &leaf,
                    payload(&digest),
                    &rekor,
                    t0 + 60,
                    (None, Some(&other_sig), None),
                ),
            ),
            (
                "another key or certificate",
                make(
                    &ca,
                    &leaf,
                    payload(&digest),
                    &rekor,
                    t0 + 60,
                    (Some(&other_leaf.cert_der), None, None),
                ),
            ),
            (
                "not sha256:",
                make(
                    &ca,
                    &leaf,
                    other_payload.clone(),
                    &rekor,
                    t0 + 60,
                    (None, None, None),
                ),
            ),
            ("codeSigning", {
                let l = with(LeafSpec {
                    code_signing: false,
                    ..spec.clone()
                });
                make(
                    &ca,
                    &l,
                    payload(&digest),
                    &rekor,
                    t0 + 60,
                    (None, None, None),
                )
            }),
            ("no dev.sigstore.cosign/bundle", {
                let mut s = good.clone();
                s.annotations.remove(rekor::BUNDLE_ANNOTATION);
                s
            }),
        ];
        for (want, sig) in cases {
            let err = judge(&req, dir, &sig, &digest, image).expect_err(want);
            assert!(err.contains(want), "expected {want:?} in: {err}");
        }

        // Policies that cannot work are refused when read.
        for bad in [
            serde_json::json!({"type": "sigstoreSigned", "fulcio": {"caPath": "ca.pem", "oidcIssuer": "x", "subjectEmail": "y"}}),
            serde_json::json!({"type": "sigstoreSigned", "fulcio": {"caPath": "ca.pem", "caData": "eA==", "oidcIssuer": "x", "subjectEmail": "y"}, "rekorPublicKeyPath": "rekor.pub"}),
            serde_json::json!({"type": "sigstoreSigned", "fulcio": {"caPath": "ca.pem", "subjectEmail": "y"}, "rekorPublicKeyPath": "rekor.pub"}),
            serde_json::json!({"type": "sigstoreSigned", "pki": {"caRootsPath": "ca.pem", "subjectEmail": "y"}, "rekorPublicKeyPath": "rekor.pub"}),
            serde_json::json!({"type": "sigstoreSigned", "pki": {"caRootsPath": "ca.pem"}}),
            serde_json::json!({"type": "sigstoreSigned", "fulcio": {"caPath": "rekor.pub", "oidcIssuer": "x", "subjectEmail": "y"}, "rekorPublicKeyPath": "rekor.pub"}),
        ] {
            let text = serde_json::json!({ "default": [bad] }).to_string();
            assert!(
                Policy::parse(text.as_bytes(), &dir.join("policy.json")).is_err(),
                "{bad}"
            );
        }
    }
}
