//! Resource limits through cgroups: `--memory`, `--memory-swap`, `--cpus`, `--cpu-shares`,
//! `--cpu-period`/`--cpu-quota`, `--cpuset-cpus`/`--cpuset-mems`, `--pids-limit`.
//!
//! A container with limits gets the cgroup `wharf/<id>`: in each v1 controller it needs
//! (`memory`, `cpu`, `cpuset`, `pids`), or in the unified v2 hierarchy. The spec carries it as
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

/// The memory and CPU limits of [`Limits`] beyond `--memory`/`--cpus`/`--pids-limit`
/// (buildah's and podman's flags of the same names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoreLimits {
    /// `--memory-swap`: memory plus swap, in bytes; `-1`: unlimited swap.
    pub memory_swap: Option<i64>,
    /// `--cpu-shares`: the relative CPU weight (1024 is the default share).
    pub cpu_shares: Option<u64>,
    /// `--cpu-period`: the CFS period in microseconds (default [`CPU_PERIOD`]).
    pub cpu_period: Option<u64>,
    /// `--cpuset-cpus`: the CPUs allowed (`0-3,5`).
    pub cpuset_cpus: Option<String>,
    /// `--cpuset-mems`: the memory nodes allowed (`0`).
    pub cpuset_mems: Option<String>,
}

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// Bytes.
    pub memory: Option<u64>,
    /// Microseconds of CPU time per period (`--cpus 1.5`: 150000 per [`CPU_PERIOD`];
    /// `--cpu-quota` per `more.cpu_period`).
    pub cpu_quota: Option<i64>,
    pub pids: Option<i64>,
    /// The other memory and CPU limits.
    pub more: MoreLimits,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        self.memory.is_none()
            && self.cpu_quota.is_none()
            && self.pids.is_none()
            && self.more == MoreLimits::default()
    }

    fn wants_cpu(&self) -> bool {
        self.cpu_quota.is_some() || self.more.cpu_shares.is_some() || self.more.cpu_period.is_some()
    }

    fn wants_memory(&self) -> bool {
        self.memory.is_some() || self.more.memory_swap.is_some()
    }

    fn wants_cpuset(&self) -> bool {
        self.more.cpuset_cpus.is_some() || self.more.cpuset_mems.is_some()
    }

    /// Checks the flags against each other as podman does: `--memory-swap` needs `--memory`
    /// and at least as much; `--cpus` is a quota per the default period and cannot be given
    /// with `--cpu-period`/`--cpu-quota`.
    ///
    /// # Errors
    /// [`CgroupError::InvalidValue`] naming the flag.
    pub fn validate(&self, cpus_given: bool, quota_given: bool) -> Result<(), CgroupError> {
        if let Some(swap) = self.more.memory_swap {
            let Some(memory) = self.memory else {
                return Err(CgroupError::InvalidValue {
                    flag: "--memory-swap",
                    value: swap.to_string(),
                    reason: "needs --memory (the swap limit is memory plus swap)",
                });
            };
            if swap != -1 && u64::try_from(swap).is_ok_and(|s| s < memory) {
                return Err(CgroupError::InvalidValue {
                    flag: "--memory-swap",
                    value: swap.to_string(),
                    reason: "must be at least --memory (it is memory plus swap), or -1",
                });
            }
        }
        if cpus_given && (quota_given || self.more.cpu_period.is_some()) {
            return Err(CgroupError::InvalidValue {
                flag: "--cpus",
                value: self.cpu_quota.unwrap_or_default().to_string(),
                reason: "conflicts with --cpu-period/--cpu-quota (--cpus N is --cpu-quota \
                         N*100000 with the default period)",
            });
        }
        Ok(())
    }

    /// The flags that set limits, for messages.
    pub fn flags(&self) -> String {
        let mut f = Vec::new();
        if self.memory.is_some() {
            f.push("--memory");
        }
        if self.more.memory_swap.is_some() {
            f.push("--memory-swap");
        }
        if self.cpu_quota.is_some() {
            f.push(if self.more.cpu_period.is_some() {
                "--cpu-quota"
            } else {
                "--cpus"
            });
        }
        if self.more.cpu_period.is_some() {
            f.push("--cpu-period");
        }
        if self.more.cpu_shares.is_some() {
            f.push("--cpu-shares");
        }
        if self.more.cpuset_cpus.is_some() {
            f.push("--cpuset-cpus");
        }
        if self.more.cpuset_mems.is_some() {
            f.push("--cpuset-mems");
        }
        if self.pids.is_some() {
            f.push("--pids-limit");
        }
        f.join(", ")
    }

    /// `linux.resources` of the spec.
    pub fn to_oci(&self) -> Result<LinuxResources, oci_spec::OciSpecError> {
        let mut r = LinuxResourcesBuilder::default();
        if self.wants_memory() {
            let mut m = LinuxMemoryBuilder::default();
            if let Some(limit) = self.memory {
                m = m.limit(i64::try_from(limit).unwrap_or(i64::MAX));
            }
            if let Some(swap) = self.more.memory_swap {
                m = m.swap(swap);
            }
            r = r.memory(m.build()?);
        }
        if self.wants_cpu() || self.wants_cpuset() {
            let mut c = LinuxCpuBuilder::default();
            if let Some(q) = self.cpu_quota {
                c = c
                    .quota(q)
                    .period(self.more.cpu_period.unwrap_or(CPU_PERIOD));
            } else if let Some(p) = self.more.cpu_period {
                c = c.period(p);
            }
            if let Some(s) = self.more.cpu_shares {
                c = c.shares(s);
            }
            if let Some(cpus) = &self.more.cpuset_cpus {
                c = c.cpus(cpus.clone());
            }
            if let Some(mems) = &self.more.cpuset_mems {
                c = c.mems(mems.clone());
            }
            r = r.cpu(c.build()?);
        }
        if let Some(p) = self.pids {
            r = r.pids(LinuxPidsBuilder::default().limit(p).build()?);
        }
        r.build()
    }

    /// The limits `spec` asks for (`linux.resources`).
    pub fn from_oci(r: &LinuxResources) -> Limits {
        let cpu = r.cpu().as_ref();
        Limits {
            memory: r
                .memory()
                .as_ref()
                .and_then(oci_spec::runtime::LinuxMemory::limit)
                .and_then(|l| u64::try_from(l).ok()),
            cpu_quota: cpu
                .and_then(oci_spec::runtime::LinuxCpu::quota)
                .filter(|q| *q > 0),
            pids: r.pids().as_ref().map(oci_spec::runtime::LinuxPids::limit),
            more: MoreLimits {
                memory_swap: r
                    .memory()
                    .as_ref()
                    .and_then(oci_spec::runtime::LinuxMemory::swap),
                cpu_shares: cpu.and_then(oci_spec::runtime::LinuxCpu::shares),
                // The default period is no limit of its own.
                cpu_period: cpu
                    .and_then(oci_spec::runtime::LinuxCpu::period)
                    .filter(|p| *p != CPU_PERIOD),
                cpuset_cpus: cpu.and_then(|c| c.cpus().clone()),
                cpuset_mems: cpu.and_then(|c| c.mems().clone()),
            },
        }
    }

    fn period(&self) -> u64 {
        self.more.cpu_period.unwrap_or(CPU_PERIOD)
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

/// `--memory-swap`: memory plus swap with `--memory`'s units, or `-1` (unlimited swap).
pub fn parse_memory_swap(s: &str) -> Result<i64, CgroupError> {
    if s.trim() == "-1" {
        return Ok(-1);
    }
    let bytes = parse_memory(s).map_err(|e| match e {
        CgroupError::InvalidValue { value, reason, .. } => CgroupError::InvalidValue {
            flag: "--memory-swap",
            value,
            reason,
        },
        other => other,
    })?;
    Ok(i64::try_from(bytes).unwrap_or(i64::MAX))
}

/// `--cpu-shares`: a relative weight from 2 to 262144 (the kernel's range; 1024 is one
/// default share).
pub fn parse_cpu_shares(s: &str) -> Result<u64, CgroupError> {
    s.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (2..=262_144).contains(n))
        .ok_or(CgroupError::InvalidValue {
            flag: "--cpu-shares",
            value: s.to_string(),
            reason: "expected a whole number from 2 to 262144 (1024: one default share)",
        })
}

