//! What users see, pinned: the `--help` of every subcommand of kiln, ferry and berth, and the
//! main error messages, as the binaries print them. A change to either shows up as a snapshot
//! diff in review (`cargo insta review`, or `INSTA_UPDATE=always` and `git diff`); CI
//! (`CI=true`) never writes snapshots, so an unreviewed change fails there.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use clap::CommandFactory as _;

use crate::{bin, text};

/// Every subcommand path of `cmd`, visible ones only (hidden ones are internal), depth first.
fn subcommands(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let mut path = prefix.to_vec();
        path.push(sub.get_name().to_string());
        out.push(path.clone());
        subcommands(sub, &path, out);
    }
}

#[test]
fn help_of_every_subcommand() {
    for (name, cmd) in [
        ("kiln", kiln::cli::Cli::command()),
        ("ferry", ferry::cli::Cli::command()),
        ("berth", berth::cli::Cli::command()),
    ] {
        let mut paths = vec![Vec::new()];
        subcommands(&cmd, &[], &mut paths);
        let mut all = String::new();
        for path in &paths {
            let out = Command::new(bin(name))
                .args(path)
                .arg("--help")
                .env("COLUMNS", "100")
                .output()
                .unwrap();
            assert!(out.status.success(), "{name} {path:?} --help");
            let _ = writeln!(all, "===== {name} {} --help", path.join(" "));
            all.push_str(&text(&out.stdout));
            all.push('\n');
        }
        insta::assert_snapshot!(format!("help_{name}"), all);
    }
}

/// Runs `name args` against an empty store in `tmp` without any of the machine's
/// configuration, and returns its exit code and standard error.
fn fails(tmp: &Path, name: &str, args: &[&str]) -> String {
    let out = Command::new(bin(name))
        .arg("--root")
        .arg(tmp.join("store"))
        .args(args)
        .current_dir(tmp)
        .env_remove("WHARF_ROOT")
        .env("HOME", tmp)
        .env("XDG_CONFIG_HOME", tmp.join("config"))
        .env("CONTAINERS_REGISTRIES_CONF", tmp.join("none.conf"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!out.status.success(), "{name} {args:?} succeeded");
    format!(
        "$ {name} {}\nexit {}\n{}",
        args.join(" "),
        out.status.code().unwrap_or(-1),
        text(&out.stderr)
    )
}

#[test]
fn main_error_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    std::fs::create_dir_all(t.join("ctx")).unwrap();
    std::fs::write(
        t.join("ctx/Dockerfile"),
        "FROM scratch\nCOPY missing.txt /\n",
    )
    .unwrap();
    std::fs::create_dir_all(t.join("bad")).unwrap();
    std::fs::write(t.join("bad/Dockerfile"), "FROM scratch\nFROBNICATE x\n").unwrap();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("kiln", vec!["build", "no-such-dir"]),
        ("kiln", vec!["build", "bad"]),
        ("kiln", vec!["build", "ctx"]),
        ("kiln", vec!["build", "-f", "no-such.Dockerfile", "ctx"]),
        ("kiln", vec!["rmi", "no-such-image"]),
        ("kiln", vec!["push", "no-such-image", "oci:out"]),
        ("ferry", vec!["inspect", "oci:no-such-layout"]),
        ("ferry", vec!["copy", "nosuchtransport:x", "oci:out"]),
        (
            "ferry",
            vec!["copy", "docker://127.0.0.1:1/nothing", "oci:out"],
        ),
        (
            "berth",
            vec!["run", "--rm", "--pull=never", "no-such-image"],
        ),
        ("berth", vec!["rm", "no-such-container"]),
        (
            "berth",
            vec!["run", "--rm", "-v", "/x:relative", "no-such-image"],
        ),
    ];
    let mut all = String::new();
    for (name, args) in &cases {
        all.push_str(&fails(t, name, args));
        all.push('\n');
    }
    let tmp_path = regex_escape(&t.display().to_string());
    insta::with_settings!({filters => vec![(tmp_path.as_str(), "[TMP]")]}, {
        insta::assert_snapshot!("errors", all);
    });
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = ".+*?()|[]{}^$\\".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}
