//! `pull`, shared by `kiln pull` (buildah's syntax) and `berth pull` (podman's): a bare name is
//! a registry image, and any transport reference works.

// Field docs are CLI help text (`NAME[:TAG]`), not links to items.
#![allow(rustdoc::broken_intra_doc_links)]

use std::io::Write;

use wharf_store::Store;
use wharf_transport::{PullEvent, PullRequest};

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
    /// Also store the image's OCI 1.1 referrers (signatures, SBOMs, attestations), through
    /// the referrers API or its tag fallback
    #[arg(long)]
    pub referrers: bool,
}

/// The registry references `input` may mean, in the order to try: the shared resolver of every
/// pull ([`wharf_transport::pull::candidates`]).
///
/// # Errors
/// A short name that no alias or search registry resolves, or an ambiguous one on a terminal
/// with `short-name-mode = "enforcing"`.
pub fn candidates(
    input: &str,
    opts: &wharf_registry::ClientOptions,
) -> anyhow::Result<Vec<String>> {
    let conf = opts.registries_conf()?;
    Ok(wharf_transport::pull::candidates(input, &conf)?)
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

/// The `pull` command of kiln and berth: [`pull`] with the image ID on standard output and
/// progress on standard error.
pub fn pull_command(store: &Store, args: &PullArgs) -> anyhow::Result<std::process::ExitCode> {
    pull(
        store,
        args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
    )?;
    Ok(std::process::ExitCode::SUCCESS)
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
    let req = PullRequest {
        name: &args.image,
        client: &opts,
        platform: None,
        all_platforms: args.all_platforms,
        retry_times: args.registry.retry,
        policy: Some(args.registry.policy.context()?),
        registry_only: false,
        referrers: args.referrers,
    };
    let quiet = args.quiet;
    let pulled = wharf_transport::pull::pull(store, &req, runtime()?.handle(), &mut |e| {
        if quiet {
            return;
        }
        // Progress is best effort: a closed stderr does not fail the pull.
        let _ = match e {
            PullEvent::Pulling(r) => writeln!(progress, "Pulling {r}"),
            PullEvent::FromMirror(m) => writeln!(progress, "Pulled from mirror {m}"),
        };
    });
    match pulled {
        Ok(name) => {
            let record = store.resolve(&name)?;
            writeln!(out, "{}", store.image_id(&record)?.digest())?;
            Ok(())
        }
        Err(mut f) if f.tried.len() == 1 => {
            let (candidate, e) = f.tried.remove(0);
            Err(anyhow::Error::new(e).context(format!("pulling {}", display(&candidate))))
        }
        Err(f) => {
            let all: Vec<String> = f
                .tried
                .into_iter()
                .map(|(c, e)| {
                    format!(
                        "{:#}",
                        anyhow::Error::new(e).context(format!("pulling {}", display(&c)))
                    )
                })
                .collect();
            anyhow::bail!(
                "pulling {}: no candidate could be pulled: {}",
                args.image,
                all.join("; ")
            )
        }
    }
}

/// A candidate as the pull names it in messages: the transport reference it parses to.
fn display(candidate: &str) -> String {
    wharf_transport::shorthand::pull_target(candidate)
        .map_or_else(|_| candidate.to_owned(), |(r, _)| r.to_string())
}
