//! `kiln inspect [--type container|image] NAME`: a working container's record, or an image's
//! names, manifest and config, as JSON.

use std::io::Write as _;
use std::process::ExitCode;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to inspect: container (a working container, else an image) or image
    #[arg(short, long = "type", value_name = "TYPE", default_value = "container",
          value_parser = ["container", "image"])]
    pub kind: String,
    /// Working container, or image name, ID or digest
    pub image: String,
    /// Format the output with a Go template, e.g. `{{.Config.config.Cmd}}`
    #[arg(short, long)]
    pub format: Option<String>,
    /// Print the image's SBOM statement (in-toto, SPDX or CycloneDX) that `kiln build --sbom`
    /// attached
    #[arg(long, conflicts_with = "provenance")]
    pub sbom: bool,
    /// Print the image's SLSA provenance statement that `kiln build` attached
    #[arg(long)]
    pub provenance: bool,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    if args.sbom || args.provenance {
        use wharf_build::attest;
        let (what, types, how) = if args.sbom {
            (
                "SBOM",
                &[attest::SPDX_PREDICATE, attest::CYCLONEDX_PREDICATE][..],
                "kiln build --sbom",
            )
        } else {
            (
                "provenance",
                &[attest::SLSA_V1_PREDICATE][..],
                "kiln build --provenance=min|max",
            )
        };
        let found = attest::find(&store, &args.image, types)?;
        let Some(last) = found.last() else {
            anyhow::bail!(
                "image {} has no {what} attestation in the store: build it with `{how}`",
                args.image
            );
        };
        let mut out = std::io::stdout().lock();
        match &args.format {
            Some(t) => writeln!(out, "{}", wharf_cli::template::render(t, &last.body)?)?,
            None => writeln!(out, "{}", serde_json::to_string_pretty(&last.body)?)?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    let container = if args.kind == "container" {
        match wharf_build::builder::find(&store, &args.image) {
            Ok(c) => Some(c),
            Err(wharf_build::builder::ContainerError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let doc = match container {
        Some(c) => c.inspect_json(),
        None => wharf_cli::images::inspect_json(&store, &args.image)?,
    };
    let mut out = std::io::stdout().lock();
    match &args.format {
        Some(t) => writeln!(out, "{}", wharf_cli::template::render(t, &doc)?)?,
        None => writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
