//! Entering a rootless user + mount namespace.
//!
//! An unprivileged binary calls [`maybe_reexec_in_userns`] first thing in `main`. The first time,
//! it forks a fresh single-threaded child that unshares a user and a mount namespace; the parent
//! writes the child's ID maps (with `newuidmap`/`newgidmap` over the user's subordinate ranges,
//! or a single-ID map when there are none) and then the child re-executes the current binary
//! (`/proc/self/exe`) with [`USERNS_ENV`] set. That second run sees the marker and carries on
//! inside the namespace as its root; the first run waits and exits with the child's code.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::error::SandboxError;
use crate::idmap::{self, IdMapEntry, IdRange};
use crate::sys::process::{self, PreparedExec};
use crate::syscall::{LinuxSyscall, Syscall};

/// Set in the environment of a process that runs inside the namespace; its value is the
/// [`MapMode`] name (`subid` or `single`).
pub const USERNS_ENV: &str = "_WHARF_USERNS";

/// How the namespace's IDs are mapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapMode {
    /// Container root is the user and 1..65536 come from `/etc/subuid` and `/etc/subgid`.
    SubordinateRanges,
    /// Only the user's own uid and gid are mapped (to 0); `setgroups` is denied.
    SingleId,
}

impl MapMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MapMode::SubordinateRanges => "subid",
            MapMode::SingleId => "single",
        }
    }
}

/// The ID maps a namespace will get, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMapPlan {
    pub mode: MapMode,
    pub uid_map: Vec<IdMapEntry>,
    pub gid_map: Vec<IdMapEntry>,
    /// Set for [`MapMode::SingleId`]: what is missing and how to fix it, for the user to read.
    pub warning: Option<String>,
}

/// Decides the maps from the user's identity, ranges and whether the setuid tools exist.
pub fn plan_from(
    user: &str,
    uid: u32,
    gid: u32,
    uid_ranges: &[IdRange],
    gid_ranges: &[IdRange],
    tools_found: bool,
) -> IdMapPlan {
    let missing = match (uid_ranges.is_empty(), gid_ranges.is_empty(), tools_found) {
        (false, false, true) => None,
        (true, _, _) | (_, true, _) => Some(format!(
            "user {user} has no subordinate ID range in /etc/subuid and /etc/subgid: only your own \
             IDs are mapped (to root) in the user namespace, and image files owned by other users \
             cannot be created; hint: as root, run `usermod --add-subuids 100000-165535 \
             --add-subgids 100000-165535 {user}`"
        )),
        (false, false, false) => Some(format!(
            "newuidmap/newgidmap not found: only your own IDs are mapped (to root) in the user \
             namespace although user {user} has subordinate ranges; hint: install the Debian \
             package uidmap"
        )),
    };
    match missing {
        None => IdMapPlan {
            mode: MapMode::SubordinateRanges,
            uid_map: idmap::build_map(uid, uid_ranges),
            gid_map: idmap::build_map(gid, gid_ranges),
            warning: None,
        },
        Some(warning) => IdMapPlan {
            mode: MapMode::SingleId,
            uid_map: idmap::build_map(uid, &[]),
            gid_map: idmap::build_map(gid, &[]),
            warning: Some(warning),
        },
    }
}

/// The plan for the calling user, from `/etc/subuid`, `/etc/subgid` and `PATH`.
pub fn plan_id_maps() -> Result<IdMapPlan, SandboxError> {
    let uid = nix::unistd::getuid().as_raw();
    let gid = nix::unistd::getgid().as_raw();
    let name = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name);
    let uid_ranges = idmap::read_subid(Path::new("/etc/subuid"), &name, uid)?;
    let gid_ranges = idmap::read_subid(Path::new("/etc/subgid"), &name, uid)?;
    let tools = find_in_path(OsStr::new("newuidmap")).is_some()
        && find_in_path(OsStr::new("newgidmap")).is_some();
    Ok(plan_from(&name, uid, gid, &uid_ranges, &gid_ranges, tools))
}

/// Writes the plan's maps for process `pid` (a child that has unshared its user namespace).
pub fn apply_id_maps(sys: &dyn Syscall, pid: i32, plan: &IdMapPlan) -> Result<(), SandboxError> {
    match plan.mode {
        MapMode::SubordinateRanges => {
            for (tool, map) in [("newuidmap", &plan.uid_map), ("newgidmap", &plan.gid_map)] {
                let mut args = vec![pid.to_string()];
                args.extend(idmap::map_tool_args(map));
                let out = sys
                    .run_helper(tool, &args)
                    .map_err(|source| SandboxError::IdMapToolSpawn { tool, source })?;
                if !out.status.success() {
                    return Err(SandboxError::IdMapTool {
                        tool,
                        pid,
                        status: out.status.to_string(),
                        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                    });
                }
            }
        }
        MapMode::SingleId => {
            // An unprivileged writer may only map its own gid after setgroups is denied.
            let proc_dir = PathBuf::from(format!("/proc/{pid}"));
            let writes = [
                ("setgroups", "deny".to_string()),
                ("uid_map", idmap::map_file_text(&plan.uid_map)),
                ("gid_map", idmap::map_file_text(&plan.gid_map)),
            ];
            for (file, text) in writes {
                let path = proc_dir.join(file);
                sys.write_file(&path, text.as_bytes())
                    .map_err(|source| SandboxError::IdMapWrite { path, source })?;
            }
        }
    }
    Ok(())
}

