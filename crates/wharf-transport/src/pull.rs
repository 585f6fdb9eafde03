//! Pulling an image into the store: the one code path behind `kiln pull`, `kiln from`, `FROM`
//! in a build, `berth pull` and `berth run` of an image not yet pulled. Each caller keeps its own
//! pull policy and local lookup; what a pull *is* (which references a name means, which
//! registry endpoint serves, what is left behind when it fails) lives here only.

use std::sync::Arc;

use wharf_oci::Platform;
use wharf_registry::{ClientOptions, RegistriesConf, shortnames};
use wharf_store::Store;

use crate::copy::{CopyOptions, copy};
use crate::dest::Destination;
use crate::error::{Result, TransportError};
use crate::reference::ImageRef;
use crate::source::Source;
use crate::{PolicyContext, shorthand};

/// What to pull and how.
#[derive(Debug, Clone)]
pub struct PullRequest<'a> {
    /// As the user wrote it: a short name, a registry reference or (unless `registry_only`) a
    /// transport reference such as `oci:DIR`.
    pub name: &'a str,
    /// The process's registry context (registries.conf, auth, certificates), loaded once.
    pub client: &'a ClientOptions,
    /// The platform to pick from a manifest list; the host's when `None`.
    pub platform: Option<Platform>,
    /// Keep every image of a manifest list.
    pub all_platforms: bool,
    pub retry_times: u32,
    /// The signature policy the image must satisfy; `None` checks nothing.
    pub policy: Option<Arc<PolicyContext>>,
    /// Refuse transport references (`FROM` takes registry images only, as BuildKit).
    pub registry_only: bool,
    /// Also store the image's referrers (signatures, SBOMs, attestations).
    pub referrers: bool,
}

/// What a pull reports while it works.
#[derive(Debug)]
pub enum PullEvent<'a> {
    /// A candidate reference is about to be pulled.
    Pulling(&'a ImageRef),
    /// The image came from this mirror (`REGISTRY/REPOSITORY`), not from the registry named.
    FromMirror(&'a str),
}

/// A pull that no candidate satisfied: each candidate with its failure, in the order tried.
#[derive(Debug)]
pub struct PullFailure {
    pub tried: Vec<(String, TransportError)>,
}

/// The registry references `input` may mean, in the order to try: a transport reference or a
/// fully-qualified name is itself; a short name goes through the shared resolver
/// ([`wharf_registry::shortnames`]: aliases, then the unqualified-search registries, with
/// podman's enforcing/permissive rules when no terminal can be asked).
///
/// # Errors
/// A short name that no alias or search registry resolves, or an ambiguous one on a terminal
/// with `short-name-mode = "enforcing"`.
pub fn candidates(
    input: &str,
    conf: &RegistriesConf,
) -> wharf_registry::error::Result<Vec<String>> {
    if shorthand::has_transport(input) || !shortnames::is_short_name(input) {
        return Ok(vec![input.to_owned()]);
    }
    let resolved = shortnames::resolve(input, conf, shortnames::interactive())?;
    tracing::info!(name = input, candidates = ?resolved.candidates, rationale = %resolved.rationale, "resolved a short name");
    Ok(resolved.candidates)
}

/// Pulls `req.name` into `store`, trying each candidate in order; returns the store name the
/// first one that worked got. A candidate that fails half-way (a damaged blob, a refused
/// signature) leaves nothing of its image in the store.
///
/// # Errors
/// Every candidate failed (each failure is kept), or the name resolves to no candidate (a
/// single entry naming the resolver's error).
pub fn pull(
    store: &Store,
    req: &PullRequest<'_>,
    runtime: &tokio::runtime::Handle,
    on: &mut dyn FnMut(PullEvent<'_>),
) -> std::result::Result<String, PullFailure> {
    let conf = req.client.registries_conf();
    let tried = match conf.and_then(|c| candidates(req.name, &c)) {
        Ok(t) => t,
        Err(source) => {
            return Err(PullFailure {
                tried: vec![(req.name.to_owned(), TransportError::Registry(source))],
            });
        }
    };
    let mut failures = Vec::new();
    for candidate in &tried {
        match pull_one(store, req, runtime, candidate, on) {
            Ok(name) => return Ok(name),
            Err(e) => failures.push((candidate.to_owned(), e)),
        }
    }
    Err(PullFailure { tried: failures })
}

fn pull_one(
    store: &Store,
    req: &PullRequest<'_>,
    runtime: &tokio::runtime::Handle,
    candidate: &str,
    on: &mut dyn FnMut(PullEvent<'_>),
) -> Result<String> {
    let (src_ref, name) = shorthand::pull_target(candidate)?;
    if req.registry_only && !matches!(src_ref, ImageRef::Docker(_)) {
        return Err(TransportError::BadReference {
            input: candidate.to_owned(),
            why: "not a registry image".into(),
        });
    }
    on(PullEvent::Pulling(&src_ref));
    let src = Source::open(&src_ref, req.client, Some(store))?;
    let dst = Destination::open(
        &ImageRef::Store { name: name.clone() },
        req.client,
        Some(store),
    )?;
    let opts = CopyOptions {
        all: req.all_platforms,
        platform: req.platform.clone(),
        retry_times: req.retry_times,
        policy: req.policy.clone(),
        referrers: req.referrers,
        ..CopyOptions::default()
    };
    let copied = runtime.block_on(copy(&src, &dst, &opts));
    if copied.is_err() {
        // What the failed copy stored is referenced by no image. Best effort: the error that
        // matters is the pull's.
        let _ = store.discard_unreferenced();
    }
    copied?;
    if let Some((endpoint, true)) = src.served_by() {
        on(PullEvent::FromMirror(&endpoint));
    }
    Ok(name)
}
