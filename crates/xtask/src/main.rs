//! `cargo run -p xtask -- gen` regenerates `completions/` (bash, zsh, fish) and `man/` (one page
//! per binary and per subcommand) from the clap definitions; `cargo run -p xtask -- check` fails
//! when the checked-in files are stale, which CI runs.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::CommandFactory as _;

fn commands() -> Vec<clap::Command> {
    vec![
        kiln::cli::Cli::command(),
        ferry::cli::Cli::command(),
        berth::cli::Cli::command(),
    ]
}

/// Every generated file, relative path -> contents.
fn generate() -> anyhow::Result<BTreeMap<PathBuf, Vec<u8>>> {
    let mut files = BTreeMap::new();
    for mut cmd in commands() {
        cmd.build();
        let name = cmd.get_name().to_owned();
        for (shell, file) in [
            (
                clap_complete::Shell::Bash,
                format!("completions/bash/{name}"),
            ),
            (
                clap_complete::Shell::Zsh,
                format!("completions/zsh/_{name}"),
            ),
            (
                clap_complete::Shell::Fish,
                format!("completions/fish/{name}.fish"),
            ),
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd.clone(), &name, &mut buf);
            files.insert(PathBuf::from(file), buf);
        }
        man_pages(&cmd, &name, &mut files)?;
    }
    Ok(files)
}

fn man_pages(
    cmd: &clap::Command,
    full_name: &str,
    files: &mut BTreeMap<PathBuf, Vec<u8>>,
) -> anyhow::Result<()> {
    let page = cmd.clone().name(full_name.to_owned());
    let mut buf = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut buf)
        .with_context(|| format!("rendering man page {full_name}"))?;
    files.insert(PathBuf::from(format!("man/{full_name}.1")), buf);
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        man_pages(sub, &format!("{full_name}-{}", sub.get_name()), files)?;
    }
    Ok(())
}

fn existing(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for dir in ["completions", "man"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let (Ok(rel), Ok(bytes)) = (p.strip_prefix(root), std::fs::read(&p)) {
                    out.insert(rel.to_owned(), bytes);
                }
            }
        }
    }
    out
}

fn main() -> ExitCode {
    // `cargo run` sets the variable at run time; the compile-time one can name another
    // checkout that shares this target dir.
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..");
    let mode = std::env::args().nth(1).unwrap_or_default();
    let result = (|| -> anyhow::Result<()> {
        let want = generate()?;
        let have = existing(&root);
        match mode.as_str() {
            "gen" => {
                for old in have.keys().filter(|p| !want.contains_key(*p)) {
                    std::fs::remove_file(root.join(old))?;
                }
                for (rel, bytes) in &want {
                    let path = root.join(rel);
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(&path, bytes)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                println!("wrote {} files under completions/ and man/", want.len());
                Ok(())
            }
            "check" => {
                let stale: Vec<String> = want
                    .iter()
                    .filter(|(p, b)| have.get(*p) != Some(*b))
                    .map(|(p, _)| p.display().to_string())
                    .chain(
                        have.keys()
                            .filter(|p| !want.contains_key(*p))
                            .map(|p| format!("{} (obsolete)", p.display())),
                    )
                    .collect();
                if stale.is_empty() {
                    println!(
                        "completions/ and man/ are up to date ({} files)",
                        want.len()
                    );
                    Ok(())
                } else {
                    bail!(
                        "stale generated files (run `cargo run -p xtask -- gen`):\n  {}",
                        stale.join("\n  ")
                    )
                }
            }
            _ => bail!("usage: xtask gen|check"),
        }
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
