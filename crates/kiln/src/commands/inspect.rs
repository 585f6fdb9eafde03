//! `kiln inspect IMAGE`: the image's names, manifest and config as JSON.

use std::io::Write as _;
use std::process::ExitCode;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image name, ID or digest
    pub image: String,
    /// Format the output with a Go template, e.g. `{{.Config.config.Cmd}}`
    #[arg(short, long)]
    pub format: Option<String>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let doc = wharf_cli::images::inspect_json(&store, &args.image)?;
    let mut out = std::io::stdout().lock();
    match &args.format {
        Some(t) => writeln!(out, "{}", wharf_cli::template::render(t, &doc)?)?,
        None => writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
