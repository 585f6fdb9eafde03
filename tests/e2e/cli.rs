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
