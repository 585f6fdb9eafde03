//! `kiln copy` and `kiln add [--chown U:G] [--chmod MODE] [--from CTR|IMAGE] CTR SRC... DEST`:
//! copy host files, http(s) URLs (downloaded, never unpacked), or files of another container or
//! image into a working container with COPY's rules; `add` also unpacks local tar archives
//! (`buildah copy`, `buildah add`).

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use wharf_build::builder::{self, AddOptions};

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Owner of the copied files: USER[:GROUP], names resolved in the container [default: 0:0]
    #[arg(long, value_name = "USER[:GROUP]")]
    pub chown: Option<String>,
    /// Mode of the copied files (octal)
    #[arg(long, value_name = "MODE")]
    pub chmod: Option<String>,
    /// Copy from this working container or image instead of the host (owners are kept)
    #[arg(long, value_name = "CONTAINER|IMAGE")]
    pub from: Option<String>,
    /// Verify a downloaded source against this digest (sha256:HEX; http(s) sources only)
    #[arg(long, value_name = "DIGEST")]
    pub checksum: Option<String>,
    /// Working container name or ID
    pub container: String,
    /// Sources (host paths or http(s) URLs), then the destination (relative to the container's
    /// working directory)
    #[arg(required = true, num_args = 1.., value_name = "SRC... DEST")]
    pub paths: Vec<String>,
}

pub fn run(cli: &Cli, args: &Args, unpack: bool) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let ctr = builder::find(&store, &args.container)?;
    let (dest, sources) = match args.paths.split_last() {
        Some((d, s)) if !s.is_empty() => (d.clone(), s.to_vec()),
        // buildah: one argument is the source, copied to the working directory.
        Some((s, _)) => (".".to_owned(), vec![s.clone()]),
        None => bail!("no source given"),
    };
    // The runtime and registry context are made only when a source is to be downloaded.
    let urls = sources.iter().any(|s| {
        let l = s.to_ascii_lowercase();
        l.starts_with("http://") || l.starts_with("https://")
    });
    let net = if urls {
        Some(wharf_registry::Downloader::new(
            wharf_cli::registry::runtime()?.handle().clone(),
            wharf_registry::ClientOptions::default().with_config()?,
        ))
    } else {
        None
    };
    let opts = AddOptions {
        sources,
        dest,
        chown: args.chown.clone(),
        chmod: args.chmod.clone(),
        from: args.from.clone(),
        unpack,
        checksum: args.checksum.clone(),
        net,
    };
    builder::add(&store, &ctr, &opts)
        .with_context(|| format!("copying into container {:?}", args.container))?;
    Ok(ExitCode::SUCCESS)
}
