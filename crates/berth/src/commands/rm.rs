//! `berth rm [-f] CONTAINER...`: remove containers (`-f` kills running ones first).

use std::process::ExitCode;

use anyhow::Context as _;
use nix::sys::signal::Signal;

use crate::cli::Cli;
use crate::container;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Kill running containers first
    #[arg(short, long)]
    pub force: bool,
    /// Also remove the containers' anonymous volumes (made for the image's `VOLUME`s)
    #[arg(short, long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    for c in &args.containers {
        let mut f = container::find(&store, c)?;
        if f.running() {
            anyhow::ensure!(
                args.force,
                "container {} is running; hint: berth stop {c}, or berth rm -f {c}",
                f.record.name
            );
            super::kill::signal(&f, Signal::SIGKILL)?;
            f = container::wait_exited(&f, None)?;
        }
        container::clean_up_after_dead_monitor(&f);
        remove_leftover_cgroup(&f.dir);
        // A monitor removes a --rm container itself once it has exited.
        if f.dir.exists() {
            std::fs::remove_dir_all(&f.dir)
                .with_context(|| format!("removing {}", f.dir.display()))?;
        }
        // A `--rm` container's anonymous volumes go with it, whoever removes it.
        if args.volumes || f.record.remove {
            container::remove_anonymous_volumes(&f.dir, &f.record);
        }
        println!("{c}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Kills what is left in the container's cgroup and removes it. An external runtime deletes
/// its cgroup itself, but not when it was killed first (`rm -f` of a busy machine showed
/// runc's directories staying behind); this is the last chance, while `bundle/config.json`
/// still says where the cgroup is.
pub fn remove_leftover_cgroup(dir: &std::path::Path) {
    let Ok(bytes) = std::fs::read(dir.join("bundle/config.json")) else {
        return;
    };
    let Ok(spec) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return;
    };
    if let Some(path) = spec["linux"]["cgroupsPath"].as_str() {
        let cg = wharf_sandbox::cgroup::Cgroup::existing(path);
        cg.kill_all();
        cg.remove();
    }
}
