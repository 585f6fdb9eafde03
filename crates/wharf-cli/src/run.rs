//! The `main` wrapper: run a command, print the error chain, map it to an exit code.

use std::io::Write as _;
use std::process::ExitCode;

/// An error that carries the exit status the process should end with (podman's conventions:
/// 125 for the tool's own errors, 126 for a command that cannot be run, 127 for one not found).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ExitError {
    pub code: u8,
    pub message: String,
}

/// Runs `f`, printing `Error: <chain>` to stderr on failure. A broken pipe (e.g. `| head`) is
/// not an error. `default_code` is used for errors that carry no [`ExitError`].
pub fn main_with(default_code: u8, f: impl FnOnce() -> anyhow::Result<ExitCode>) -> ExitCode {
    match f() {
        Ok(code) => code,
        Err(err) => {
            let broken_pipe = err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            let code = err
                .chain()
                .find_map(|c| c.downcast_ref::<ExitError>())
                .map_or(default_code, |e| e.code);
            let _ = writeln!(std::io::stderr(), "Error: {}", chain_once(&err));
            ExitCode::from(code)
        }
    }
}

/// An error chain on one line, outermost first, each cause once: a cause whose text an
/// outer message already contains (a library that both quotes and chains its cause) is left
/// out.
pub fn chain_once(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for c in err.chain() {
        let t = c.to_string();
        if t.is_empty() || text.contains(&t) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&t);
    }
    text
}

/// The preamble of every command that starts or enters containers: re-executes from a sealed
/// copy of the executable ([`wharf_sandbox::runtime::reexec_sealed`]), so that a container
/// never reaches the installed file (CVE-2019-5736). Returns the exit code when the process
/// must stop here; call it before any thread starts.
pub fn reexec_sealed() -> Option<ExitCode> {
    let e = wharf_sandbox::runtime::reexec_sealed().err()?;
    let _ = writeln!(
        std::io::stderr(),
        "Error: {}",
        chain_once(&anyhow::Error::new(e))
    );
    Some(ExitCode::from(125))
}

/// The preamble of every command that needs (namespaced) root: enters the user namespace
/// ([`wharf_sandbox::maybe_reexec_in_userns`]). Returns the exit code when the process must
/// stop here (the namespaced child's, or podman's code for the error, printed as
/// [`main_with`] prints errors); call it before any thread starts.
pub fn enter_userns() -> Option<ExitCode> {
    match wharf_sandbox::maybe_reexec_in_userns() {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            let _ = writeln!(
                std::io::stderr(),
                "Error: {}",
                chain_once(&anyhow::Error::new(e))
            );
            Some(ExitCode::from(code))
        }
    }
}

/// What a subcommand needs before it runs; each binary decides per subcommand.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// (Namespaced) root: it mounts, runs RUN steps or touches files of subordinate IDs
    /// ([`enter_userns`]).
    pub userns: bool,
    /// It starts or enters containers, so it runs from a sealed copy of the executable
    /// ([`reexec_sealed`]).
    pub sealed: bool,
}

/// The body of every binary's `main`: the preambles `needs` asks for, in the one order that
/// works (the user namespace first, before any thread starts; then the sealed copy), then
/// `f` through [`main_with`].
pub fn run_command(
    needs: Needs,
    default_code: u8,
    f: impl FnOnce() -> anyhow::Result<ExitCode>,
) -> ExitCode {
    if needs.userns
        && let Some(code) = enter_userns()
    {
        return code;
    }
    if needs.sealed
        && let Some(code) = reexec_sealed()
    {
        return code;
    }
    main_with(default_code, f)
}
