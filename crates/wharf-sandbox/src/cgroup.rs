//! Resource limits through cgroups: `--memory`, `--cpus`, `--pids-limit`.
//!
//! A container with limits gets the cgroup `wharf/<id>`: in each v1 controller it needs
//! (`memory`, `cpu`, `pids`), or in the unified v2 hierarchy. The spec carries it as
//! `linux.cgroupsPath` plus `linux.resources`, so runc applies it itself and the embedded runtime
//! does the same ([`Cgroup::create`] before the container's first process runs, that process
//! added with [`Cgroup::add`] before it may exec, [`Cgroup::remove`] once it has exited).
//!
//! Rootless, the limits need cgroup v2 with the user's subtree delegated (systemd's
//! `Delegate=yes` for `user@.service`): [`check`] says so instead of ignoring a limit.
//!
//! ```no_run
//! # fn main() -> Result<(), wharf_sandbox::cgroup::CgroupError> {
//! use wharf_sandbox::cgroup::{Limits, check, parse_memory};
//! let limits = Limits { memory: Some(parse_memory("32m")?), ..Limits::default() };
//! let path = check(&limits, "0123abcd")?; // "/wharf/0123abcd", or why it cannot be done
//! # let _ = path;
//! # Ok(()) }
//! ```

use std::io;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResources, LinuxResourcesBuilder,
};

const ROOT: &str = "/sys/fs/cgroup";
/// `cpu.cfs_period_us` / the period of `cpu.max`, as podman and docker use.
pub const CPU_PERIOD: u64 = 100_000;

/// Errors of cgroup set-up.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("invalid {flag} value {value:?}: {reason}")]
    InvalidValue {
        flag: &'static str,
        value: String,
        reason: &'static str,
    },

    #[error(
        "{flags} cannot be enforced: {why}; hint: run berth as root, or use a host with \
         cgroup v2 where systemd delegates the user's cgroup subtree (Delegate=yes for \
         user@.service, the default on current systemd)"
    )]
    Unavailable { flags: String, why: String },

    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The limits of one container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Bytes.
    pub memory: Option<u64>,
    /// Microseconds of CPU time per [`CPU_PERIOD`] (`--cpus 1.5`: 150000).
    pub cpu_quota: Option<i64>,
    pub pids: Option<i64>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        self.memory.is_none() && self.cpu_quota.is_none() && self.pids.is_none()
    }

    /// The flags that set limits, for messages.
    pub fn flags(&self) -> String {
        let mut f = Vec::new();
        if self.memory.is_some() {
            f.push("--memory");
        }
        if self.cpu_quota.is_some() {
            f.push("--cpus");
        }
        if self.pids.is_some() {
            f.push("--pids-limit");
        }
        f.join(", ")
    }

    /// `linux.resources` of the spec.
    pub fn to_oci(&self) -> Result<LinuxResources, oci_spec::OciSpecError> {
        let mut r = LinuxResourcesBuilder::default();
        if let Some(m) = self.memory {
            r = r.memory(
                LinuxMemoryBuilder::default()
                    .limit(i64::try_from(m).unwrap_or(i64::MAX))
                    .build()?,
            );
        }
        if let Some(q) = self.cpu_quota {
            r = r.cpu(
                LinuxCpuBuilder::default()
                    .quota(q)
                    .period(CPU_PERIOD)
                    .build()?,
            );
        }
        if let Some(p) = self.pids {
            r = r.pids(LinuxPidsBuilder::default().limit(p).build()?);
        }
        r.build()
    }

    /// The limits `spec` asks for (`linux.resources`).
    pub fn from_oci(r: &LinuxResources) -> Limits {
        Limits {
            memory: r
                .memory()
                .as_ref()
                .and_then(oci_spec::runtime::LinuxMemory::limit)
                .and_then(|l| u64::try_from(l).ok()),
            cpu_quota: r.cpu().as_ref().and_then(|c| {
                let period = i64::try_from(c.period().unwrap_or(CPU_PERIOD).max(1)).ok()?;
                let scale = i64::try_from(CPU_PERIOD).ok()?;
                c.quota().filter(|q| *q > 0).map(|q| q * scale / period)
            }),
            pids: r.pids().as_ref().map(oci_spec::runtime::LinuxPids::limit),
        }
    }
}

