//! `kiln from [--name NAME] [--pull POLICY] IMAGE|scratch`: create a working container and print
//! its name (`buildah from`).

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use wharf_build::ManifestFormat;
use wharf_build::builder::{self, FromOptions};
use wharf_cli::registry::RegistryArgs;
use wharf_store::Store;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name for the working container [default: IMAGE-working-container[-N]]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// When to pull the image from a registry: always, missing, never (true = always,
    /// false = missing)
    #[arg(long, value_name = "POLICY", default_value = "missing", num_args = 0..=1,
          require_equals = true, default_missing_value = "always",
          value_parser = ["always", "missing", "never", "true", "false"])]
    pub pull: String,
    /// Format of images committed from this container: oci or docker
    #[arg(long, value_name = "FORMAT", default_value = "oci", value_parser = ["oci", "docker"])]
    pub format: String,
    /// Network of later `kiln run`s in this container that give no --network: private (the
    /// default: an own namespace with outbound access through pasta, else slirp4netns), pasta,
    /// slirp4netns, host or none
    #[arg(long, value_name = "MODE", value_parser = wharf_build::network::NETWORK_VALUES)]
    pub network: Option<String>,
    /// Isolation of later `kiln run`s in this container that give no --isolation: oci,
    /// chroot or rootfs (see `kiln build --isolation`)
    #[arg(long, value_name = "MODE", value_parser = wharf_sandbox::isolation::Isolation::NAMES)]
    pub isolation: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Print nothing while pulling
    #[arg(short, long)]
    pub quiet: bool,
    /// The base image (a name, short name or ID of the store, or a registry image), or scratch
    pub image: String,
}

fn pull(store: &Store, args: &Args) -> anyhow::Result<String> {
    let pull_args = wharf_cli::pull::PullArgs {
        image: args.image.clone(),
        registry: args.registry.clone(),
        all_platforms: false,
        quiet: args.quiet,
        referrers: false,
    };
    let mut id = Vec::new();
    let mut progress: Box<dyn std::io::Write> = if args.quiet {
        Box::new(std::io::sink())
    } else {
        Box::new(std::io::stderr())
    };
    wharf_cli::pull::pull(store, &pull_args, &mut id, &mut progress)
        .with_context(|| format!("pulling {}", args.image))?;
    Ok(String::from_utf8_lossy(&id).trim().to_owned())
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let mut image = args.image.clone();
    if image != "scratch" {
        let opts = args.registry.client_options()?;
        let found = wharf_cli::pull::find_local(&store, &image, &opts);
        let local = found.is_some();
        // A short name found under one of its registry names (a search registry, an alias).
        if let Some(r) = found
            && store.resolve(&image).is_err()
        {
            image = store.image_id(&r)?.digest().to_string();
        }
        let policy = args.pull.as_str();
        match (policy, local) {
            ("always" | "true", _) | ("missing" | "false", false) => image = pull(&store, args)?,
            ("never", false) => bail!("image {image:?} not found in the store (--pull=never)"),
            _ => {}
        }
    }
    let opts = FromOptions {
        image,
        name: args.name.clone(),
        format: ManifestFormat::parse(&args.format).unwrap_or_default(),
        network: args.network.clone(),
        isolation: args.isolation.clone(),
    };
    let ctr = builder::create(&store, &opts)
        .with_context(|| format!("creating a working container from {}", args.image))?;
    for w in &ctr.unpack_warnings {
        eprintln!("WARN: {w}");
    }
    println!("{}", ctr.record.name);
    Ok(ExitCode::SUCCESS)
}
