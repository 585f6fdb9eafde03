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

/// What happens once a container's process has ended, whoever notices it: the container's
/// monitor (through `berth container-cleanup`, the normal case), or a later `stop`, `rm`, `ps`,
/// `inspect` or `wait` when the monitor was killed. The one place for it, so that every way out
/// does all of it: an external runtime's container deleted and its cgroup removed, the private
/// network's helper stopped (pasta forks into the background and slirp4netns is the monitor's
/// child: neither dies with it, and both keep the published ports taken), the exit recorded,
/// the root filesystem unmounted, and a `--rm` container removed with its anonymous volumes.
/// Each step is idempotent, so a second caller finishes what a first one could not.
pub fn finish(dir: &Path, record: &Record, exit_code: Option<i32>) -> anyhow::Result<()> {
    if record.runtime != "embedded" {
        crate::commands::run::external_delete(dir, &record.runtime, &record.id);
    }
    // The embedded runtime removes its cgroup when its relay sees the container end; not when
    // the relay was killed with its monitor.
    crate::commands::rm::remove_leftover_cgroup(dir);
    // Before the state says exited: `rm` may remove the directory right after.
    wharf_sandbox::network::teardown(dir);
    let mut state: State = read_json(&dir.join(STATE)).unwrap_or_default();
    if state.status != "exited" {
        state.status = "exited".into();
        state.exit_code = exit_code;
        state.finished = Some(now());
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
                Err(e).with_context(|| format!("removing {}", dir.display()))
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
    if f.state.status != "running" || f.state.monitor_pid.is_none_or(alive) {
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
            && let Ok(mut found) = load(&path)
        {
            // A killed monitor left `running` behind a process that has ended: record the end
            // now, so that no command reports (or acts on) a state that is no longer true.
            if found.state.status == "running"
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

/// Whether `name` is taken by a container of the store: berth's, or a working container of
/// `kiln from` (`builder.json`; one namespace, as in containers/storage, and kiln checks
/// berth's the same way). Call it under [`Store::lock_container_names`].
pub fn name_taken(store: &Store, name: &str) -> anyhow::Result<bool> {
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }
    let dir = store.containers_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let path = entry?.path();
        for file in [RECORD, "builder.json"] {
            if let Ok(bytes) = std::fs::read(path.join(file))
                && serde_json::from_slice::<Named>(&bytes).is_ok_and(|r| r.name == name)
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
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
