//! The default seccomp profile: the containers/common (Docker-derived) allow-list, shipped as
//! data in `seccomp_default.json` (containers-common 0.50 format: `includes`/`excludes` by
//! capability and architecture) and turned into an OCI `LinuxSeccomp` for a given capability
//! set and architecture, the way podman does.

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompOperator, LinuxSyscall,
};
use serde::Deserialize;

use crate::error::SandboxError;

const DEFAULT_PROFILE: &str = include_str!("seccomp_default.json");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Profile {
    default_action: LinuxSeccompAction,
    #[serde(default)]
    default_errno_ret: Option<u32>,
    #[serde(default)]
    arch_map: Vec<ArchMap>,
    syscalls: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMap {
    architecture: Arch,
    #[serde(default)]
    sub_architectures: Vec<Arch>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    names: Vec<String>,
    action: LinuxSeccompAction,
    #[serde(default)]
    args: Option<Vec<Arg>>,
    #[serde(default)]
    includes: Filter,
    #[serde(default)]
    excludes: Filter,
    #[serde(default)]
    errno_ret: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Arg {
    index: usize,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: LinuxSeccompOperator,
}

#[derive(Debug, Default, Deserialize)]
struct Filter {
    #[serde(default)]
    caps: Vec<String>,
    #[serde(default)]
    arches: Vec<String>,
}

/// The profile's name for the architecture this crate is built for.
pub(crate) fn native_arch() -> (&'static str, Arch) {
    match std::env::consts::ARCH {
        "aarch64" => ("arm64", Arch::ScmpArchAarch64),
        "arm" => ("arm", Arch::ScmpArchArm),
        "s390x" => ("s390x", Arch::ScmpArchS390x),
        "powerpc64" => ("ppc64le", Arch::ScmpArchPpc64le),
        "riscv64" => ("riscv64", Arch::ScmpArchRiscv64),
        _ => ("amd64", Arch::ScmpArchX86_64),
    }
}

/// Parses a profile in the containers format (the default one, or a user's `seccomp=FILE`).
pub(crate) fn parse_profile(text: &str, what: &str) -> Result<Profile, SandboxError> {
    serde_json::from_str(text).map_err(|source| SandboxError::SeccompProfile {
        what: what.to_string(),
        source,
    })
}

/// Checks that `text` is a profile this crate can apply (`what` names it in the error), so that
/// a caller can refuse a bad `--security-opt seccomp=FILE` before creating anything.
pub fn validate_profile(text: &str, what: &str) -> Result<(), SandboxError> {
    parse_profile(text, what)?.to_oci(&[]).map(drop)
}

/// The default profile for `caps` (names like `CAP_SYS_ADMIN`) on this machine's architecture.
pub fn default_profile(caps: &[String]) -> Result<LinuxSeccomp, SandboxError> {
    let profile = parse_profile(DEFAULT_PROFILE, "(built-in default)")?;
    profile.to_oci(caps)
}

impl Profile {
    /// Resolves `includes`/`excludes` for `caps` and the native architecture.
    pub(crate) fn to_oci(&self, caps: &[String]) -> Result<LinuxSeccomp, SandboxError> {
        let (arch_name, arch) = native_arch();
        let mut syscalls = Vec::new();
        for rule in &self.syscalls {
            let wanted = rule.includes.arches.is_empty()
                || rule.includes.arches.iter().any(|a| a == arch_name);
            let has_caps = rule.includes.caps.iter().all(|c| caps.contains(c));
            let excluded = rule.excludes.arches.iter().any(|a| a == arch_name)
                || rule.excludes.caps.iter().any(|c| caps.contains(c));
            if !wanted || !has_caps || excluded {
                continue;
            }
            let mut s = LinuxSyscall::default();
            s.set_names(rule.names.clone());
            s.set_action(rule.action);
            s.set_errno_ret(rule.errno_ret);
            if let Some(args) = &rule.args {
                let args = args
                    .iter()
                    .map(|a| {
                        let b = LinuxSeccompArgBuilder::default()
                            .index(a.index)
                            .value(a.value)
                            .op(a.op);
                        let b = if a.value_two == 0 {
                            b
                        } else {
                            b.value_two(a.value_two)
                        };
                        b.build().map_err(|source| SandboxError::Spec {
                            what: format!("seccomp argument of {}", rule.names.join(",")),
                            source,
                        })
                    })
                    .collect::<Result<Vec<LinuxSeccompArg>, _>>()?;
                if !args.is_empty() {
                    s.set_args(Some(args));
                }
            }
            syscalls.push(s);
        }
        let architectures = self
            .arch_map
            .iter()
            .find(|m| m.architecture == arch)
            .map_or_else(
                || vec![arch],
                |m| {
                    let mut v = vec![m.architecture];
                    v.extend(m.sub_architectures.iter().copied());
                    v
                },
            );
        let mut out = LinuxSeccomp::default();
        out.set_default_action(self.default_action);
        out.set_default_errno_ret(self.default_errno_ret);
        out.set_architectures(Some(architectures));
        out.set_syscalls(Some(syscalls));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(s: &LinuxSeccomp, name: &str) -> bool {
        s.syscalls().as_ref().unwrap().iter().any(|r| {
            r.action() == LinuxSeccompAction::ScmpActAllow
                && r.args().is_none()
                && r.names().iter().any(|n| n == name)
        })
    }

    #[test]
    fn default_profile_allows_common_calls_and_denies_privileged_ones() {
        let caps = ["CAP_CHOWN", "CAP_SETUID"].map(String::from);
        let s = default_profile(&caps).unwrap();
        assert_eq!(s.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(s.default_errno_ret(), Some(38), "ENOSYS for unknown calls");
        for name in ["read", "openat", "clone3", "execve", "exit_group"] {
            assert!(allowed(&s, name), "{name}");
        }
        // Needs CAP_SYS_ADMIN: not allowed, explicitly EPERM. (containers/common allows mount
        // and unshare, which the capability check guards anyway.)
        for name in ["sethostname", "bpf", "kexec_load", "perf_event_open"] {
            assert!(!allowed(&s, name), "{name}");
        }
        assert!(
            s.syscalls()
                .as_ref()
                .unwrap()
                .iter()
                .any(|r| r.action() == LinuxSeccompAction::ScmpActErrno
                    && r.errno_ret() == Some(1)
                    && r.names().iter().any(|n| n == "sethostname"))
        );
        // CAP_SYS_CHROOT is in the set: chroot allowed.
        let caps = ["CAP_SYS_CHROOT"].map(String::from);
        assert!(allowed(&default_profile(&caps).unwrap(), "chroot"));
    }

    #[test]
    fn adding_sys_admin_allows_sethostname() {
        let caps = ["CAP_SYS_ADMIN"].map(String::from);
        assert!(allowed(&default_profile(&caps).unwrap(), "sethostname"));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x86_64_lists_its_32_bit_tables() {
        let s = default_profile(&[]).unwrap();
        assert_eq!(
            s.architectures().as_ref().unwrap(),
            &vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
        );
        // arch_prctl is amd64-only in the data: included here.
        assert!(allowed(&s, "arch_prctl"));
    }

    #[test]
    fn bad_profile_names_what() {
        let err = parse_profile("{", "/tmp/p.json").unwrap_err();
        assert!(err.to_string().contains("/tmp/p.json"));
    }
}