/// [`apply_id_maps`], falling back to a single-ID map when `newuidmap`/`newgidmap` fail (in a
/// container, the setuid tools cannot write maps outside the container's own range), as
/// buildah does; files owned by other IDs are then squashed, which is said.
pub fn apply_with_fallback(
    sys: &dyn Syscall,
    pid: i32,
    plan: &IdMapPlan,
) -> Result<(), SandboxError> {
    match apply_id_maps(sys, pid, plan) {
        Err(SandboxError::IdMapTool {
            tool,
            status,
            stderr,
            ..
        }) if plan.mode == MapMode::SubordinateRanges => {
            tracing::warn!(
                "{tool} failed ({status}: {stderr}): only your own IDs are mapped (to root) in \
                 the user namespace, and files of the image owned by other IDs are squashed to \
                 them"
            );
            let proc_dir = PathBuf::from(format!("/proc/{pid}"));
            let single = [
                ("setgroups", "deny".to_string()),
                (
                    "uid_map",
                    idmap::map_file_text(&idmap::build_map(plan.uid_map[0].host, &[])),
                ),
                (
                    "gid_map",
                    idmap::map_file_text(&idmap::build_map(plan.gid_map[0].host, &[])),
                ),
            ];
            for (file, text) in single {
                // newuidmap may have written uid_map before newgidmap failed: keep it.
                if file == "uid_map" && tool == "newgidmap" {
                    continue;
                }
                let path = proc_dir.join(file);
                sys.write_file(&path, text.as_bytes())
                    .map_err(|source| SandboxError::IdMapWrite { path, source })?;
            }
            Ok(())
        }
        other => other,
    }
}

/// Whether this process already runs inside the namespace [`maybe_reexec_in_userns`] makes.
pub fn in_userns() -> bool {
    std::env::var_os(USERNS_ENV).is_some()
}

/// Whether a binary must enter a user namespace: not for root, not a second time.
pub fn needs_userns() -> bool {
    !nix::unistd::geteuid().is_root() && !in_userns()
}

/// Re-executes the current binary once inside a new user + mount namespace.
///
/// Returns `Ok(None)` in the process that should carry on (the re-executed child, or any process
/// of root, which needs no user namespace), and `Ok(Some(code))` in the original process after
/// the child exited: `main` should return that code. Call it before starting any thread or
/// async runtime. Without subordinate ranges it maps only the user, with a warning (logged
/// through `tracing` and kept in [`plan_id_maps`]).
pub fn maybe_reexec_in_userns() -> Result<Option<ExitCode>, SandboxError> {
    if !needs_userns() {
        return Ok(None);
    }
    let argv: Vec<OsString> = std::env::args_os().collect();
    let code = spawn_mapped(Path::new("/proc/self/exe"), &argv, &[])?;
    Ok(Some(ExitCode::from(code)))
}

/// Runs `cmd` inside a user + mount namespace and returns its exit code (128+N when killed by
/// signal N; 127 when the program cannot be found, 126 when it cannot be executed), like
/// `buildah unshare`. Program, arguments and environment changes are taken from `cmd` (on top of
/// the current environment); the working directory is inherited. Already inside the namespace,
/// or as root, the command simply runs.
pub fn run_in_userns(cmd: &Command) -> Result<u8, SandboxError> {
    let program = cmd.get_program();
    let mut argv = vec![program.to_os_string()];
    argv.extend(cmd.get_args().map(OsStr::to_os_string));
    let env: Vec<(OsString, Option<OsString>)> = cmd
        .get_envs()
        .map(|(k, v)| (k.to_os_string(), v.map(OsStr::to_os_string)))
        .collect();
    let Some(path) = find_in_path(program) else {
        return Err(SandboxError::CommandNotFound {
            program: program.to_string_lossy().into_owned(),
        });
    };
    if !needs_userns() {
        let mut direct = Command::new(&path);
        direct.args(&argv[1..]);
        for (k, v) in &env {
            match v {
                Some(v) => direct.env(k, v),
                None => direct.env_remove(k),
            };
        }
        let status = direct.status().map_err(SandboxError::Fork)?;
        return Ok(exit_code_of(status));
    }
    spawn_mapped(&path, &argv, &env)
}

fn exit_code_of(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c as u8,
        (None, Some(s)) => 128u8.wrapping_add(s as u8),
        (None, None) => 125,
    }
}

fn cstring(bytes: &[u8], what: &str) -> Result<CString, SandboxError> {
    CString::new(bytes).map_err(|_| SandboxError::NulByte {
        what: what.to_string(),
    })
}

