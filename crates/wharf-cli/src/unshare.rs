//! `unshare [CMD...]`, shared by `berth unshare` (podman's) and `kiln unshare` (buildah's): run
//! a command (default: `$SHELL`) in the rootless user + mount namespace the tools use.

use std::process::ExitCode;

use crate::{ExitError, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Command and arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// Runs the command inside the namespace and returns its exit code; `--root` reaches it as
/// `WHARF_ROOT`.
pub fn run(global: &GlobalArgs, args: &Args) -> anyhow::Result<ExitCode> {
    let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
    let (program, rest) = args
        .command
        .split_first()
        .map_or((shell.as_str(), &[][..]), |(p, r)| (p.as_str(), r));
    let mut cmd = std::process::Command::new(program);
    cmd.args(rest);
    if let Some(root) = &global.root {
        cmd.env("WHARF_ROOT", root);
    }
    let code = wharf_sandbox::run_in_userns(&cmd).map_err(|e| ExitError {
        code: e.exit_code(),
        message: format!("{:#}", anyhow::Error::new(e)),
    })?;
    Ok(ExitCode::from(code))
}
