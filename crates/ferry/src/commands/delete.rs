//! `ferry delete docker://HOST/REPO:TAG`: delete the manifest a tag or digest names.

use std::process::ExitCode;

use anyhow::Context as _;
use wharf_registry::RegistryClient;
use wharf_transport::ImageRef;

use super::common::{RegistryArgs, parse_ref, runtime};
use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image reference, docker://HOST/REPO[:TAG|@DIGEST]
    pub image: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let ImageRef::Docker(r) = parse_ref(&args.image)? else {
        anyhow::bail!("delete needs a docker:// reference");
    };
    let client = RegistryClient::new(&r.registry, &args.registry.client_options(cli)?)?;
    runtime()?
        .block_on(async {
            // Registries delete by digest only: resolve a tag first.
            let digest = match &r.digest {
                Some(d) => d.clone(),
                None => {
                    client
                        .get_manifest(&r.repository, &r.tag_or_digest())
                        .await?
                        .digest
                }
            };
            client.delete_manifest(&r.repository, &digest).await
        })
        .with_context(|| format!("deleting {r}"))?;
    Ok(ExitCode::SUCCESS)
}
