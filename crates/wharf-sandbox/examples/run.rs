//! `cargo run --example run -- BUNDLE_DIR`: runs an OCI bundle with the embedded runtime,
//! entering the rootless user namespace first, the way `berth run` will.
#![allow(clippy::print_stderr)] // a command-line tool reports its error

use std::process::ExitCode;

fn main() -> ExitCode {
    match wharf_sandbox::maybe_reexec_in_userns() {
        Ok(Some(code)) => return code,
        Ok(None) => {}
        Err(e) => {
            eprintln!("run: {e}");
            return ExitCode::from(125);
        }
    }
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: run BUNDLE_DIR");
        return ExitCode::from(125);
    };
    match wharf_sandbox::runtime::run_bundle(std::path::Path::new(&dir)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let mut msg = format!("run: {e}");
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            eprintln!("{msg}");
            ExitCode::from(e.exit_code())
        }
    }
}