/// `--cpu-period`: the CFS period in microseconds, 1000 (1 ms) to 1000000 (1 s) as the
/// kernel allows.
pub fn parse_cpu_period(s: &str) -> Result<u64, CgroupError> {
    s.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1_000..=1_000_000).contains(n))
        .ok_or(CgroupError::InvalidValue {
            flag: "--cpu-period",
            value: s.to_string(),
            reason: "expected microseconds from 1000 to 1000000",
        })
}

/// `--cpu-quota`: microseconds of CPU time per period, at least 1000 (the kernel's minimum).
pub fn parse_cpu_quota(s: &str) -> Result<i64, CgroupError> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 1_000)
        .ok_or(CgroupError::InvalidValue {
            flag: "--cpu-quota",
            value: s.to_string(),
            reason: "expected microseconds per period, at least 1000",
        })
}

/// `--cpuset-cpus`/`--cpuset-mems`: a list like `0-3,5`, each number among those `online`
/// (`/sys/devices/system/cpu/online`, `/sys/devices/system/node/online`; node 0 where the
/// machine has no NUMA file).
pub fn parse_cpuset(flag: &'static str, s: &str) -> Result<String, CgroupError> {
    let bad = |reason| CgroupError::InvalidValue {
        flag,
        value: s.to_string(),
        reason,
    };
    let wanted = parse_list(s).ok_or_else(|| bad("expected a list like 0-3,5"))?;
    let online_file = if flag == "--cpuset-mems" {
        "/sys/devices/system/node/online"
    } else {
        "/sys/devices/system/cpu/online"
    };
    let online = std::fs::read_to_string(online_file)
        .ok()
        .and_then(|t| parse_list(t.trim()))
        .unwrap_or_else(|| vec![(0, 0)]);
    let has = |n: u32| online.iter().any(|(a, b)| (*a..=*b).contains(&n));
    if wanted.iter().any(|(a, b)| !(*a..=*b).all(has)) {
        return Err(bad(if flag == "--cpuset-mems" {
            "names a memory node this machine does not have online"
        } else {
            "names a CPU this machine does not have online"
        }));
    }
    Ok(s.trim().to_string())
}

