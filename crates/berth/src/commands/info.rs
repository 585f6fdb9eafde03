//! `berth info`: the storage driver, rootless mode, runtimes and store root.

use std::process::ExitCode;

use serde_json::json;

use crate::cli::Cli;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `json`, or a Go template such as `{{.Store.Driver}}`
    #[arg(short, long)]
    pub format: Option<String>,
}

fn in_path(tool: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let driver = wharf_sandbox::overlay::Driver::detect(&store.containers_dir()).info();
    let rootless = std::env::var_os(wharf_sandbox::userns::USERNS_ENV);
    let uid_map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    let cgroup = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "v2"
    } else if std::path::Path::new("/sys/fs/cgroup/unified").exists() {
        "v1 (hybrid)"
    } else {
        "v1"
    };
    let rejected: Vec<String> = driver
        .rejected
        .iter()
        .map(|(n, why)| format!("{n}: {why}"))
        .collect();
    let others: Vec<String> = ["runc", "crun", "youki"]
        .iter()
        .filter_map(|r| in_path(r))
        .collect();
    let info = json!({
        "Host": {
            "Rootless": rootless.is_some(),
            "IdMapMode": rootless.map(|m| m.to_string_lossy().into_owned()),
            "UidMap": uid_map.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>(),
            "Kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
            "CgroupVersion": cgroup,
            "OCIRuntime": "embedded",
            "OtherRuntimes": others,
            "Network": ["none", "host"],
        },
        "Store": {
            "Root": store.root(),
            "Driver": driver.name,
            "UserXattr": driver.userxattr,
            "DriversRejected": rejected,
        },
        "Version": env!("CARGO_PKG_VERSION"),
    });
    match args.format.as_deref() {
        Some("json") => println!("{}", serde_json::to_string_pretty(&info)?),
        Some(t) => println!("{}", wharf_cli::template::render(t, &info)?),
        None => {
            println!("host:");
            for (k, v) in info["Host"].as_object().into_iter().flatten() {
                println!("  {k}: {v}");
            }
            println!("store:");
            for (k, v) in info["Store"].as_object().into_iter().flatten() {
                println!("  {k}: {v}");
            }
            println!("version: {}", info["Version"]);
        }
    }
    Ok(ExitCode::SUCCESS)
}
