//! `kiln config [--env K=V|K-] [--cmd ...] [--entrypoint ...] [--label K=V|K-] ... CTR`: change
//! the config that `kiln commit` writes (`buildah config`).

use std::process::ExitCode;

use anyhow::Context as _;
use wharf_build::builder::{self, ConfigChanges};

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Set an environment variable (KEY=VALUE, $NAME expands) or remove one (KEY-) (repeatable)
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Default command: a JSON array, or words split as a shell would
    #[arg(long, value_name = "COMMAND", allow_hyphen_values = true)]
    pub cmd: Option<String>,
    /// Entrypoint: a JSON array, or a string run by /bin/sh -c ("" clears it)
    #[arg(long, value_name = "ENTRYPOINT", allow_hyphen_values = true)]
    pub entrypoint: Option<String>,
    /// Set a label (KEY=VALUE) or remove one (KEY-) (repeatable)
    #[arg(short, long = "label", value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// Set a manifest annotation (KEY=VALUE) or remove one (KEY-) (repeatable)
    #[arg(short, long = "annotation", value_name = "KEY=VALUE")]
    pub annotation: Vec<String>,
    /// Working directory for commands
    #[arg(long, value_name = "DIR")]
    pub workingdir: Option<String>,
    /// User (and group) commands run as
    #[arg(short, long, value_name = "USER[:GROUP]")]
    pub user: Option<String>,
    /// Expose a port (PORT[/PROTO]) or stop exposing one (PORT[/PROTO]-) (repeatable)
    #[arg(short, long = "port", value_name = "PORT[/PROTO]")]
    pub port: Vec<String>,
    /// Declare a volume (PATH) or remove one (PATH-) (repeatable)
    #[arg(short, long = "volume", value_name = "PATH")]
    pub volume: Vec<String>,
    /// Author of the image
    #[arg(long, value_name = "AUTHOR")]
    pub author: Option<String>,
    /// `created_by` of the history entry the next commit writes [default: /bin/sh]
    #[arg(long, value_name = "TEXT")]
    pub created_by: Option<String>,
    /// Shell for shell-form commands (docker format only)
    #[arg(long, value_name = "SHELL")]
    pub shell: Option<String>,
    /// Signal that stops the container
    #[arg(long, value_name = "SIGNAL")]
    pub stop_signal: Option<String>,
    /// Comment of the history entry the next commit writes
    #[arg(long, value_name = "TEXT")]
    pub history_comment: Option<String>,
    /// Working container name or ID
    pub container: String,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let changes = ConfigChanges {
        env: args.env.clone(),
        cmd: args.cmd.clone(),
        entrypoint: args.entrypoint.clone(),
        labels: args.label.clone(),
        annotations: args.annotation.clone(),
        working_dir: args.workingdir.clone(),
        user: args.user.clone(),
        ports: args.port.clone(),
        volumes: args.volume.clone(),
        author: args.author.clone(),
        created_by: args.created_by.clone(),
        shell: args.shell.clone(),
        stop_signal: args.stop_signal.clone(),
        history_comment: args.history_comment.clone(),
    };
    let warnings = builder::update(&store, &args.container, |record| {
        builder::configure(record, &changes)
    })
    .with_context(|| format!("configuring container {:?}", args.container))?;
    for w in warnings {
        eprintln!("WARN: {w}");
    }
    Ok(ExitCode::SUCCESS)
}
