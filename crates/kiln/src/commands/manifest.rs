//! `kiln manifest create|add|remove|inspect|rm|push`: manifest lists (OCI image indexes) kept in
//! the store and pushed with their images (`buildah manifest`).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use wharf_build::manifest_list::{self, AddToList};
use wharf_cli::registry::{Push, RegistryArgs};
use wharf_transport::ManifestFormat;

use crate::cli::Cli;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a manifest list, optionally with images of the store
    Create(CreateArgs),
    /// Add an image of the store to a manifest list
    Add(AddArgs),
    /// Remove an image (by manifest digest) from a manifest list
    Remove(RemoveArgs),
    /// Print a manifest list
    Inspect(ListArg),
    /// Remove manifest lists from the store (not their images)
    Rm(RmArgs),
    /// Push a manifest list and its images to a registry or any transport
    Push(PushArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Name of the new list
    pub list: String,
    /// Images of the store to add
    pub images: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Operating system of the entry [default: the image's]
    #[arg(long, value_name = "OS")]
    pub os: Option<String>,
    /// Architecture of the entry [default: the image's]
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<String>,
    /// CPU variant of the entry [default: the image's]
    #[arg(long, value_name = "VARIANT")]
    pub variant: Option<String>,
    /// Annotation of the entry: KEY=VALUE (repeatable)
    #[arg(long, value_name = "KEY=VALUE")]
    pub annotation: Vec<String>,
    /// When IMAGE is a manifest list, add each of its images (pulled for every platform)
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The manifest list
    pub list: String,
    /// Image to add: a name or ID of the store, or a transport reference (docker://,
    /// oci:, oci-archive:, docker-archive:, dir:) pulled into the store first; a name the
    /// store lacks is pulled from its registry
    pub image: String,
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// The manifest list
    pub list: String,
    /// Manifest digest of the entry to remove
    pub digest: String,
}

#[derive(Debug, clap::Args)]
pub struct ListArg {
    /// The manifest list
    pub list: String,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// Manifest lists
    #[arg(required = true)]
    pub lists: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Also push the images in the list (always done: a registry refuses a list whose images it
    /// lacks; `--all=false` is refused)
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value_t = true, default_missing_value = "true", value_name = "BOOL")]
    pub all: bool,
    /// Remove the manifest list from the store once pushed
    #[arg(long)]
    pub rm: bool,
    /// Manifest type to push: oci or v2s2
    #[arg(short, long, value_parser = ["oci", "v2s2", "docker"])]
    pub format: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Write the pushed list's digest to this file
    #[arg(long, value_name = "PATH")]
    pub digestfile: Option<PathBuf>,
    /// Print nothing while pushing
    #[arg(short, long)]
    pub quiet: bool,
    /// The manifest list
    pub list: String,
    /// Destination reference (docker://REGISTRY/REPO:TAG, a bare name is a registry, or any
    /// transport)
    pub destination: String,
}

pub fn run(cli: &Cli, cmd: &Command) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let mut out = std::io::stdout().lock();
    match cmd {
        Command::Create(a) => {
            let d = manifest_list::create(&store, &a.list, &a.images)
                .with_context(|| format!("creating manifest list {:?}", a.list))?;
            writeln!(out, "{}", d.digest())?;
        }
        Command::Add(a) => {
            let opts = AddToList {
                os: a.os.clone(),
                arch: a.arch.clone(),
                variant: a.variant.clone(),
                annotations: a.annotation.clone(),
            };
            let image = local_or_pulled(&store, a)?;
            let added = if a.all {
                manifest_list::add_all(&store, &a.list, &image, &opts)
            } else {
                manifest_list::add(&store, &a.list, &image, &opts).map(|(l, i)| (l, vec![i]))
            };
            let (list, added) =
                added.with_context(|| format!("adding {:?} to {:?}", a.image, a.list))?;
            for instance in added {
                writeln!(out, "{}: {instance}", list.digest())?;
            }
        }
        Command::Remove(a) => {
            let list = manifest_list::remove_entry(&store, &a.list, &a.digest)
                .with_context(|| format!("removing {:?} from {:?}", a.digest, a.list))?;
            writeln!(out, "{}: {}", list.digest(), a.digest)?;
        }
        Command::Inspect(a) => {
            let doc = manifest_list::inspect(&store, &a.list)?;
            writeln!(out, "{}", super::pretty::json(&doc)?)?;
        }
        Command::Rm(a) => {
            for l in &a.lists {
                let (names, digest) = manifest_list::remove(&store, l)
                    .with_context(|| format!("removing manifest list {l:?}"))?;
                for n in names {
                    writeln!(out, "untagged: {n}")?;
                }
                writeln!(out, "{}", digest.digest())?;
            }
        }
        Command::Push(a) => return push(cli, a),
    }
    Ok(ExitCode::SUCCESS)
}

/// The store name of `manifest add`'s IMAGE: a store reference or a name the store has as it
/// is; a transport reference, or a name the store lacks, pulled into the store first (with
/// every platform for `--all`), as buildah reads such images from their source.
fn local_or_pulled(store: &wharf_store::Store, a: &AddArgs) -> anyhow::Result<String> {
    for prefix in ["store:", "containers-storage:"] {
        if let Some(name) = a.image.strip_prefix(prefix) {
            return Ok(name.to_owned());
        }
    }
    let has_transport = wharf_transport::ImageRef::parse(&a.image).is_ok();
    if !has_transport && store.resolve(&a.image).is_ok() {
        return Ok(a.image.clone());
    }
    let (_, name) = wharf_transport::shorthand::pull_target(&a.image)?;
    let args = wharf_cli::pull::PullArgs {
        image: a.image.clone(),
        registry: a.registry.clone(),
        all_platforms: a.all,
        quiet: false,
        referrers: false,
    };
    wharf_cli::pull::pull(store, &args, &mut std::io::sink(), &mut std::io::stderr())
        .with_context(|| format!("pulling {}", a.image))?;
    Ok(name)
}

fn push(cli: &Cli, a: &PushArgs) -> anyhow::Result<ExitCode> {
    if !a.all {
        bail!("pushing a manifest list without its images is not supported: drop --all=false");
    }
    let store = super::open_store(cli)?;
    // Fails early, with a clear message, for a name that is not a list.
    manifest_list::inspect(&store, &a.list)?;
    let dst_ref = wharf_transport::shorthand::push_target(&a.list, Some(&a.destination))?;
    wharf_cli::registry::push(
        &store,
        &Push {
            name: &a.list,
            destination: &dst_ref,
            registry: &a.registry,
            format: a.format.as_deref().and_then(ManifestFormat::parse),
            quiet: a.quiet,
            digestfile: a.digestfile.as_deref(),
            sign: None,
            referrers: None,
        },
        &mut std::io::stderr(),
    )?;
    if a.rm {
        manifest_list::remove(&store, &a.list)?;
    }
    Ok(ExitCode::SUCCESS)
}