/// `--memory`: bytes with an optional `b`, `k`, `m`, `g` unit (powers of 1024), at least 6 MiB
/// as podman requires.
pub fn parse_memory(s: &str) -> Result<u64, CgroupError> {
    let bad = |reason| CgroupError::InvalidValue {
        flag: "--memory",
        value: s.to_string(),
        reason,
    };
    let lower = s.trim().to_ascii_lowercase();
    let (digits, unit) = match lower.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => lower.split_at(i),
        None => (lower.as_str(), ""),
    };
    let unit = unit.trim_end_matches('b');
    let factor: u64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return Err(bad("expected a number with an optional unit b, k, m or g")),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| bad("expected a number with an optional unit b, k, m or g"))?;
    let bytes = n.checked_mul(factor).ok_or_else(|| bad("too large"))?;
    if bytes < 6 << 20 {
        return Err(bad("the minimum memory limit is 6m"));
    }
    Ok(bytes)
}

/// `--cpus`: a positive number of CPUs, at most the machine's; the CFS quota per
/// [`CPU_PERIOD`].
pub fn parse_cpus(s: &str) -> Result<i64, CgroupError> {
    let bad = |reason| CgroupError::InvalidValue {
        flag: "--cpus",
        value: s.to_string(),
        reason,
    };
    let n: f64 = s
        .trim()
        .parse()
        .map_err(|_| bad("expected a number like 1.5"))?;
    if !(n.is_finite() && n >= 0.01) {
        return Err(bad("must be at least 0.01"));
    }
    let have = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    #[allow(clippy::cast_precision_loss)]
    if n > have as f64 {
        return Err(bad("more CPUs than this machine has"));
    }
    #[allow(clippy::cast_precision_loss)]
    Ok((n * CPU_PERIOD as f64).round() as i64)
}

/// `--pids-limit`: a positive number (`-1` or `0`: unlimited, no limit set).
pub fn parse_pids(s: &str) -> Result<Option<i64>, CgroupError> {
    let n: i64 = s.trim().parse().map_err(|_| CgroupError::InvalidValue {
        flag: "--pids-limit",
        value: s.to_string(),
        reason: "expected a whole number",
    })?;
    Ok((n > 0).then_some(n))
}

/// The cgroup version the host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Controllers mounted one per directory (possibly with a v2 `unified` mount beside them:
    /// "hybrid").
    V1,
    /// One unified hierarchy at `/sys/fs/cgroup`.
    V2,
}

pub fn version() -> Version {
    if Path::new(ROOT).join("cgroup.controllers").is_file() {
        Version::V2
    } else {
        Version::V1
    }
}

/// The v1 controllers `limits` needs.
fn v1_controllers(limits: &Limits) -> Vec<&'static str> {
    let mut c = Vec::new();
    if limits.memory.is_some() {
        c.push("memory");
    }
    if limits.cpu_quota.is_some() {
        c.push("cpu");
    }
    if limits.pids.is_some() {
        c.push("pids");
    }
    c
}

/// This process's v2 cgroup (`0::/path` of `/proc/self/cgroup`), as a directory.
fn own_v2_cgroup() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let rel = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    Some(Path::new(ROOT).join(rel.trim_start_matches('/')))
}

fn writable(path: &Path) -> bool {
    rustix::fs::access(path, rustix::fs::Access::WRITE_OK).is_ok()
}