/// `0-3,5` as ranges; `None` when malformed or a range is reversed.
fn parse_list(s: &str) -> Option<Vec<(u32, u32)>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
        if a > b || out.len() > 4096 {
            return None;
        }
        out.push((a, b));
    }
    Some(out)
}

/// cgroup v2's `cpu.weight` for a v1 share, with the conversion runc and crun use.
fn shares_to_weight(shares: u64) -> u64 {
    1 + ((shares.clamp(2, 262_144) - 2) * 9999) / 262_142
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
    if limits.wants_memory() {
        c.push("memory");
    }
    if limits.wants_cpu() {
        c.push("cpu");
    }
    if limits.wants_cpuset() {
        c.push("cpuset");
    }
    if limits.pids.is_some() {
        c.push("pids");
    }
    c
}

/// The v1 cpuset value `file` of `dir`.
fn cpuset_of(dir: &Path, file: &str) -> Result<String, CgroupError> {
    let path = dir.join(file);
    let value = std::fs::read_to_string(&path).map_err(io_err("read", &path))?;
    Ok(value.trim().to_string())
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
            let memsw = Path::new(ROOT).join("memory/memory.memsw.limit_in_bytes");
            if limits.more.memory_swap.is_some() && !memsw.exists() {
                return Err(unavailable(format!(
                    "{} is missing: the kernel does not account swap (boot it with \
                     swapaccount=1)",
                    memsw.display()
                )));
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
            let missing: Vec<&str> = ["memory", "cpu", "cpuset", "pids"]
                .into_iter()
                .zip([
                    limits.wants_memory(),
                    limits.wants_cpu(),
                    limits.wants_cpuset(),
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
                    // After the memory limit: the kernel keeps memsw >= memory.
                    if let Some(s) = limits.more.memory_swap {
                        write(&dir, "memory.memsw.limit_in_bytes", &s.to_string())?;
                    }
                }
                "cpu" => {
                    if limits.cpu_quota.is_some() || limits.more.cpu_period.is_some() {
                        write(&dir, "cpu.cfs_period_us", &limits.period().to_string())?;
                    }
                    if let Some(q) = limits.cpu_quota {
                        write(&dir, "cpu.cfs_quota_us", &q.to_string())?;
                    }
                    if let Some(s) = limits.more.cpu_shares {
                        write(&dir, "cpu.shares", &s.to_string())?;
                    }
                }
                "cpuset" => {
                    // A new v1 cpuset (ours, and the `wharf` one above it when this made it)
                    // has no CPUs and no nodes: no task can join it until both are set, and a
                    // child may only narrow its parent's. So each level gets its parent's, and
                    // ours then what was asked.
                    let mut level = Path::new(ROOT).join("cpuset");
                    for part in rel.split('/').filter(|p| !p.is_empty()) {
                        let parent = level.clone();
                        level.push(part);
                        for file in ["cpuset.cpus", "cpuset.mems"] {
                            let have =
                                std::fs::read_to_string(level.join(file)).unwrap_or_default();
                            if have.trim().is_empty() {
                                write(&level, file, &cpuset_of(&parent, file)?)?;
                            }
                        }
                    }
                    if let Some(v) = &limits.more.cpuset_cpus {
                        write(&dir, "cpuset.cpus", v)?;
                    }
                    if let Some(v) = &limits.more.cpuset_mems {
                        write(&dir, "cpuset.mems", v)?;
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
                "+memory +cpu +cpuset +pids",
            );
            ancestor = ancestor.join(part);
            if !ancestor.exists() {
                std::fs::create_dir(&ancestor).map_err(io_err("create", &ancestor))?;
            }
        }
        let _ = std::fs::write(
            ancestor.join("cgroup.subtree_control"),
            "+memory +cpu +cpuset +pids",
        );
        std::fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        self.dirs.push(dir.clone());
        if let Some(m) = limits.memory {
            write(&dir, "memory.max", &m.to_string())?;
        }
        if let Some(s) = limits.more.memory_swap {
            // v2 limits swap alone: memory plus swap, less the memory.
            let swap = match (s, limits.memory) {
                (-1, _) => "max".to_string(),
                (s, Some(m)) => (u64::try_from(s).unwrap_or(0).saturating_sub(m)).to_string(),
                (s, None) => s.to_string(),
            };
            write(&dir, "memory.swap.max", &swap)?;
        }
        if limits.cpu_quota.is_some() || limits.more.cpu_period.is_some() {
            let quota = limits
                .cpu_quota
                .map_or_else(|| "max".to_string(), |q| q.to_string());
            write(&dir, "cpu.max", &format!("{quota} {}", limits.period()))?;
        }
        if let Some(s) = limits.more.cpu_shares {
            write(&dir, "cpu.weight", &shares_to_weight(s).to_string())?;
        }
        if let Some(c) = &limits.more.cpuset_cpus {
            write(&dir, "cpuset.cpus", c)?;
        }
        if let Some(m) = &limits.more.cpuset_mems {
            write(&dir, "cpuset.mems", m)?;
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
            more: MoreLimits::default(),
        };
        let r = l.to_oci().unwrap();
        assert_eq!(Limits::from_oci(&r), l);
        assert_eq!(l.flags(), "--memory, --cpus, --pids-limit");
        assert!(Limits::default().is_empty());
        let l = Limits {
            memory: Some(32 << 20),
            cpu_quota: Some(20_000),
            pids: None,
            more: MoreLimits {
                memory_swap: Some(64 << 20),
                cpu_shares: Some(512),
                cpu_period: Some(50_000),
                cpuset_cpus: Some("0".into()),
                cpuset_mems: Some("0".into()),
            },
        };
        let r = l.to_oci().unwrap();
        assert_eq!(Limits::from_oci(&r), l);
        assert_eq!(
            l.flags(),
            "--memory, --memory-swap, --cpu-quota, --cpu-period, --cpu-shares, --cpuset-cpus, \
             --cpuset-mems"
        );
        let shares_only = Limits {
            more: MoreLimits {
                cpu_shares: Some(2),
                ..MoreLimits::default()
            },
            ..Limits::default()
        };
        assert!(!shares_only.is_empty());
        assert_eq!(
            Limits::from_oci(&shares_only.to_oci().unwrap()),
            shares_only
        );
    }

    #[test]
    fn more_flags_follow_podman() {
        assert_eq!(parse_memory_swap("-1").unwrap(), -1);
        assert_eq!(parse_memory_swap("64m").unwrap(), 64 << 20);
        assert!(
            parse_memory_swap("1m")
                .unwrap_err()
                .to_string()
                .contains("--memory-swap")
        );
        assert_eq!(parse_cpu_shares("512").unwrap(), 512);
        assert!(parse_cpu_shares("1").is_err() && parse_cpu_shares("x").is_err());
        assert_eq!(parse_cpu_period("50000").unwrap(), 50_000);
        assert!(parse_cpu_period("10").is_err());
        assert_eq!(parse_cpu_quota("20000").unwrap(), 20_000);
        assert!(parse_cpu_quota("-1").is_err());
        assert_eq!(parse_cpuset("--cpuset-cpus", "0").unwrap(), "0");
        for bad in ["", "a", "3-1", "0,", "99999"] {
            assert!(parse_cpuset("--cpuset-cpus", bad).is_err(), "{bad}");
        }
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        let with = |memory, swap| Limits {
            memory,
            more: MoreLimits {
                memory_swap: swap,
                ..MoreLimits::default()
            },
            ..Limits::default()
        };
        assert!(with(None, Some(64 << 20)).validate(false, false).is_err());
        assert!(
            with(Some(64 << 20), Some(32 << 20))
                .validate(false, false)
                .is_err()
        );
        assert!(
            with(Some(64 << 20), Some(-1))
                .validate(false, false)
                .is_ok()
        );
        assert!(Limits::default().validate(true, true).is_err());
    }
}
