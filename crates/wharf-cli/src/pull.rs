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

/// `pull`: copies an image into `store` and prints its image ID to `out`; progress goes to
/// `progress` unless `--quiet`.
pub fn pull(
    store: &Store,
    args: &PullArgs,
    out: &mut dyn Write,
    progress: &mut dyn Write,
) -> anyhow::Result<()> {
    let (src_ref, name) = wharf_transport::shorthand::pull_target(&args.image)?;
    let opts = args.registry.client_options()?;
    let src = Source::open(&src_ref, &opts, Some(store))?;
    let dst = Destination::open(&ImageRef::Store { name: name.clone() }, &opts, Some(store))?;
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
    let record = store.resolve(&name)?;
    writeln!(out, "{}", store.image_id(&record)?.digest())?;
    Ok(())
}