/// Checks that `limits` can be enforced here and returns the container's cgroup path (the
/// spec's `cgroupsPath`, relative to each hierarchy's root): `/wharf/<id>` as root; rootless on
/// v2, `wharf-<id>` beside this process's own cgroup when its parent is delegated to the user.
pub fn check(limits: &Limits, id: &str) -> Result<String, CgroupError> {
    let unavailable = |why: String| CgroupError::Unavailable {
        flags: limits.flags(),
        why,
    };
    let rootless = crate::overlay::in_child_userns() || !nix::unistd::geteuid().is_root();
    match (version(), rootless) {
        (Version::V1, true) => Err(unavailable(
            "this host uses cgroup v1, where an unprivileged user cannot create cgroups".into(),
        )),
        (Version::V1, false) => {
            for c in v1_controllers(limits) {
                let dir = Path::new(ROOT).join(c);
                if !writable(&dir) {
                    return Err(unavailable(format!(
                        "the cgroup v1 controller {} is missing or read-only",
                        dir.display()
                    )));
                }
            }
            Ok(format!("/wharf/{id}"))
        }
        (Version::V2, false) => Ok(format!("/wharf/{id}")),
        (Version::V2, true) => {
            let parent = own_v2_cgroup()
                .and_then(|own| own.parent().map(Path::to_path_buf))
                .ok_or_else(|| unavailable("this process's cgroup v2 path is unknown".into()))?;
            let enabled =
                std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
            let missing: Vec<&str> = ["memory", "cpu", "pids"]
                .into_iter()
                .zip([
                    limits.memory.is_some(),
                    limits.cpu_quota.is_some(),
                    limits.pids.is_some(),
                ])
                .filter(|(c, wanted)| *wanted && !enabled.split_whitespace().any(|e| e == *c))
                .map(|(c, _)| c)
                .collect();
            if !writable(&parent) || !missing.is_empty() {
                return Err(unavailable(format!(
                    "the cgroup {} is not delegated to this user (controllers missing: {})",
                    parent.display(),
                    if missing.is_empty() {
                        "none, but it is not writable".to_string()
                    } else {
                        missing.join(" ")
                    }
                )));
            }
            let rel = parent.strip_prefix(ROOT).unwrap_or(&parent);
            Ok(format!("/{}/wharf-{id}", rel.display()).replace("//", "/"))
        }
    }
}

/// A container's cgroup: its directories, one per v1 controller or the v2 one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    dirs: Vec<PathBuf>,
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> CgroupError {
    let path = path.to_path_buf();
    move |source| CgroupError::Io {
        action,
        path,
        source,
    }
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), CgroupError> {
    let path = dir.join(file);
    std::fs::write(&path, value).map_err(io_err("write", &path))
}

impl Cgroup {
    /// Creates the cgroup `path` (a spec's `cgroupsPath`) and writes `limits` into it.
    pub fn create(path: &str, limits: &Limits) -> Result<Cgroup, CgroupError> {
        let rel = path.trim_start_matches('/');
        let mut cg = Cgroup { dirs: Vec::new() };
        let made = match version() {
            Version::V1 => cg.create_v1(rel, limits),
            Version::V2 => cg.create_v2(rel, limits),
        };
        if let Err(e) = made {
            cg.remove();
            return Err(e);
        }
        Ok(cg)
    }

    fn create_v1(&mut self, rel: &str, limits: &Limits) -> Result<(), CgroupError> {
        for c in v1_controllers(limits) {
            let dir = Path::new(ROOT).join(c).join(rel);
            std::fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
            self.dirs.push(dir.clone());
            match c {
                "memory" => {
                    if let Some(m) = limits.memory {
                        write(&dir, "memory.limit_in_bytes", &m.to_string())?;
                    }
                }
                "cpu" => {
                    if let Some(q) = limits.cpu_quota {
                        write(&dir, "cpu.cfs_period_us", &CPU_PERIOD.to_string())?;
                        write(&dir, "cpu.cfs_quota_us", &q.to_string())?;
                    }
                }
                _ => {
                    if let Some(p) = limits.pids {
                        write(&dir, "pids.max", &p.to_string())?;
                    }
                }
            }
        }
        Ok(())
    }

