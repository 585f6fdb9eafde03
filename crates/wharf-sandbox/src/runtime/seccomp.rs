//! OCI `LinuxSeccomp` to BPF through `seccompiler`.
//!
//! seccompiler builds filters with one match action and one default action, while a profile
//! mixes actions (allow most calls, EPERM some, ENOSYS for the rest). The kernel runs every
//! installed filter and keeps the most restrictive verdict, the last-installed one among equal
//! ones; so the profile becomes one filter per action: first "allow these, else the default",
//! then for each other action "this action for these, else allow".
//!
//! Architectures, deliberately: the filters are compiled for the native architecture only.
//! seccompiler's arch check kills the process on any other audit arch, so 32-bit x86 system
//! calls (`int 0x80`, an i386 binary) kill the container process; x32 calls carry the native
//! audit arch with bit 30 set in the number, match no rule and get the default action
//! (ENOSYS). runc, given the same spec, would allow the 32-bit tables listed in the spec.

use std::collections::BTreeMap;

use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::error::SandboxError;
use crate::sys::seccomp::{syscall_number, table_available};

const EPERM: u32 = 1;

fn action(
    a: LinuxSeccompAction,
    errno: Option<u32>,
    default_errno: u32,
) -> Result<SeccompAction, SandboxError> {
    Ok(match a {
        LinuxSeccompAction::ScmpActAllow => SeccompAction::Allow,
        LinuxSeccompAction::ScmpActErrno => SeccompAction::Errno(errno.unwrap_or(default_errno)),
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            SeccompAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => SeccompAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => SeccompAction::Trap,
        LinuxSeccompAction::ScmpActTrace => SeccompAction::Trace(errno.unwrap_or(0)),
        LinuxSeccompAction::ScmpActLog => SeccompAction::Log,
        LinuxSeccompAction::ScmpActNotify => {
            return Err(SandboxError::Unsupported {
                what: "the seccomp action SCMP_ACT_NOTIFY".into(),
            });
        }
    })
}

fn condition(arg: &oci_spec::runtime::LinuxSeccompArg) -> Result<SeccompCondition, SandboxError> {
    let (op, value) = match arg.op() {
        LinuxSeccompOperator::ScmpCmpNe => (SeccompCmpOp::Ne, arg.value()),
        LinuxSeccompOperator::ScmpCmpLt => (SeccompCmpOp::Lt, arg.value()),
        LinuxSeccompOperator::ScmpCmpLe => (SeccompCmpOp::Le, arg.value()),
        LinuxSeccompOperator::ScmpCmpEq => (SeccompCmpOp::Eq, arg.value()),
        LinuxSeccompOperator::ScmpCmpGe => (SeccompCmpOp::Ge, arg.value()),
        LinuxSeccompOperator::ScmpCmpGt => (SeccompCmpOp::Gt, arg.value()),
        // libseccomp's masked equality: (arg & value) == valueTwo.
        LinuxSeccompOperator::ScmpCmpMaskedEq => (
            SeccompCmpOp::MaskedEq(arg.value()),
            arg.value_two().unwrap_or(0),
        ),
    };
    SeccompCondition::new(arg.index() as u8, SeccompCmpArgLen::Qword, op, value)
        .map_err(SandboxError::SeccompCompile)
}

/// Syscall number -> rules (empty = unconditional), for one action.
type Group = BTreeMap<i64, Vec<SeccompRule>>;

fn add(group: &mut Group, nr: i64, rule: Option<SeccompRule>) {
    let entry = group.entry(nr).or_default();
    match rule {
        // An empty chain is seccompiler's unconditional match.
        None => entry.clear(),
        Some(r) => entry.push(r),
    }
}

/// Compiles `profile` into the filters to install, in order.
pub(crate) fn compile(profile: &LinuxSeccomp) -> Result<Vec<BpfProgram>, SandboxError> {
    if !table_available() {
        return Err(SandboxError::Unsupported {
            what: format!("seccomp on {}", std::env::consts::ARCH),
        });
    }
    let default_errno = profile.default_errno_ret().unwrap_or(EPERM);
    let default = action(
        profile.default_action(),
        profile.default_errno_ret(),
        default_errno,
    )?;
    let mut groups: Vec<(SeccompAction, Group)> = Vec::new();
    // Syscalls that got an unconditional rule in a group: later conditional rules of the same
    // group must not narrow them.
    let mut unconditional: Vec<(SeccompAction, i64)> = Vec::new();
    for rule in profile.syscalls().as_deref().unwrap_or_default() {
        let act = action(rule.action(), rule.errno_ret(), EPERM)?;
        if act == default {
            continue;
        }
        let conditions = match rule.args() {
            Some(args) if !args.is_empty() => {
                Some(args.iter().map(condition).collect::<Result<Vec<_>, _>>()?)
            }
            _ => None,
        };
        let idx = if let Some(i) = groups.iter().position(|(a, _)| *a == act) {
            i
        } else {
            groups.push((act.clone(), Group::new()));
            groups.len() - 1
        };
        for name in rule.names() {
            let Some(nr) = syscall_number(name) else {
                continue;
            };
            if unconditional.contains(&(act.clone(), nr)) {
                continue;
            }
            let group = &mut groups[idx].1;
            match &conditions {
                None => {
                    unconditional.push((act.clone(), nr));
                    add(group, nr, None);
                }
                Some(c) => {
                    let r = SeccompRule::new(c.clone()).map_err(SandboxError::SeccompCompile)?;
                    add(group, nr, Some(r));
                }
            }
        }
    }
    let arch = TargetArch::x86_64;
    let mut programs = Vec::new();
    let allow_pos = groups.iter().position(|(a, _)| *a == SeccompAction::Allow);
    if default != SeccompAction::Allow {
        let allowed = allow_pos.map(|i| groups[i].1.clone()).unwrap_or_default();
        let f = SeccompFilter::new(allowed, default.clone(), SeccompAction::Allow, arch)
            .map_err(SandboxError::SeccompCompile)?;
        programs.push(BpfProgram::try_from(f).map_err(SandboxError::SeccompCompile)?);
    }
    for (act, group) in groups {
        if act == SeccompAction::Allow || group.is_empty() {
            continue;
        }
        let f = SeccompFilter::new(group, SeccompAction::Allow, act, arch)
            .map_err(SandboxError::SeccompCompile)?;
        programs.push(BpfProgram::try_from(f).map_err(SandboxError::SeccompCompile)?);
    }
    Ok(programs)
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    #[test]
    fn default_profile_compiles_to_an_allow_filter_and_an_eperm_filter() {
        let caps = crate::spec::DEFAULT_CAPABILITIES.map(String::from);
        let profile = crate::spec::seccomp::default_profile(&caps).unwrap();
        let programs = compile(&profile).unwrap();
        // allow-list (default ENOSYS), EPERM list, EINVAL rule for socket(AF_NETLINK, .., 9).
        assert_eq!(programs.len(), 3, "{}", programs.len());
        assert!(
            programs[0].len() > 300,
            "one jump per allowed call: {}",
            programs[0].len()
        );
    }

    #[test]
    fn names_of_other_architectures_are_skipped() {
        assert_eq!(syscall_number("read"), Some(0));
        assert_eq!(syscall_number("openat"), Some(257));
        assert_eq!(syscall_number("_llseek"), None);
    }

    #[test]
    fn notify_is_refused_clearly() {
        let mut p = LinuxSeccomp::default();
        p.set_default_action(LinuxSeccompAction::ScmpActNotify);
        let err = compile(&p).unwrap_err();
        assert!(err.to_string().contains("SCMP_ACT_NOTIFY"), "{err}");
    }
}
