//! `kiln containers [-a] [--json] [-q] [--noheading] [--notruncate]`: list working containers
//! in buildah's columns; `-a` adds berth's containers (not builders).

use std::io::Write as _;
use std::process::ExitCode;

use wharf_build::builder;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also list containers not created by kiln (berth's)
    #[arg(short, long)]
    pub all: bool,
    /// Output as JSON
    #[arg(long)]
    pub json: bool,
    /// Print only container IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not print the column headings
    #[arg(short, long)]
    pub noheading: bool,
    /// Do not shorten IDs
    #[arg(long)]
    pub notruncate: bool,
}

struct Row {
    id: String,
    builder: bool,
    image_id: String,
    image_name: String,
    name: String,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let mut rows: Vec<Row> = builder::list(&store)?
        .into_iter()
        .map(|c| Row {
            id: c.record.id,
            builder: true,
            image_id: c
                .record
                .from_image_id
                .map(|d| d.digest().to_owned())
                .unwrap_or_default(),
            image_name: if c.record.from_image.is_empty() {
                "scratch".to_owned()
            } else {
                c.record.from_image
            },
            name: c.record.name,
        })
        .collect();
    if args.all {
        rows.extend(builder::other_containers(&store)?.into_iter().map(|o| Row {
            id: o.id,
            builder: false,
            image_id: o.image_id.trim_start_matches("sha256:").to_owned(),
            image_name: o.image,
            name: o.name,
        }));
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "builder": r.builder,
                    "imageid": r.image_id,
                    "imagename": r.image_name,
                    "containername": r.name,
                })
            })
            .collect();
        writeln!(
            out,
            "{}",
            super::pretty::json(&serde_json::Value::Array(list))?
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.quiet {
        for r in &rows {
            writeln!(out, "{}", r.id)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let short = |s: &str| -> String {
        if args.notruncate {
            s.to_owned()
        } else {
            s.chars().take(12).collect()
        }
    };
    // buildah's fixed-width columns.
    if !args.noheading {
        writeln!(
            out,
            "CONTAINER ID  BUILDER  IMAGE ID     IMAGE NAME                       CONTAINER NAME"
        )?;
    }
    for r in &rows {
        let builder = if r.builder { "   *" } else { "" };
        writeln!(
            out,
            "{:<12}  {builder:<8} {:<12} {:<32} {}",
            short(&r.id),
            short(&r.image_id),
            r.image_name,
            r.name
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