    fn create_v2(&mut self, rel: &str, limits: &Limits) -> Result<(), CgroupError> {
        let dir = Path::new(ROOT).join(rel);
        // The controllers must be enabled in the subtree_control of every ancestor: as root
        // from the root down; rootless, the delegated parent allows it (errors are left to the
        // limit writes below, which name the file).
        let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
        let mut ancestor = PathBuf::from(ROOT);
        for part in &parts[..parts.len().saturating_sub(1)] {
            let _ = std::fs::write(
                ancestor.join("cgroup.subtree_control"),
                "+memory +cpu +pids",
            );
            ancestor = ancestor.join(part);
            if !ancestor.exists() {
                std::fs::create_dir(&ancestor).map_err(io_err("create", &ancestor))?;
            }
        }
        let _ = std::fs::write(
            ancestor.join("cgroup.subtree_control"),
            "+memory +cpu +pids",
        );
        std::fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        self.dirs.push(dir.clone());
        if let Some(m) = limits.memory {
            write(&dir, "memory.max", &m.to_string())?;
        }
        if let Some(q) = limits.cpu_quota {
            write(&dir, "cpu.max", &format!("{q} {CPU_PERIOD}"))?;
        }
        if let Some(p) = limits.pids {
            write(&dir, "pids.max", &p.to_string())?;
        }
        Ok(())
    }

    /// Moves process `pid` (and the children it forks later) into the cgroup.
    pub fn add(&self, pid: i32) -> Result<(), CgroupError> {
        for d in &self.dirs {
            write(d, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    /// The cgroup's directories.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The directories that exist for the cgroup `path` in any hierarchy: a runtime such as
    /// runc creates it in every v1 controller, not only the limited ones. For cleaning up after
    /// a runtime that was killed before it could delete its container.
    pub fn existing(path: &str) -> Cgroup {
        let rel = path.trim_start_matches('/');
        let mut dirs = Vec::new();
        if rel.is_empty() {
            return Cgroup { dirs };
        }
        match version() {
            Version::V2 => dirs.push(Path::new(ROOT).join(rel)),
            Version::V1 => {
                if let Ok(entries) = std::fs::read_dir(ROOT) {
                    for e in entries.flatten() {
                        // `cpu` and `cpuacct` are symlinks to `cpu,cpuacct`: visit it once.
                        if e.file_type().is_ok_and(|t| t.is_dir()) {
                            dirs.push(e.path().join(rel));
                        }
                    }
                }
            }
        }
        dirs.retain(|d| d.is_dir());
        Cgroup { dirs }
    }

    /// Sends SIGKILL to every process left in the cgroup (a container whose runtime died
    /// before it stopped it). Returns how many were signalled.
    pub fn kill_all(&self) -> usize {
        let mut pids = std::collections::BTreeSet::new();
        for d in &self.dirs {
            if let Ok(text) = std::fs::read_to_string(d.join("cgroup.procs")) {
                pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
            }
        }
        pids.iter()
            .filter(|&&p| {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), nix::sys::signal::SIGKILL)
                    .is_ok()
            })
            .count()
    }

    /// Removes the (empty) cgroup, waiting briefly for exiting processes to leave it.
    pub fn remove(&self) {
        for d in self.dirs.iter().rev() {
            for _ in 0..100 {
                match std::fs::remove_dir(d) {
                    Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    _ => break,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values_follow_podman() {
        assert_eq!(parse_memory("32m").unwrap(), 32 << 20);
        assert_eq!(parse_memory("1G").unwrap(), 1 << 30);
        assert_eq!(parse_memory("8388608").unwrap(), 8 << 20);
        assert_eq!(parse_memory("10mb").unwrap(), 10 << 20);
        for bad in ["", "lots", "1m", "12x", "-5m"] {
            let e = parse_memory(bad).unwrap_err().to_string();
            assert!(e.contains("--memory"), "{bad}: {e}");
        }
        assert_eq!(parse_cpus("0.5").unwrap(), 50_000);
        assert!(
            parse_cpus("0").is_err() && parse_cpus("x").is_err() && parse_cpus("100000").is_err()
        );
        assert_eq!(parse_pids("10").unwrap(), Some(10));
        assert_eq!(parse_pids("-1").unwrap(), None);
        assert!(parse_pids("ten").is_err());
    }

    #[test]
    fn limits_round_trip_through_the_spec() {
        let l = Limits {
            memory: Some(32 << 20),
            cpu_quota: Some(150_000),
            pids: Some(10),
        };
        let r = l.to_oci().unwrap();
        assert_eq!(Limits::from_oci(&r), l);
        assert_eq!(l.flags(), "--memory, --cpus, --pids-limit");
        assert!(Limits::default().is_empty());
    }
}
