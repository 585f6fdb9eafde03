//! Containers on disk: `$ROOT/containers/<id>/` holds `container.json` (what was asked for,
//! written once), `state.json` (what happened: status, pid, exit code; rewritten atomically by
//! `run` and the monitor), `bundle/` (the OCI bundle), `upper/`, `work/`, `merged/` (the
//! overlay) and `ctr.log` (k8s-file logs of a detached container).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use wharf_store::Store;

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

/// `created`, `running`, `exited`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub status: String,
    /// The process to signal: the embedded runtime's relay, or `runc run`.
    pub pid: Option<i32>,
    /// The detached container's monitor.
    pub monitor_pid: Option<i32>,
    pub exit_code: Option<i32>,
    pub started: Option<String>,
    pub finished: Option<String>,
}

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
        self.state.status == "running" && self.state.pid.is_some_and(alive)
    }

    /// `running`, `exited`, `created`, or `stopped` when the state says running but its
    /// processes are gone (a killed monitor).
    pub fn status(&self) -> &str {
        match self.state.status.as_str() {
            "running" if !self.running() => "stopped",
            s => s,
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

/// For a detached container whose monitor is gone (killed) and whose process has ended: what
/// that monitor would have done on the way out that outlives it, stopping the private
/// network's helper (pasta forks into the background and slirp4netns is the monitor's child:
/// neither dies with it, and both keep the published ports taken).
pub fn clean_up_after_dead_monitor(f: &Found) {
    if f.state.monitor_pid.is_none_or(alive) {
        return;
    }
    // The embedded runtime's relay dies with its monitor (parent-death signal), but not at
    // once: as the last process mapping the sealed copy of berth it frees that copy on exit.
    if f.record.runtime == "embedded" {
        for _ in 0..250 {
            if !f.running() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    if !f.running() {
        wharf_sandbox::network::teardown(&f.dir);
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

/// A new container ID: 64 random hex digits.
pub fn new_id() -> String {
    use rand::Rng as _;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    })
}

pub fn write_json<T: Serialize>(dir: &Path, file: &str, value: &T) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(file);
    let tmp = dir.join(format!(".{file}.tmp"));
    // 0600, on a fresh inode: records hold the container's environment (`-e SECRET=...`).
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(&serde_json::to_vec_pretty(value)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))
}

pub fn load(dir: &Path) -> anyhow::Result<Found> {
    Ok(Found {
        dir: dir.to_path_buf(),
        record: read_json(&dir.join(RECORD))?,
        state: read_json(&dir.join(STATE)).unwrap_or_default(),
    })
}

/// Every container with a readable record, newest first.
pub fn list(store: &Store) -> anyhow::Result<Vec<Found>> {
    let dir = store.containers_dir();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.join(RECORD).is_file()
            && let Ok(found) = load(&path)
        {
            out.push(found);
        }
    }
    out.sort_by(|a, b| b.record.created.cmp(&a.record.created));
    Ok(out)
}

/// The container named `key`: by name, full ID or unique ID prefix.
pub fn find(store: &Store, key: &str) -> anyhow::Result<Found> {
    let all = list(store)?;
    if let Some(f) = all
        .iter()
        .find(|f| f.record.name == key || f.record.id == key)
    {
        return Ok(f.clone());
    }
    let matches: Vec<&Found> = all
        .iter()
        .filter(|f| !key.is_empty() && f.record.id.starts_with(key))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => anyhow::bail!("no container with name or ID {key:?} found"),
        _ => anyhow::bail!("container ID prefix {key:?} is ambiguous"),
    }
}

/// Waits until the container is no longer running; its state then.
pub fn wait_exited(found: &Found, timeout: Option<std::time::Duration>) -> anyhow::Result<Found> {
    let start = std::time::Instant::now();
    loop {
        let now = match load(&found.dir) {
            Ok(now) => now,
            // The monitor of a `--rm` container removes it once it has exited: gone is exited
            // (`rm -f` raced it here).
            Err(_) if !found.dir.join(RECORD).exists() => {
                let mut gone = found.clone();
                "exited".clone_into(&mut gone.state.status);
                return Ok(gone);
            }
            Err(e) => return Err(e),
        };
        let monitor_gone = now.state.monitor_pid.is_some_and(|p| !alive(p));
        if now.state.status == "exited" || !now.running() || monitor_gone {
            // A monitor writes `exited` right after its container ends; give it that moment.
            if now.state.status != "exited" && now.state.monitor_pid.is_some_and(alive) {
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
