//! `berth inspect NAME...`: a container's record, state, namespaces, mounts and capabilities
//! (from its runtime spec), or an image's manifest and config, as JSON.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::cli::Cli;
use wharf_container::{self as container, Found};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A Go template such as `{{.State.Status}}` instead of JSON
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

fn container_json(f: &Found) -> Value {
    let spec: Value = std::fs::read(f.dir.join("bundle/config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let process = &spec["process"];
    json!({
        "Id": f.record.id,
        "Name": f.record.name,
        "Created": f.record.created,
        "Image": f.record.image_id,
        "ImageName": f.record.image,
        "Path": f.record.command.first(),
        "Args": f.record.command.get(1..).unwrap_or_default(),
        "State": {
            "Status": f.status(),
            "Running": f.running(),
            "Pid": f.state.pid.unwrap_or(0),
            "MonitorPid": f.state.monitor_pid.unwrap_or(0),
            "ExitCode": f.state.exit_code.unwrap_or(0),
            "StartedAt": f.state.started,
            "FinishedAt": f.state.finished,
        },
        "OCIRuntime": f.record.runtime,
        "NetworkSettings": {
            "Ports": wharf_container::ports::inspect(&f.record.ports),
        },
        "GraphDriver": {
            "Name": f.record.driver,
            "Data": {
                "UpperDir": f.dir.join("upper"),
                "WorkDir": f.dir.join("work"),
                "MergedDir": f.dir.join("merged"),
            },
        },
        "Config": {
            "Hostname": spec["hostname"],
            "Env": process["env"],
            "WorkingDir": process["cwd"],
            "User": process["user"],
            "Cmd": f.record.command,
            "StopSignal": f.record.stop_signal,
        },
        "HostConfig": {
            "AutoRemove": f.record.remove,
            // The host ports are chosen when the container is created, so the bindings name
            // them, as podman's do.
            "PortBindings": wharf_container::ports::inspect(&f.record.ports),
            "ReadonlyRootfs": spec["root"]["readonly"],
            "CapAdd": [],
        },
        "EffectiveCaps": process["capabilities"]["effective"],
        "Namespaces": spec["linux"]["namespaces"],
        "UidMap": spec["linux"]["uidMappings"],
        "GidMap": spec["linux"]["gidMappings"],
        "Mounts": spec["mounts"],
        "Seccomp": !spec["linux"]["seccomp"].is_null(),
        "NoNewPrivileges": process["noNewPrivileges"],
        "CgroupPath": spec["linux"]["cgroupsPath"],
        "Resources": spec["linux"]["resources"],
        "BundlePath": f.dir.join("bundle"),
        "LogPath": f.dir.join(container::LOG),
    })
}

pub fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let store = super::open_store(cli)?;
    let mut out = Vec::new();
    for n in &args.names {
        let v = match container::find(&store, n) {
            Ok(f) => container_json(&f),
            Err(e) => wharf_cli::images::inspect_json(&store, n).map_err(|_| {
                anyhow::Error::new(e).context(format!("no container or image named {n:?}"))
            })?,
        };
        out.push(v);
    }
    match &args.format {
        Some(t) => {
            for v in &out {
                println!("{}", wharf_cli::template::render(t, v)?);
            }
        }
        None => println!("{}", serde_json::to_string_pretty(&out)?),
    }
    Ok(ExitCode::SUCCESS)
}
