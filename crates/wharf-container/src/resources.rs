//! `--memory`, `--cpus`, `--pids-limit` and `--cgroups`: podman's resource flags.

use wharf_sandbox::cgroup::{self, Limits};

use crate::ContainerError;

/// The limits asked for, checked against what this host allows before anything is created.
/// `None`: no limit (the container gets no cgroup of its own).
pub fn plan(
    memory: Option<&str>,
    cpus: Option<&str>,
    pids: Option<&str>,
    cgroups: &str,
) -> Result<Option<Limits>, ContainerError> {
    let limits = Limits {
        memory: memory.map(cgroup::parse_memory).transpose()?,
        cpu_quota: cpus.map(cgroup::parse_cpus).transpose()?,
        pids: pids.map(cgroup::parse_pids).transpose()?.flatten(),
        ..Limits::default()
    };
    if limits.is_empty() {
        return Ok(None);
    }
    crate::error::ensure!(
        cgroups != "disabled",
        "{} cannot be enforced with --cgroups=disabled; hint: leave out --cgroups=disabled or \
         the limit",
        limits.flags()
    );
    cgroup::check(&limits, "check")?;
    Ok(Some(limits))
}