/// Forks the namespace child, maps it, lets it execute `path` and waits for its exit code.
fn spawn_mapped(
    path: &Path,
    argv: &[OsString],
    env_changes: &[(OsString, Option<OsString>)],
) -> Result<u8, SandboxError> {
    let plan = plan_id_maps()?;
    if let Some(w) = &plan.warning {
        tracing::warn!("{w}");
    }
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| k != USERNS_ENV && !env_changes.iter().any(|(c, _)| c == k))
        .collect();
    env.extend(
        env_changes
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), v.clone()))),
    );
    env.push((USERNS_ENV.into(), plan.mode.as_str().into()));

    let what = path.display().to_string();
    let c_path = cstring(path.as_os_str().as_bytes(), &what)?;
    let c_argv = argv
        .iter()
        .map(|a| cstring(a.as_bytes(), &what))
        .collect::<Result<Vec<_>, _>>()?;
    let c_env = env
        .iter()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            cstring(&kv, "the environment")
        })
        .collect::<Result<Vec<_>, _>>()?;
    let exec = PreparedExec::new(c_path, c_argv, c_env);

    let mut child = process::fork_into_namespaces(&exec, libc::CLONE_NEWUSER | libc::CLONE_NEWNS)
        .map_err(SandboxError::Fork)?;
    let setup = child
        .wait_ready()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                SandboxError::ChildLost(e)
            } else {
                let mut facts = crate::isolation::Facts::probe();
                facts.userns_errno = Some(e.raw_os_error().unwrap_or(libc::EIO));
                SandboxError::Unshare {
                    diagnosis: facts.userns_refusal().unwrap_or_else(|| e.to_string()),
                }
            }
        })
        .and_then(|()| apply_with_fallback(&LinuxSyscall, child.pid, &plan));
    if let Err(e) = setup {
        let _ = child.release(false);
        child.kill();
        let _ = process::wait_exit_code(child.pid);
        return Err(e);
    }
    if let Err(e) = child.release(true) {
        child.kill();
        let _ = process::wait_exit_code(child.pid);
        return Err(SandboxError::ChildLost(e));
    }
    // Signals sent to this process (a supervisor's SIGTERM) go on to the re-executed child.
    let _ = process::forward_signals_to(child.pid);
    // Only now: the child must not inherit ignored signals (SIG_IGN survives execve).
    let _guard = process::ignore_terminal_signals();
    process::wait_exit_code(child.pid).map_err(|source| SandboxError::Wait {
        pid: child.pid,
        source,
    })
}

/// Finds `program` like `execvp` does: as a path when it contains a slash, else in `PATH`.
pub(crate) fn find_in_path(program: &OsStr) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            use std::os::unix::fs::PermissionsExt;
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscall::fake::{Call, Recording};

    fn ranges() -> Vec<IdRange> {
        vec![IdRange {
            start: 100_000,
            count: 65536,
        }]
    }

    #[test]
    fn subordinate_ranges_use_the_setuid_tools() {
        let plan = plan_from("alice", 1000, 1001, &ranges(), &ranges(), true);
        assert_eq!(plan.mode, MapMode::SubordinateRanges);
        assert!(plan.warning.is_none());
        let fake = Recording::default();
        apply_id_maps(&fake, 42, &plan).unwrap();
        let calls = fake.calls.borrow();
        let expect = |tool: &str, own: &str| {
            Call::Helper(
                tool.into(),
                ["42", "0", own, "1", "1", "100000", "65536"]
                    .map(String::from)
                    .to_vec(),
            )
        };
        assert_eq!(
            *calls,
            vec![expect("newuidmap", "1000"), expect("newgidmap", "1001")]
        );
    }

    #[test]
    fn missing_range_falls_back_to_single_id_with_setgroups_denied_first() {
        let plan = plan_from("bob", 1000, 1001, &ranges(), &[], true);
        assert_eq!(plan.mode, MapMode::SingleId);
        let warning = plan.warning.clone().unwrap();
        assert!(warning.contains("no subordinate ID range"), "{warning}");
        assert!(warning.contains("usermod --add-subuids"), "{warning}");
        let fake = Recording::default();
        apply_id_maps(&fake, 7, &plan).unwrap();
        assert_eq!(
            *fake.calls.borrow(),
            vec![
                Call::Write("/proc/7/setgroups".into(), "deny".into()),
                Call::Write("/proc/7/uid_map".into(), "0 1000 1\n".into()),
                Call::Write("/proc/7/gid_map".into(), "0 1001 1\n".into()),
            ]
        );
    }

    #[test]
    fn missing_tools_say_which_package() {
        let plan = plan_from("carol", 1, 1, &ranges(), &ranges(), false);
        assert_eq!(plan.mode, MapMode::SingleId);
        assert!(plan.warning.unwrap().contains("uidmap"));
    }

    #[test]
    fn failing_helper_reports_tool_and_stderr() {
        let plan = plan_from("alice", 1000, 1000, &ranges(), &ranges(), true);
        let fake = Recording {
            helper_fails: Some((1, "newuidmap: write to uid_map failed\n".into())),
            ..Recording::default()
        };
        let err = apply_id_maps(&fake, 9, &plan).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("newuidmap 9 failed"), "{msg}");
        assert!(msg.ends_with("write to uid_map failed"), "{msg}");
        assert_eq!(fake.calls.borrow().len(), 1, "stops at the first failure");
    }
}
