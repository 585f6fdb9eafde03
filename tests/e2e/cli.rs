//! Every binary answers `--help` and `--version`, and refuses unknown subcommands.

use std::process::Command;

use crate::bin;

#[test]
fn help_and_version() {
    for name in ["kiln", "ferry", "berth"] {
        let out = Command::new(bin(name)).arg("--help").output().unwrap();
        assert!(out.status.success(), "{name} --help");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Usage:") && text.contains("--root"),
            "{name} --help: {text}"
        );
        let out = Command::new(bin(name)).arg("--version").output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("{name} {}", env!("CARGO_PKG_VERSION"))
        );
        let out = Command::new(bin(name))
            .arg("no-such-command")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: clap usage errors exit 2"
        );
    }
}

#[test]
fn manifest_digest_matches_sha256_of_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;
    let file = tmp.path().join("m.json");
    std::fs::write(&file, body).unwrap();
    let out = Command::new(bin("ferry"))
        .arg("manifest-digest")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        wharf_oci::digest::sha256(body).to_string()
    );
    std::fs::write(&file, b"not json").unwrap();
    let out = Command::new(bin("ferry"))
        .arg("manifest-digest")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an image manifest"));
}

/// The job templates in `deploy/` (issue 12) call `kiln build` and `kiln push` with flags that
/// must exist: every `--flag` they pass is one that command's `--help` lists, so a renamed or
/// removed flag cannot leave a template that fails in someone's pipeline.
#[test]
fn deploy_templates_use_flags_that_exist() {
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
    let mut files = Vec::new();
    let mut dirs = vec![deploy];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    let help = |sub: &str| {
        let out = Command::new(bin("kiln"))
            .args([sub, "--help"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let helps = [("build", help("build")), ("push", help("push"))];
    let mut checked = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (sub, help) in &helps {
            let call = format!("kiln {sub} ");
            for (at, _) in text.match_indices(&call) {
                // The invocation runs to the next command: `&&`, another list item, or the
                // next kiln call; YAML folding and `\` continuations keep its flags together.
                let rest = &text[at + call.len()..];
                let end = ["&&", "\n    - ", "\n- ", "kiln "]
                    .iter()
                    .filter_map(|m| rest.find(m))
                    .min()
                    .unwrap_or(rest.len());
                for token in rest[..end].split_whitespace() {
                    let Some(flag) = token.strip_prefix("--") else {
                        continue;
                    };
                    let name = flag.split('=').next().unwrap_or(flag);
                    assert!(
                        help.contains(&format!("--{name}")),
                        "{}: kiln {sub} has no --{name}",
                        f.display()
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} flags found in {files:?}");
}
