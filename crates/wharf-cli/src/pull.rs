//! `pull`, shared by `kiln pull` (buildah's syntax) and `berth pull` (podman's): a bare name is
//! a registry image, and any transport reference works.

// Field docs are CLI help text (`NAME[:TAG]`), not links to items.
#![allow(rustdoc::broken_intra_doc_links)]

use std::io::Write;

use anyhow::Context as _;
use wharf_store::Store;
use wharf_transport::{CopyOptions, Destination, ImageRef, Source};

use crate::registry::{RegistryArgs, runtime};

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Image to pull: NAME[:TAG|@DIGEST] from a registry, or a transport reference
    pub image: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Pull every image of a multi-architecture index
    #[arg(long)]
    pub all_platforms: bool,
    /// Print nothing but the image ID
    #[arg(short, long)]
    pub quiet: bool,
}

/// The registry references `input` may mean, in the order to try: a transport reference or a
/// fully-qualified name is itself; a short name goes through the shared resolver
/// ([`wharf_registry::shortnames`]: aliases, then the unqualified-search registries).
///
/// # Errors
/// A short name that no alias or search registry resolves, or an ambiguous one on a terminal
/// with `short-name-mode = "enforcing"`.
pub fn candidates(
    input: &str,
    opts: &wharf_registry::ClientOptions,
) -> anyhow::Result<Vec<String>> {
    let has_transport = input.contains("://")
        || [
            "oci:",
            "oci-archive:",
            "docker-archive:",
            "dir:",
            "store:",
            "containers-storage:",
        ]
        .iter()
        .any(|t| input.starts_with(t));
    if has_transport || !wharf_registry::shortnames::is_short_name(input) {
        return Ok(vec![input.to_owned()]);
    }
    let conf = opts.registries_conf()?;
    let resolved = wharf_registry::shortnames::resolve(
        input,
        &conf,
        wharf_registry::shortnames::interactive(),
    )?;
    tracing::info!(name = input, candidates = ?resolved.candidates, rationale = %resolved.rationale, "resolved a short name");
    Ok(resolved.candidates)
}

/// The store's image for `name`: the name itself as the store resolves it, else, for a short
/// name, the first of its registry candidates (aliases, search registries) that the store holds,
/// as podman and buildah look up short names locally before pulling.
pub fn find_local(
    store: &Store,
    name: &str,
    opts: &wharf_registry::ClientOptions,
) -> Option<wharf_store::ImageRecord> {
    if let Ok(r) = store.resolve(name) {
        return Some(r);
    }
    candidates(name, opts)
        .ok()?
        .iter()
        .find_map(|c| store.resolve(c).ok())
}

/// `pull`: copies an image into `store` and prints its image ID to `out`; progress goes to
/// `progress` unless `--quiet`. A short name is resolved as podman and buildah do (aliases,
/// then each search registry in order until one has the image); registries.conf mirrors and
/// remaps apply to every candidate.
pub fn pull(
    store: &Store,
    args: &PullArgs,
    out: &mut dyn Write,
    progress: &mut dyn Write,
) -> anyhow::Result<()> {
    let opts = args.registry.client_options()?;
    let tried = candidates(&args.image, &opts)?;
    let mut failures: Vec<anyhow::Error> = Vec::new();
    for candidate in &tried {
        match pull_one(store, args, &opts, candidate, progress) {
            Ok(name) => {
                let record = store.resolve(&name)?;
                writeln!(out, "{}", store.image_id(&record)?.digest())?;
                return Ok(());
            }
            Err(e) => failures.push(e),
        }
    }
    if failures.len() == 1
        && let Some(e) = failures.pop()
    {
        return Err(e);
    }
    let all: Vec<String> = failures.iter().map(|e| format!("{e:#}")).collect();
    anyhow::bail!(
        "pulling {}: no candidate could be pulled: {}",
        args.image,
        all.join("; ")
    )
}

/// Pulls one reference; returns the store name it got.
fn pull_one(
    store: &Store,
    args: &PullArgs,
    opts: &wharf_registry::ClientOptions,
    candidate: &str,
    progress: &mut dyn Write,
) -> anyhow::Result<String> {
    let (src_ref, name) = wharf_transport::shorthand::pull_target(candidate)?;
    let src =
        Source::open(&src_ref, opts, Some(store)).with_context(|| format!("pulling {src_ref}"))?;
    let dst = Destination::open(&ImageRef::Store { name: name.clone() }, opts, Some(store))?;
    let copy = CopyOptions {
        all: args.all_platforms,
        retry_times: args.registry.retry,
        policy: Some(args.registry.policy.context()?),
        ..CopyOptions::default()
    };
    if !args.quiet {
        writeln!(progress, "Pulling {src_ref}")?;
    }
    let copied = runtime()?.block_on(wharf_transport::copy(&src, &dst, &copy));
    if copied.is_err() {
        // A pull that failed half-way (a damaged blob, a refused config) leaves nothing of
        // the image behind: what it stored is referenced by no image. Best effort: the
        // error that matters is the pull's.
        let _ = store.discard_unreferenced();
    }
    copied.with_context(|| format!("pulling {src_ref}"))?;
    if !args.quiet
        && let Some((endpoint, true)) = src.served_by()
    {
        writeln!(progress, "Pulled from mirror {endpoint}")?;
    }
    Ok(name)
}
