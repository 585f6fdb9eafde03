//! `cargo run --example unshare -- [CMD...]`: a shell (or CMD) inside the rootless user
//! namespace, what `berth unshare` and `kiln unshare` do.
#![allow(clippy::print_stderr)] // a command-line tool reports its error

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let program = args
        .next()
        .or_else(|| std::env::var("SHELL").ok())
        .unwrap_or_else(|| "/bin/sh".into());
    let mut cmd = Command::new(program);
    cmd.args(args);
    match wharf_sandbox::run_in_userns(&cmd) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let mut msg = format!("unshare: {e}");
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            eprintln!("{msg}");
            ExitCode::from(125)
        }
    }
}
