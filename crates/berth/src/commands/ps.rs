//! `berth ps [-a] [--format]`: list containers.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::cli::Cli;
use wharf_container::{self as container, Found};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show all containers (default: only running ones)
    #[arg(short, long)]
    pub all: bool,
    /// `json`, `table`, or a Go template such as `{{.Names}} {{.ExitCode}}`
    #[arg(long)]
    pub format: Option<String>,
    /// Print only container IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not truncate IDs
    #[arg(long)]
    pub no_trunc: bool,
}

/// The fields `--format` and `--format json` see (podman's names).
pub fn summary(f: &Found) -> Value {
    json!({
        "Id": f.record.id,
        "ID": f.record.id[..12],
        "Names": f.record.name,
        "Image": f.record.image,
        "ImageID": f.record.image_id,
        "Command": f.record.command.join(" "),
        "Created": f.record.created,
        "State": f.status(),
        "Status": status_text(f),
        "ExitCode": f.state.exit_code.unwrap_or(0),
        "Pid": f.state.pid.unwrap_or(0),
        "Exited": f.status() == "exited",
        "Ports": wharf_container::ports::column(&f.record.ports),
    })
}

fn ago(when: Option<&str>) -> String {
    when.map(|t| wharf_cli::human::age(t, chrono::Utc::now()))
        .unwrap_or_default()
}

fn status_text(f: &Found) -> String {
    match f.status() {
        "running" => format!(
            "Up {}",
            ago(f.state.started.as_deref()).trim_end_matches(" ago")
        ),
        "exited" => format!(
            "Exited ({}) {}",
            f.state.exit_code.unwrap_or(0),
            ago(f.state.finished.as_deref())
        ),
        s => s.to_string(),
    }
}

fn command_column(cmd: &str, full: bool) -> String {
    if full || cmd.chars().count() <= 20 {
        return cmd.to_string();
    }
    let mut short: String = cmd.chars().take(19).collect();
    short.push('…');
    short
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let list: Vec<Found> = container::list(&store)?
        .into_iter()
        .filter(|f| args.all || f.running())
        .collect();
    let id = |f: &Found| {
        if args.no_trunc {
            f.record.id.clone()
        } else {
            f.record.id[..12].to_string()
        }
    };
    match args.format.as_deref() {
        Some("json") => {
            let all: Vec<Value> = list.iter().map(summary).collect();
            println!("{}", serde_json::to_string_pretty(&all)?);
        }
        _ if args.quiet => list.iter().for_each(|f| println!("{}", id(f))),
        Some(t) if t != "table" => {
            for f in &list {
                println!("{}", wharf_cli::template::render(t, &summary(f))?);
            }
        }
        _ => {
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|f| {
                    vec![
                        id(f),
                        f.record.image.clone(),
                        command_column(&f.record.command.join(" "), args.no_trunc),
                        ago(Some(&f.record.created)),
                        status_text(f),
                        wharf_container::ports::column(&f.record.ports),
                        f.record.name.clone(),
                    ]
                })
                .collect();
            print!(
                "{}",
                wharf_cli::output::table(
                    &[
                        "CONTAINER ID",
                        "IMAGE",
                        "COMMAND",
                        "CREATED",
                        "STATUS",
                        "PORTS",
                        "NAMES"
                    ],
                    &rows
                )
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
