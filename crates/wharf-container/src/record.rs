//! Containers on disk: `$ROOT/containers/<id>/` holds `container.json` (what was asked for,
//! written once), `state.json` (what happened: status, pid, exit code; rewritten atomically by
//! `run` and the monitor), `bundle/` (the OCI bundle), `upper/`, `work/`, `merged/` (the
//! overlay) and `ctr.log` (k8s-file logs of a detached container).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use wharf_store::Store;

use crate::ContainerError;
use crate::error::Ctx as _;

/// What `berth run` was asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub name: String,
    pub image: String,
    pub image_id: String,
    /// The process's argv, as the spec has it.
    pub command: Vec<String>,
    pub created: String,
    /// `embedded`, or the external runtime's program.
    pub runtime: String,
    pub driver: String,
    pub detached: bool,
    pub remove: bool,
    /// Signal `berth stop` sends first (the image's `StopSignal`, else SIGTERM).
    pub stop_signal: String,
    /// The anonymous volumes made for the image's `VOLUME`s, removed with the container by
    /// `rm -v` and `run --rm`.
    #[serde(default)]
    pub anonymous_volumes: Vec<String>,
    /// Published ports (`-p`), with the host ports berth chose where none was given.
    #[serde(default)]
    pub ports: Vec<crate::ports::Published>,
}

/// Where a container is in its life. It only moves forward: `created` (record written, not
/// started) → `running` (its process started) → `exited` (its end recorded, once). Stored
/// lower-case in `state.json`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Created,
    Running,
    Exited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
        }
    }
}

/// What happened to a container: `state.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    /// The process to signal: the embedded runtime's relay, or `runc run`.
    pub pid: Option<i32>,
    /// The detached container's monitor.
    pub monitor_pid: Option<i32>,
    pub exit_code: Option<i32>,
    pub started: Option<String>,
    pub finished: Option<String>,
}

impl State {
    /// A container whose record is written and whose process has not started.
    pub fn created() -> Self {
        State::default()
    }

    /// The state once the container's process `pid` runs, watched by `monitor` when detached.
    pub fn started(pid: i32, monitor: Option<i32>) -> Self {
        State {
            status: Status::Running,
            pid: Some(pid),
            monitor_pid: monitor,
            started: Some(now()),
            ..State::default()
        }
    }

    /// Records the end with `exit_code` (unknown: `None`). Returns whether anything changed:
    /// a container ends once, and the first end recorded (with its exit code) stays.
    pub fn exit(&mut self, exit_code: Option<i32>) -> bool {
        if self.status == Status::Exited {
            return false;
        }
        self.status = Status::Exited;
        self.exit_code = exit_code;
        self.finished = Some(now());
        true
    }
}

/// berth's record of a container, in its directory.
pub const RECORD: &str = "container.json";
pub const STATE: &str = "state.json";
pub const LOG: &str = "ctr.log";

/// A container found in the store.
#[derive(Debug, Clone)]
pub struct Found {
    pub dir: PathBuf,
    pub record: Record,
    pub state: State,
}

impl Found {
    /// Whether the container's process is alive (the state file says so and the pid exists).
    pub fn running(&self) -> bool {
        self.state.status == Status::Running && self.state.pid.is_some_and(alive)
    }

    /// `running`, `exited`, `created`, or `stopped` when the state says running but its
    /// processes are gone (a killed monitor).
    pub fn status(&self) -> &'static str {
        match self.state.status {
            Status::Running if !self.running() => "stopped",
            s => s.as_str(),
        }
    }
}

/// Whether process `pid` exists (a zombie counts as gone).
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|rest| rest.split_whitespace().next() != Some("Z"))
    })
}

