//! `ferry inspect IMAGE`: skopeo's inspect document, the raw manifest, or the config.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_transport::Source;

use super::common::{RegistryArgs, parse_ref, runtime, store_for};
use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image reference (docker://, oci:, oci-archive:, docker-archive:, dir:, store:)
    pub image: String,
    /// Print the manifest (or index) exactly as stored
    #[arg(long)]
    pub raw: bool,
    /// Print the image configuration
    #[arg(long)]
    pub config: bool,
    /// Format the output with a Go template, e.g. '{{.Digest}}'
    #[arg(short, long)]
    pub format: Option<String>,
    /// Do not list the repository's tags
    #[arg(short = 'n', long)]
    pub no_tags: bool,
    /// Print the in-toto statements (SBOM, provenance) attached to the image as OCI 1.1
    /// referrers, as a JSON array (registries through the referrers API or its tag fallback,
    /// oci: layouts, store: images)
    #[arg(long, conflicts_with_all = ["raw", "config"])]
    pub attestations: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let r = parse_ref(&args.image)?;
    let store = store_for(cli, &[&r])?;
    let src = Source::open(&r, &args.registry.client_options(cli)?, store.as_ref())
        .with_context(|| format!("opening {r}"))?;
    let platform = cli.platform.platform();
    let rt = runtime()?;
    let mut out = std::io::stdout().lock();
    if args.raw && !args.config {
        let m = rt
            .block_on(src.manifest())
            .with_context(|| format!("reading {r}"))?;
        out.write_all(&m.bytes)?;
        return Ok(ExitCode::SUCCESS);
    }
    let want_tags = !args.no_tags
        && !args.config
        && !args.attestations
        && args
            .format
            .as_deref()
            .is_none_or(|f| f.contains("RepoTags"));
    let info = rt
        .block_on(wharf_transport::inspect(&src, platform.as_ref(), want_tags))
        .with_context(|| format!("inspecting {r}"))?;
    if args.attestations {
        let subject = info.image.digest.clone();
        let found = rt
            .block_on(wharf_transport::attestations::attestations(&src, &subject))
            .with_context(|| format!("reading the attestations of {r}"))?;
        let doc: Vec<&serde_json::Value> = found.iter().map(|a| &a.statement).collect();
        let doc = serde_json::to_value(doc)?;
        match &args.format {
            Some(t) => writeln!(out, "{}", wharf_cli::template::render(t, &doc)?)?,
            None => writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.config {
        if args.raw {
            out.write_all(&info.config)?;
        } else {
            let v: serde_json::Value = serde_json::from_slice(&info.config)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let doc = serde_json::to_value(&info.info)?;
    match &args.format {
        Some(t) => writeln!(out, "{}", wharf_cli::template::render(t, &doc)?)?,
        None => writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
