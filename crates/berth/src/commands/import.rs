//! `berth import FILE|- [REFERENCE]`: create an image from a root filesystem tarball.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use wharf_build::import::ImportOptions;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tarball (plain, gzip or zstd), or `-` for standard input
    pub file: PathBuf,
    /// Name for the image; a name without a registry goes under localhost/
    pub reference: Option<String>,
    /// Apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER,
    /// VOLUME, WORKDIR
    #[arg(short, long = "change")]
    pub changes: Vec<String>,
    /// Commit message recorded in the image's history
    #[arg(short, long)]
    pub message: Option<String>,
    /// Print only the image ID
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let input: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("opening {}", args.file.display()))?,
        )
    };
    let opts = ImportOptions {
        changes: args.changes.clone(),
        message: args.message.clone(),
        created: None,
    };
    let names: Vec<String> = args.reference.iter().cloned().collect();
    let imported = wharf_build::import::import(&store, input, &names, &opts)
        .with_context(|| format!("importing {}", args.file.display()))?;
    for w in &imported.warnings {
        eprintln!("WARN: {w}");
    }
    let record = store.resolve(imported.digest.as_ref())?;
    let id = store.image_id(&record)?;
    println!(
        "{}",
        if args.quiet {
            id.digest().to_owned()
        } else {
            id.to_string()
        }
    );
    Ok(ExitCode::SUCCESS)
}