/// What happens once a container's process has ended, whoever notices it: the container's
/// monitor (through `berth container-cleanup`, the normal case), or a later `stop`, `rm`, `ps`,
/// `inspect` or `wait` when the monitor was killed. The one place for it, so that every way out
/// does all of it: an external runtime's container deleted and its cgroup removed, the private
/// network's helper stopped (pasta forks into the background and slirp4netns is the monitor's
/// child: neither dies with it, and both keep the published ports taken), the exit recorded,
/// the root filesystem unmounted, and a `--rm` container removed with its anonymous volumes.
/// Each step is idempotent, so a second caller finishes what a first one could not.
pub fn finish(dir: &Path, record: &Record, exit_code: Option<i32>) -> Result<(), ContainerError> {
    if record.runtime != "embedded" {
        crate::runtime::delete(dir, &record.runtime, &record.id);
    }
    // The embedded runtime removes its cgroup when its relay sees the container end; not when
    // the relay was killed with its monitor.
    crate::runtime::remove_leftover_cgroup(dir);
    // Before the state says exited: `rm` may remove the directory right after.
    wharf_sandbox::network::teardown(dir);
    let mut state: State = read_json(&dir.join(STATE)).unwrap_or_default();
    if state.exit(exit_code) {
        write_json(dir, STATE, &state)?;
    }
    if let Ok(driver) = wharf_sandbox::overlay::Driver::by_name(&record.driver) {
        let _ = driver.unmount(&dir.join("merged"));
    }
    // Rootless, the container's files belong to the user's subordinate IDs: only root of the
    // user namespace (the monitor, `rm`) can remove them all. A caller outside it (`ps`) leaves
    // the removal to one of those rather than delete the record and strand the rest.
    if record.remove && rustix::process::geteuid().is_root() {
        // `rm -f` may be removing it at the same time: gone is what was wanted.
        let removed = match std::fs::remove_dir_all(dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).ctx(|| format!("removing {}", dir.display()))
            }
            _ => Ok(()),
        };
        remove_anonymous_volumes(dir, record);
        removed?;
    }
    Ok(())
}

