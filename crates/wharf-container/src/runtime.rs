//! The external OCI runtime driver (runc, crun, youki: runc's command line), beside the
//! embedded runtime of `wharf-sandbox`. A container's runtime state lives in its own directory
//! (`DIR/runtime`, runc's `--root`), so that nothing outside the container's directory holds it.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::ContainerError;
use crate::error::{bail, ensure};
use crate::record::Record;

/// The runtime `--runtime NAME` asks for: `embedded` (also when not given), a path, or a
/// program found in `PATH`.
pub fn program(name: Option<&str>) -> Result<String, ContainerError> {
    let Some(name) = name.filter(|n| *n != "embedded") else {
        return Ok("embedded".into());
    };
    if name.contains('/') {
        ensure!(
            Path::new(name).is_file(),
            "OCI runtime {name} does not exist"
        );
        return Ok(name.into());
    }
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()));
    if !found {
        bail!(
            "OCI runtime {name:?} not found in PATH; hint: install the Debian package {name}, or \
             leave --runtime out to use the embedded runtime"
        );
    }
    Ok(name.into())
}

/// `--init`: the embedded runtime's own init, or a static init from the host for an external
/// runtime.
pub fn init_mode(runtime: &str) -> Result<wharf_sandbox::spec::init::InitMode, ContainerError> {
    use wharf_sandbox::spec::init::{InitMode, find_init_binary};
    if runtime == "embedded" {
        return Ok(InitMode::Embedded);
    }
    match find_init_binary() {
        Some(path) => Ok(InitMode::Binary(path)),
        None => bail!(
            "--init with --runtime {runtime} needs an init binary on the host (catatonit, \
             tini-static or tini in PATH); hint: apt-get install catatonit, or leave --runtime \
             out to use the embedded runtime's own init"
        ),
    }
}

/// A warning for the user about `runtime` on this host, if there is one to give.
pub fn host_warning(runtime: &str) -> Option<&'static str> {
    (runtime == "crun" && Path::new("/sys/fs/cgroup/unified").is_dir()).then_some(
        "crun 1.8 refuses hybrid cgroup hosts like this one (\"cgroups in hybrid mode not \
         supported\"); use --runtime runc or the embedded runtime",
    )
}

/// `RUNTIME --root DIR/runtime` for the container in `dir`.
fn base(runtime: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(runtime);
    cmd.arg("--root").arg(dir.join("runtime"));
    cmd
}

/// `RUNTIME --root DIR/runtime run -b DIR/bundle ID` for the container in `dir`: the runtime
/// process stays the container's parent and exits with it.
pub fn run_command(record: &Record, dir: &Path) -> Command {
    let mut cmd = base(&record.runtime, dir);
    cmd.arg("run")
        .arg("-b")
        .arg(dir.join("bundle"))
        .arg(&record.id);
    cmd
}

/// `RUNTIME delete --force ID`: when `runc run` itself was killed (`rm -f`), its container's
/// processes and cgroup would stay behind. Best effort: nothing to delete is fine.
pub fn delete(dir: &Path, runtime: &str, id: &str) {
    let _ = base(runtime, dir)
        .args(["delete", "--force", id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Whether `RUNTIME state ID` says the container runs.
pub fn is_running(record: &Record, dir: &Path) -> bool {
    let out = base(&record.runtime, dir)
        .args(["state", &record.id])
        .stderr(Stdio::null())
        .output();
    out.ok()
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .is_some_and(|v| v["status"] == "running")
}

/// Polls `RUNTIME state ID` until the container runs, `child` (its `run`) exits, or 10 s pass.
pub fn wait_until_running(child: &mut std::process::Child, record: &Record, dir: &Path) {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(10) {
        if !matches!(child.try_wait(), Ok(None)) || is_running(record, dir) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A process's end as a shell's exit code: its code, or 128+N for signal N.
pub fn exit_code(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(125),
        (None, Some(s)) => u8::try_from(128 + (s & 0x7f)).unwrap_or(125),
        _ => 125,
    }
}

/// Kills what is left in the container's cgroup and removes it. An external runtime deletes
/// its cgroup itself, but not when it was killed first (`rm -f` of a busy machine showed
/// runc's directories staying behind); this is the last chance, while `bundle/config.json`
/// still says where the cgroup is.
pub fn remove_leftover_cgroup(dir: &Path) {
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

/// The OCI runtime spec of the container's bundle (`bundle/config.json`).
pub fn read_spec(bundle: &Path) -> Result<oci_spec::runtime::Spec, ContainerError> {
    use crate::error::Ctx as _;
    let path = bundle.join("config.json");
    let text = std::fs::read(&path).ctx(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).ctx(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_as_a_shell_gives_them() {
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(exit_code(std::process::ExitStatus::from_raw(3 << 8)), 3);
        // Killed by SIGKILL (9).
        assert_eq!(exit_code(std::process::ExitStatus::from_raw(9)), 137);
    }

    #[test]
    fn runtime_programs() {
        assert_eq!(program(None).unwrap(), "embedded");
        assert_eq!(program(Some("embedded")).unwrap(), "embedded");
        let err = program(Some("no-such-runtime-x")).unwrap_err().to_string();
        assert!(
            err.contains("not found in PATH") && err.contains("hint"),
            "{err}"
        );
        assert!(program(Some("/no/such/runc")).is_err());
    }
}
