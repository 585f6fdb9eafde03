//! `berth volume create|ls|inspect|rm|prune`: named volumes, with podman's output.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{Value, json};
use wharf_sandbox::volume::{VolumeInfo, VolumeStore};

use crate::cli::Cli;
use wharf_container::{self as container, Found};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a named volume
    Create(CreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Show volumes' details as JSON
    Inspect(InspectArgs),
    /// Remove volumes
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove every volume no container uses
    Prune(PruneArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Set a label (`KEY=VALUE`)
    #[arg(short, long = "label", value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// Do nothing (and succeed) when the volume exists
    #[arg(long)]
    pub ignore: bool,
    /// The volume's name [default: a random ID]
    pub name: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// `json`, `table`, or a Go template such as `{{.Name}} {{.Mountpoint}}`
    #[arg(long)]
    pub format: Option<String>,
    /// Print only volume names
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A Go template such as `{{.Mountpoint}}` instead of JSON
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// Remove the containers that use the volumes first (killing running ones)
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

fn info_json(v: &VolumeInfo, users: usize) -> Value {
    json!({
        "Name": v.name,
        "Driver": v.driver,
        "Mountpoint": v.mountpoint,
        "CreatedAt": v.created_at,
        "Labels": v.labels,
        "Scope": "local",
        "Options": v.options,
        "MountCount": users,
        "NeedsCopyUp": v.needs_copy_up,
        "Anonymous": v.anonymous,
    })
}

/// The containers whose spec mounts `data` (a volume's `_data` directory).
fn users(all: &[Found], data: &Path) -> Vec<Found> {
    all.iter()
        .filter(|f| {
            let spec: Value = std::fs::read(f.dir.join("bundle/config.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null);
            spec["mounts"].as_array().is_some_and(|mounts| {
                mounts
                    .iter()
                    .any(|m| m["source"].as_str().is_some_and(|s| Path::new(s) == data))
            })
        })
        .cloned()
        .collect()
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let volumes = VolumeStore::new(store.root());
    match &args.command {
        Command::Create(a) => {
            let mut labels = BTreeMap::new();
            for l in &a.label {
                let (k, v) = l.split_once('=').unwrap_or((l, ""));
                labels.insert(k.to_string(), v.to_string());
            }
            let name = a.name.clone().unwrap_or_else(container::new_id);
            match volumes.create(&name, labels, &container::now()) {
                Err(wharf_sandbox::volume::VolumeError::AlreadyExists { .. }) if a.ignore => {}
                other => {
                    other?;
                }
            }
            println!("{name}");
        }
        Command::Ls(a) => {
            let list = volumes.list()?;
            match a.format.as_deref() {
                Some("json") => {
                    let all: Vec<Value> = list.iter().map(|v| info_json(v, 0)).collect();
                    println!("{}", serde_json::to_string_pretty(&all)?);
                }
                _ if a.quiet => list.iter().for_each(|v| println!("{}", v.name)),
                Some(t) if t != "table" => {
                    for v in &list {
                        println!("{}", wharf_cli::template::render(t, &info_json(v, 0))?);
                    }
                }
                _ => {
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|v| vec![v.driver.clone(), v.name.clone()])
                        .collect();
                    print!(
                        "{}",
                        wharf_cli::output::table(&["DRIVER", "VOLUME NAME"], &rows)
                    );
                }
            }
        }
        Command::Inspect(a) => {
            let all = container::list(&store)?;
            let mut out = Vec::new();
            for n in &a.names {
                let v = volumes.get(n)?;
                out.push(info_json(&v, users(&all, &v.mountpoint).len()));
            }
            match &a.format {
                Some(t) => {
                    for v in &out {
                        println!("{}", wharf_cli::template::render(t, v)?);
                    }
                }
                None => println!("{}", serde_json::to_string_pretty(&out)?),
            }
        }
        Command::Rm(a) => {
            let all = container::list(&store)?;
            // Check every name first, so that a refused one removes nothing.
            let mut plan = Vec::new();
            for n in &a.names {
                let v = volumes.get(n)?;
                let using = users(&all, &v.mountpoint);
                if !using.is_empty() && !a.force {
                    let names: Vec<&str> = using.iter().map(|f| f.record.name.as_str()).collect();
                    anyhow::bail!(
                        "volume {n} is being used by the following container(s): {}; hint: \
                         berth volume rm -f {n} removes them too",
                        names.join(", ")
                    );
                }
                plan.push((v, using));
            }
            for (v, using) in plan {
                for f in using {
                    container::control::remove(&f, true, false)?;
                }
                volumes.remove(&v.name)?;
                println!("{}", v.name);
            }
        }
        Command::Prune(a) => {
            if !a.force && !confirm()? {
                return Ok(ExitCode::SUCCESS);
            }
            let all = container::list(&store)?;
            for v in volumes.list()? {
                if users(&all, &v.mountpoint).is_empty() {
                    volumes.remove(&v.name)?;
                    println!("{}", v.name);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn confirm() -> anyhow::Result<bool> {
    use std::io::Write as _;
    print!(
        "WARNING! This will remove all volumes not used by at least one container.\n\
         Are you sure you want to continue? [y/N] "
    );
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