/// For a detached container whose monitor is gone (killed) and whose process has ended: what
/// the monitor would have done on its way out ([`finish`]), with the exit code unknown.
pub fn clean_up_after_dead_monitor(f: &Found) {
    if f.state.status != Status::Running || f.state.monitor_pid.is_none_or(alive) {
        return;
    }
    // The embedded runtime's relay dies with its monitor (parent-death signal), but not at
    // once: as the last process mapping the sealed copy of berth it frees that copy on exit.
    // A `runc run` that `rm -f` has just killed takes its moment too (its container does not
    // die with it: the runtime's delete in `finish` kills that).
    for _ in 0..250 {
        if !f.running() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    if !f.running() {
        let _ = finish(&f.dir, &f.record, f.state.exit_code);
    }
}

/// Removes the anonymous volumes of the container whose directory is `dir`
/// (`$ROOT/containers/<id>`, so the store's root is two levels up).
pub fn remove_anonymous_volumes(dir: &Path, record: &Record) {
    if let Some(root) = dir.parent().and_then(Path::parent) {
        crate::volumes::remove_anonymous(root, &record.anonymous_volumes);
    }
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Writes `dir/file` as pretty JSON, atomically (a fresh temporary file renamed over it) and
/// readable by the owner only: records hold the container's environment (`-e SECRET=...`).
/// Not synced: a crash ends the container anyway, and `berth rm` cleans up what is left.
pub fn write_json<T: Serialize>(dir: &Path, file: &str, value: &T) -> Result<(), ContainerError> {
    let path = dir.join(file);
    let tmp = dir.join(format!(".{file}.tmp"));
    let json = serde_json::to_vec_pretty(value).ctx(|| format!("serialising {file}"))?;
    wharf_fs::Atomic::new(&path)
        .mode(0o600)
        .temp_at(&tmp)
        .durability(wharf_fs::Durability::Unsynced)
        .write(&json)
        .ctx(|| format!("writing {}", path.display()))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ContainerError> {
    let text = std::fs::read(path).ctx(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).ctx(|| format!("parsing {}", path.display()))
}

/// The container in `dir`: its record, and its state (`created` when there is none yet).
pub fn load(dir: &Path) -> Result<Found, ContainerError> {
    Ok(Found {
        dir: dir.to_path_buf(),
        record: read_json(&dir.join(RECORD))?,
        state: read_json(&dir.join(STATE)).unwrap_or_default(),
    })
}

/// Every container with a readable record, newest first.
pub fn list(store: &Store) -> Result<Vec<Found>, ContainerError> {
    let dir = store.containers_dir();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).ctx(|| format!("reading {}", dir.display()))? {
        let path = entry.ctx(|| format!("reading {}", dir.display()))?.path();
        if path.join(RECORD).is_file()
            && let Ok(mut found) = load(&path)
        {
            // A killed monitor left `running` behind a process that has ended: record the end
            // now, so that no command reports (or acts on) a state that is no longer true.
            if found.state.status == Status::Running
                && found.state.monitor_pid.is_some_and(|p| !alive(p))
                && !found.running()
            {
                clean_up_after_dead_monitor(&found);
                match load(&path) {
                    Ok(now) => found = now,
                    Err(_) => continue,
                }
            }
            out.push(found);
        }
    }
    out.sort_by(|a, b| b.record.created.cmp(&a.record.created));
    Ok(out)
}

/// The container named `key`: by name, full ID or unique ID prefix ([`crate::lookup`]).
pub fn find(store: &Store, key: &str) -> Result<Found, ContainerError> {
    let all = list(store)?;
    crate::lookup::by_key(&all, key, |f| &f.record.id, |f| &f.record.name).cloned()
}

/// Waits until the container is no longer running; its state then.
pub fn wait_exited(
    found: &Found,
    timeout: Option<std::time::Duration>,
) -> Result<Found, ContainerError> {
    let start = std::time::Instant::now();
    loop {
        let now = match load(&found.dir) {
            Ok(now) => now,
            // The monitor of a `--rm` container removes it once it has exited: gone is exited
            // (`rm -f` raced it here).
            Err(_) if !found.dir.join(RECORD).exists() => {
                let mut gone = found.clone();
                gone.state.status = Status::Exited;
                return Ok(gone);
            }
            Err(e) => return Err(e),
        };
        let monitor_gone = now.state.monitor_pid.is_some_and(|p| !alive(p));
        if now.state.status == Status::Exited || !now.running() || monitor_gone {
            // A monitor writes `exited` right after its container ends; give it that moment.
            if now.state.status != Status::Exited && now.state.monitor_pid.is_some_and(alive) {
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            }
            return Ok(now);
        }
        if timeout.is_some_and(|t| start.elapsed() >= t) {
            return Ok(now);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_moves_forward_and_ends_once() {
        let mut s = State::created();
        assert_eq!(s.status, Status::Created);
        s = State::started(4242, Some(4241));
        assert_eq!(s.status, Status::Running);
        assert_eq!((s.pid, s.monitor_pid), (Some(4242), Some(4241)));
        assert!(s.started.is_some() && s.finished.is_none());
        assert!(s.exit(Some(3)));
        assert_eq!((s.status, s.exit_code), (Status::Exited, Some(3)));
        let finished = s.finished.clone();
        // A second end (a later command after the monitor) changes nothing.
        assert!(!s.exit(None));
        assert_eq!((s.exit_code, &s.finished), (Some(3), &finished));
    }

    /// The files written before this crate existed still read, and are written the same way.
    #[test]
    fn state_and_record_files_keep_their_format() {
        let old = r#"{"status":"running","pid":12,"monitor_pid":11,"exit_code":null,
            "started":"2026-01-01T00:00:00Z","finished":null}"#;
        let s: State = serde_json::from_str(old).unwrap();
        assert_eq!(s.status, Status::Running);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["status"], "running");
        let mut exited = s;
        exited.exit(Some(0));
        assert_eq!(serde_json::to_value(&exited).unwrap()["status"], "exited");
        assert_eq!(
            serde_json::to_value(State::created()).unwrap()["status"],
            "created"
        );

        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        for (id, name) in [("abc1", "web"), ("abd2", "db")] {
            let dir = store
                .container_dir(&format!("{id}{}", "0".repeat(60)))
                .unwrap();
            std::fs::create_dir_all(&dir).unwrap();
            // A record as berth wrote it before `anonymous_volumes` and `ports` existed.
            let record = serde_json::json!({
                "id": dir.file_name().unwrap().to_str().unwrap(), "name": name,
                "image": "box", "image_id": "sha256:00", "command": ["sh"],
                "created": now(), "runtime": "embedded", "driver": "overlay",
                "detached": false, "remove": false, "stop_signal": "SIGTERM"
            });
            std::fs::write(dir.join(RECORD), record.to_string()).unwrap();
            write_json(&dir, STATE, &State::created()).unwrap();
        }
        assert_eq!(find(&store, "abc").unwrap().record.name, "web");
        assert_eq!(find(&store, "db").unwrap().status(), "created");
        assert!(matches!(
            find(&store, "ab"),
            Err(ContainerError::Ambiguous { .. })
        ));
        assert_eq!(list(&store).unwrap().len(), 2);
    }
}
