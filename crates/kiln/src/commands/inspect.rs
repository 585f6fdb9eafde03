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
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
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
