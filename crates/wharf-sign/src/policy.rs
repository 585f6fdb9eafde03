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
use crate::{attach, lookaside, simple};

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
    SigstoreSigned(SigstoreSigned),
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
    pub fulcio: Option<serde_json::Value>,
    pub rekor_public_key_path: Option<PathBuf>,
    pub rekor_public_key_data: Option<String>,
    pub pki: Option<serde_json::Value>,
    #[serde(default)]
    pub signed_identity: SignedIdentity,
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
        keys: Vec<PublicKey>,
        identity: SignedIdentity,
    },
    Unsupported {
        name: &'static str,
        why: String,
    },
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
            if s.fulcio.is_some() || s.pki.is_some() {
                return Ok(Resolved::Unsupported {
                    name,
                    why: "Fulcio and PKI certificate verification is not implemented; use keyPath or keyData".into(),
                });
            }
            if s.rekor_public_key_path.is_some() || s.rekor_public_key_data.is_some() {
                return Ok(Resolved::Unsupported {
                    name,
                    why: "Rekor inclusion proofs are not verified yet; remove rekorPublicKey* to check the key signature only".into(),
                });
            }
            let mut keys = Vec::new();
            for p in s.key_path.iter().chain(s.key_paths.iter().flatten()) {
                let p = abs(p);
                let pem = read_capped(&p, 1 << 16).map_err(|e| e.to_string())?;
                keys.push(
                    PublicKey::from_pem(&pem, &p.display().to_string())
                        .map_err(|e| e.to_string())?,
                );
            }
            for d in s.key_data.iter().chain(s.key_datas.iter().flatten()) {
                let pem = decode(d, "keyData")?;
                keys.push(PublicKey::from_pem(&pem, "keyData").map_err(|e| e.to_string())?);
            }
            Resolved::Sigstore {
                keys,
                identity: s.signed_identity,
            }
        }
    })
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
                Resolved::Sigstore { keys, identity } => {
                    if sigstore.is_none() {
                        sigstore = Some(self.sigstore_signatures(image).await?);
                    }
                    let sigs = sigstore.as_deref().unwrap_or_default();
                    any_accepted(image, sigs.len(), "sigstore", |i| {
                        let sig = &sigs[i];
                        let mut last = String::new();
                        for k in keys {
                            match sig.verify(k, &image.digest) {
                                Ok(p) => {
                                    return identity.matches(
                                        image.docker.as_ref(),
                                        &p.critical.identity.docker_reference,
                                    );
                                }
                                Err(e) => last = e.to_string(),
                            }
                        }
                        Err(last)
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
}
