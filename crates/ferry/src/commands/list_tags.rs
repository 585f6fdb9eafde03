//! `ferry list-tags docker://HOST/REPO`: the repository's tags as skopeo prints them.

use std::process::ExitCode;

use anyhow::Context as _;
use wharf_registry::RegistryClient;
use wharf_transport::ImageRef;

use super::common::{RegistryArgs, parse_ref, runtime};
use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Repository reference, docker://HOST/REPO
    pub repository: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let ImageRef::Docker(r) = parse_ref(&args.repository)? else {
        anyhow::bail!("list-tags needs a docker:// repository reference");
    };
    let client = RegistryClient::new(&r.registry, &args.registry.client_options(cli)?)?;
    let tags = runtime()?
        .block_on(client.list_tags(&r.repository, None))
        .with_context(|| format!("listing the tags of {}", r.name()))?;
    let doc = serde_json::json!({ "Repository": r.name(), "Tags": tags });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(ExitCode::SUCCESS)
}
