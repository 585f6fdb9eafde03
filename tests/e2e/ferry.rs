//! `ferry`: copy, inspect, list-tags, delete, login and logout against real registries, and
//! skopeo reading what ferry wrote.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};

use wharf_testkit::registry::Registry;

use crate::{bin, busybox_store, have, ok, run};

#[test]
fn ferry_copy_inspect_list_tags_delete() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr();
    let t = tmp.path().display();
    let img = format!("docker://{a}/e2e/busybox:1");
    let digestfile = tmp.path().join("digest");
    let out = ok(
        "ferry",
        &root,
        &[
            "copy",
            "--dest-tls-verify=false",
            "--digestfile",
            digestfile.to_str().unwrap(),
            "store:localhost/busybox:latest",
            &img,
        ],
    );
    assert!(
        out.contains("Writing manifest to image destination"),
        "{out}"
    );
    let digest = std::fs::read_to_string(&digestfile).unwrap();
    assert!(digest.starts_with("sha256:"), "{digest}");

    let info: serde_json::Value = serde_json::from_str(&ok(
        "ferry",
        &root,
        &["inspect", "--tls-verify=false", &img],
    ))
    .unwrap();
    assert_eq!(info["Name"], format!("{a}/e2e/busybox"));
    assert_eq!(info["Digest"], digest);
    assert_eq!(info["RepoTags"], serde_json::json!(["1"]));
    assert_eq!(info["Os"], "linux");
    assert_eq!(info["Layers"].as_array().unwrap().len(), 1);
    assert_eq!(info["LayersData"][0]["Digest"], info["Layers"][0]);
    assert!(
        info["Env"][0].as_str().unwrap().starts_with("PATH="),
        "{info}"
    );
    let f = ok(
        "ferry",
        &root,
        &[
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            &img,
        ],
    );
    assert_eq!(f.trim(), digest);
    let raw = Command::new(bin("ferry"))
        .args(["inspect", "--raw", "--tls-verify=false", &img])
        .output()
        .unwrap();
    assert_eq!(wharf_oci::digest::sha256(&raw.stdout).to_string(), digest);
    let config: serde_json::Value = serde_json::from_str(&ok(
        "ferry",
        &root,
        &["inspect", "--config", "--tls-verify=false", &img],
    ))
    .unwrap();
    assert_eq!(config["rootfs"]["type"], "layers");

    // Registry to layout and archive, digests kept; skopeo reads our docker-archive.
    let q = ["copy", "-q", "--src-tls-verify=false"];
    let oci = format!("oci:{t}/layout:v1");
    let out = ok(
        "ferry",
        &root,
        &[&q[..], &[img.as_str(), oci.as_str()]].concat(),
    );
    assert!(out.is_empty(), "--quiet printed {out}");
    let f = ok(
        "ferry",
        &root,
        &["inspect", "--format", "{{.Digest}}", &oci],
    );
    assert_eq!(f.trim(), digest);
    let da = format!("docker-archive:{t}/saved.tar:e2e/busybox:saved");
    ok(
        "ferry",
        &root,
        &[&q[..], &[img.as_str(), da.as_str()]].concat(),
    );
    if have("skopeo") {
        let out = Command::new("skopeo")
            .args(["inspect", &da])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let si: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(si["Layers"].as_array().unwrap().len(), 1);
    }

    let tags: serde_json::Value = serde_json::from_str(&ok(
        "ferry",
        &root,
        &[
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{a}/e2e/busybox"),
        ],
    ))
    .unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["1"]));

    ok("ferry", &root, &["delete", "--tls-verify=false", &img]);
    let out = run("ferry", &root, &["inspect", "--tls-verify=false", &img]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not found"),
        "{out:?}"
    );
    let out = run(
        "ferry",
        &root,
        &["copy", "store:localhost/busybox", "busybox"],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("hint"),
        "{out:?}"
    );
}

#[test]
fn ferry_login_logout_with_a_tls_registry() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_tls_auth("alice", "s3cret") else {
        return;
    };
    let a = reg.addr();
    let certs = reg.cert_dir().unwrap();
    let certs = certs.to_str().unwrap();
    let authfile = tmp.path().join("auth.json");
    let af = authfile.to_str().unwrap();
    let out = run(
        "ferry",
        &root,
        &[
            "login",
            "--authfile",
            af,
            "--cert-dir",
            certs,
            "-u",
            "alice",
            "-p",
            "nope",
            a,
        ],
    );
    assert!(!out.status.success(), "wrong password accepted");
    assert!(!authfile.exists());

    let mut child = Command::new(bin("ferry"))
        .args([
            "login",
            "--authfile",
            af,
            "--cert-dir",
            certs,
            "-u",
            "alice",
            "--password-stdin",
            a,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = std::fs::metadata(&authfile).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let img = format!("docker://{a}/secure/busybox:1");
    let args = [
        "copy",
        "-q",
        "--authfile",
        af,
        "--dest-cert-dir",
        certs,
        "store:localhost/busybox",
        &img,
    ];
    ok("ferry", &root, &args);
    ok(
        "ferry",
        &root,
        &["inspect", "--authfile", af, "--cert-dir", certs, &img],
    );

    ok("ferry", &root, &["logout", "--authfile", af, a]);
    let out = run(
        "ferry",
        &root,
        &["inspect", "--authfile", af, "--cert-dir", certs, &img],
    );
    assert!(
        !out.status.success(),
        "inspect without credentials succeeded"
    );
    let out = run(
        "ferry",
        &root,
        &[
            "inspect",
            "--creds",
            "alice:s3cret",
            "--cert-dir",
            certs,
            &img,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kiln_push_and_pull_through_a_registry() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr();
    let remote = format!("{a}/kiln/busybox:1");
    let digestfile = tmp.path().join("pushed");
    ok(
        "kiln",
        &root,
        &[
            "push",
            "-q",
            "--tls-verify=false",
            "--digestfile",
            digestfile.to_str().unwrap(),
            "localhost/busybox:latest",
            &remote,
        ],
    );
    let pushed = std::fs::read_to_string(&digestfile).unwrap();
    let f = ok(
        "ferry",
        &root,
        &[
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            &format!("docker://{remote}"),
        ],
    );
    assert_eq!(f.trim(), pushed);
    // Into a fresh store, under the registry name, with the same image ID.
    let other = tmp.path().join("other");
    let id = ok(
        "kiln",
        &other,
        &["pull", "-q", "--tls-verify=false", &remote],
    );
    let orig = ok("kiln", &root, &["images", "-q", "--no-trunc"]);
    assert!(orig.contains(id.trim()), "{orig} vs {id}");
    let listed = ok("kiln", &other, &["images"]);
    assert!(listed.contains(&format!("{a}/kiln/busybox")), "{listed}");
    // push to another transport
    let layout = format!("oci:{}/layout-out:v1", tmp.path().display());
    ok(
        "kiln",
        &root,
        &["push", "-q", "localhost/busybox:latest", &layout],
    );
    let f = ok(
        "ferry",
        &root,
        &["inspect", "--format", "{{.Digest}}", &layout],
    );
    assert_eq!(f.trim(), pushed);
}

#[test]
fn ferry_sync_repository_yaml_dry_run_and_bad_yaml() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr();
    let t = tmp.path().display();
    for tag in ["1", "2"] {
        let dst = format!("docker://{a}/up/busybox:{tag}");
        let args = [
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "store:localhost/busybox",
            &dst,
        ];
        ok("ferry", &root, &args);
    }
    let tls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
    let src = format!("{a}/up/busybox");
    let mirror = format!("{a}/mirror");

    // --dry-run names each image and writes nothing.
    let out = run(
        "ferry",
        &root,
        &[
            &["sync", "--src", "docker", "--dest", "docker", "--dry-run"][..],
            &tls,
            &[&src, &mirror],
        ]
        .concat(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            ": docker://{a}/up/busybox:1 -> docker://{a}/mirror/busybox:1"
        )) && err.contains("Would have copied image ref 2/2: "),
        "{err}"
    );
    let out = run(
        "ferry",
        &root,
        &[
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{mirror}/busybox"),
        ],
    );
    assert!(!out.status.success(), "the dry run pushed");

    let digests = tmp.path().join("digests");
    let df = digests.to_str().unwrap();
    let out = ok(
        "ferry",
        &root,
        &[
            &["sync", "-s", "docker", "-d", "docker", "--digestfile", df][..],
            &tls,
            &[&src, &mirror],
        ]
        .concat(),
    );
    assert!(
        out.contains("Writing manifest to image destination"),
        "{out}"
    );
    let tags: serde_json::Value = serde_json::from_str(&ok(
        "ferry",
        &root,
        &[
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{mirror}/busybox"),
        ],
    ))
    .unwrap();
    let mut tags: Vec<&str> = tags["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort_unstable();
    assert_eq!(tags, ["1", "2"]);
    let lines = std::fs::read_to_string(&digests).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    assert!(
        lines.contains(&format!(" docker://{mirror}/busybox:2")),
        "{lines}"
    );

    // A YAML file with a misspelt field: the error names the file, the field and its line.
    let yaml = tmp.path().join("sync.yml");
    std::fs::write(
        &yaml,
        format!("{a}:\n  images:\n    up/busybox: []\n  tls-verfy: false\n"),
    )
    .unwrap();
    let out = run(
        "ferry",
        &root,
        &[
            "sync",
            "--src",
            "yaml",
            "--dest",
            "dir",
            yaml.to_str().unwrap(),
            &format!("{t}/usb"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("sync.yml") && err.contains("tls-verfy") && err.contains("line 4"),
        "{err}"
    );
    assert!(!tmp.path().join("usb").exists());

    // The corrected file syncs the listed tag into a directory.
    std::fs::write(
        &yaml,
        format!("{a}:\n  images:\n    up/busybox: [\"2\"]\n  tls-verify: false\n"),
    )
    .unwrap();
    ok(
        "ferry",
        &root,
        &[
            "sync",
            "-q",
            "--src",
            "yaml",
            "--dest",
            "dir",
            yaml.to_str().unwrap(),
            &format!("{t}/usb"),
        ],
    );
    assert!(tmp.path().join("usb/busybox:2/manifest.json").is_file());
    assert!(!tmp.path().join("usb/busybox:1").exists());
}

#[test]
fn ferry_copy_recompresses_layers_with_zstd() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let t = tmp.path().display();
    let dst = format!("oci:{t}/z:1");
    let args = [
        "copy",
        "-q",
        "--format",
        "oci",
        "--dest-compress-format",
        "zstd",
        "--dest-compress-level",
        "9",
        "store:localhost/busybox",
        &dst,
    ];
    ok("ferry", &root, &args);
    let raw: serde_json::Value =
        serde_json::from_str(&ok("ferry", &root, &["inspect", "--raw", &dst])).unwrap();
    assert_eq!(
        raw["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    if have("skopeo") {
        let out = Command::new("skopeo")
            .args(["inspect", "--raw", &dst])
            .output()
            .unwrap();
        assert!(out.status.success());
        let sk: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(sk, raw);
    }
    let out = run(
        "ferry",
        &root,
        &[
            "copy",
            "--format",
            "v2s2",
            "--dest-compress-format",
            "zstd",
            "store:localhost/busybox",
            // dir: holds either format (an OCI layout refuses v2s2 before the compression).
            &format!("dir:{t}/bad"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("zstd") && err.contains("--format oci"),
        "{err}"
    );
}

/// `--dest-decompress` (copy and sync): layers stored as plain tars, named by their diff IDs,
/// and read back by skopeo, which checks every blob's digest.
#[test]
fn ferry_dest_decompress_stores_plain_layers() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr();
    let t = tmp.path().display();
    let nt = "--dest-tls-verify=false";
    ok(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            nt,
            "store:localhost/busybox",
            &format!("docker://{a}/up/busybox:1"),
        ],
    );
    let plain = format!("docker://{a}/plain/busybox:1");
    let args = [
        "copy",
        "-q",
        "--src-tls-verify=false",
        nt,
        "--dest-decompress",
    ];
    let up = format!("docker://{a}/up/busybox:1");
    ok(
        "ferry",
        &root,
        &[&args[..], &[up.as_str(), plain.as_str()]].concat(),
    );
    ok(
        "ferry",
        &root,
        &[
            "sync",
            "-q",
            "-s",
            "docker",
            "-d",
            "docker",
            "--src-tls-verify=false",
            nt,
            "--dest-decompress",
            &format!("{a}/up/busybox"),
            &format!("{a}/synced"),
        ],
    );
    for image in [plain.clone(), format!("docker://{a}/synced/busybox:1")] {
        let raw: serde_json::Value = serde_json::from_str(&ok(
            "ferry",
            &root,
            &["inspect", "--tls-verify=false", "--raw", &image],
        ))
        .unwrap();
        let config: serde_json::Value = serde_json::from_str(&ok(
            "ferry",
            &root,
            &["inspect", "--tls-verify=false", "--config", &image],
        ))
        .unwrap();
        let layer = &raw["layers"][0];
        let mt = layer["mediaType"].as_str().unwrap();
        assert!(
            [
                "application/vnd.oci.image.layer.v1.tar",
                "application/vnd.docker.image.rootfs.diff.tar"
            ]
            .contains(&mt),
            "{mt}"
        );
        assert_eq!(layer["digest"], config["rootfs"]["diff_ids"][0], "{image}");
        // Uncompressed: busybox's layer tar is larger than its gzip.
        assert!(layer["size"].as_u64().unwrap() > 1_500_000, "{layer}");
    }
    let out = run(
        "ferry",
        &root,
        &[
            "copy",
            "--dest-decompress",
            "--dest-compress-format",
            "zstd",
            &up,
            &plain,
        ],
    );
    assert!(!out.status.success());
    if have("skopeo") {
        let dir = format!("dir:{t}/sk");
        let out = Command::new("skopeo")
            .args(["copy", "-q", "--src-tls-verify=false", &plain, &dir])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let raw: serde_json::Value =
            serde_json::from_slice(&std::fs::read(tmp.path().join("sk/manifest.json")).unwrap())
                .unwrap();
        let d = raw["layers"][0]["digest"].as_str().unwrap();
        let blob = tmp.path().join("sk").join(d.trim_start_matches("sha256:"));
        let mut head = [0u8; 262];
        std::io::Read::read_exact(&mut std::fs::File::open(blob).unwrap(), &mut head).unwrap();
        assert_eq!(&head[257..262], b"ustar", "the stored layer is a plain tar");
    }
}

/// `--src-username/--src-password`, `--username/--password`, `--no-creds` and `--src-no-creds`
/// against a registry that wants a password.
#[test]
fn ferry_credential_flags() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_tls_auth("alice", "s3cret") else {
        return;
    };
    let a = reg.addr();
    let certs = reg.cert_dir().unwrap();
    let certs = certs.to_str().unwrap();
    let img = format!("docker://{a}/creds/busybox:1");
    let t = tmp.path().display();
    let push = |user: &str, pass: &str| {
        run(
            "ferry",
            &root,
            &[
                "copy",
                "-q",
                "--dest-cert-dir",
                certs,
                "--dest-username",
                user,
                "--dest-password",
                pass,
                "store:localhost/busybox",
                &img,
            ],
        )
    };
    assert!(
        !push("alice", "wrong").status.success(),
        "a wrong password was accepted"
    );
    let out = push("alice", "s3cret");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let pull = |extra: &[&str]| {
        let dst = format!("oci:{t}/pulled:x");
        let args = [
            &["copy", "-q", "--src-cert-dir", certs][..],
            extra,
            &[&img, &dst],
        ]
        .concat();
        run("ferry", &root, &args)
    };
    assert!(
        pull(&["--src-username", "alice", "--src-password", "s3cret"])
            .status
            .success()
    );
    assert!(
        !pull(&["--src-username", "alice", "--src-password", "nope"])
            .status
            .success()
    );
    let out = pull(&["--src-username", "alice"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--src-password"),
        "{out:?}"
    );

    // Credentials in an auth file are used, unless --src-no-creds / --no-creds.
    let authfile = tmp.path().join("auth.json");
    let af = authfile.to_str().unwrap();
    let login = [
        "login",
        "--authfile",
        af,
        "--cert-dir",
        certs,
        "-u",
        "alice",
        "-p",
        "s3cret",
        a,
    ];
    ok("ferry", &root, &login);
    assert!(pull(&["--authfile", af]).status.success());
    let out = pull(&["--authfile", af, "--src-no-creds"]);
    assert!(
        !out.status.success(),
        "--src-no-creds still sent the auth file's credentials"
    );

    let inspect = |extra: &[&str]| {
        let args = [&["inspect", "--cert-dir", certs][..], extra, &[&img]].concat();
        run("ferry", &root, &args)
    };
    assert!(
        inspect(&["--username", "alice", "--password", "s3cret"])
            .status
            .success()
    );
    assert!(
        !inspect(&["--username", "alice", "--password", "bad"])
            .status
            .success()
    );
    assert!(inspect(&["--authfile", af]).status.success());
    assert!(!inspect(&["--authfile", af, "--no-creds"]).status.success());
    let repo = format!("docker://{a}/creds/busybox");
    let args = [
        "list-tags",
        "--cert-dir",
        certs,
        "--username",
        "alice",
        "--password",
        "s3cret",
        &repo,
    ];
    let tags: serde_json::Value = serde_json::from_str(&ok("ferry", &root, &args)).unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["1"]));
}

/// `--registries-conf` marks a plain-HTTP registry insecure; `--retry-delay` replaces the
/// exponential backoff.
#[test]
fn ferry_registries_conf_and_retry_delay() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr();
    let img = format!("docker://{a}/conf/busybox:1");
    ok(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "store:localhost/busybox",
            &img,
        ],
    );
    let conf = tmp.path().join("registries.conf");
    std::fs::write(
        &conf,
        format!("[[registry]]\nlocation = \"{a}\"\ninsecure = true\n"),
    )
    .unwrap();
    let empty = tmp.path().join("empty.conf");
    std::fs::write(&empty, "").unwrap();
    let inspect = |conf_flag: Option<&std::path::Path>| {
        let mut c = Command::new(bin("ferry"));
        c.env("CONTAINERS_REGISTRIES_CONF", &empty);
        if let Some(f) = conf_flag {
            c.arg("--registries-conf").arg(f);
        }
        c.args(["inspect", "--retry-times", "0", &img])
            .output()
            .unwrap()
    };
    assert!(
        !inspect(None).status.success(),
        "plain HTTP without insecure"
    );
    let out = inspect(Some(&conf));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = tmp.path().join("bad.conf");
    std::fs::write(&bad, "[[registry]]\nlocation = 5\n").unwrap();
    let out = inspect(Some(&bad));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.conf"),
        "{out:?}"
    );

    // Nothing listens here: two retries 1.2 s apart take 2.4 s; the default backoff
    // (0.5 s, then 1 s) would take 1.5 s.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let start = std::time::Instant::now();
    let out = run(
        "ferry",
        &root,
        &[
            "inspect",
            "--retry-times",
            "2",
            "--retry-delay",
            "1200ms",
            &format!("docker://127.0.0.1:{port}/x:1"),
        ],
    );
    let took = start.elapsed();
    assert!(!out.status.success());
    assert!(
        took >= std::time::Duration::from_millis(2300),
        "took {took:?}"
    );
    let out = run(
        "ferry",
        &root,
        &["inspect", "--retry-delay", "soon", "docker://x/y"],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid duration"),
        "{out:?}"
    );
}

/// Without a terminal, copy prints skopeo's one line per blob (full digests), then the
/// manifest line; blobs already there say so; no bar control characters leak into the log.
#[test]
fn ferry_copy_prints_one_plain_line_per_blob() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let t = tmp.path().display();
    let dst = format!("oci:{t}/plain:1");
    let out = ok("ferry", &root, &["copy", "store:localhost/busybox", &dst]);
    let m: serde_json::Value =
        serde_json::from_str(&ok("ferry", &root, &["inspect", "--raw", &dst])).unwrap();
    let layer = m["layers"][0]["digest"].as_str().unwrap();
    let config = m["config"]["digest"].as_str().unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.first(),
        Some(&"Getting image source signatures"),
        "{out}"
    );
    assert!(
        lines.contains(&format!("Copying blob {layer} done").as_str()),
        "{out}"
    );
    assert!(
        lines.contains(&format!("Copying config {config} done").as_str()),
        "{out}"
    );
    assert_eq!(
        lines.last(),
        Some(&"Writing manifest to image destination"),
        "{out}"
    );
    assert_eq!(lines.len(), 4, "{out}");
    assert!(!out.contains('\r') && !out.contains('\u{1b}'), "{out:?}");

    let again = ok("ferry", &root, &["copy", "store:localhost/busybox", &dst]);
    assert!(
        again.contains(&format!("Copying blob {layer} skipped: already exists")),
        "{again}"
    );
    let quiet = run(
        "ferry",
        &root,
        &["copy", "-q", "store:localhost/busybox", &dst],
    );
    assert!(
        quiet.stdout.is_empty() && quiet.stderr.is_empty(),
        "{quiet:?}"
    );
}

/// Open upload sessions (a directory with its start time) a docker-registry holds for `repo`.
fn open_uploads(reg: &Registry, repo: &str) -> Vec<std::path::PathBuf> {
    let dir = reg
        .data_dir()
        .join("docker/registry/v2/repositories")
        .join(repo)
        .join("_uploads");
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.join("startedat").exists())
                .collect()
        })
        .unwrap_or_default()
}

/// ferry opens the destination's upload session while it asks the source for the blob; a
/// source whose layer blob is gone fails the copy naming the blob, as skopeo's copy of the
/// same layout fails, and neither leaves an upload session open in the registry.
#[test]
fn a_copy_whose_source_blob_is_gone_fails_and_leaves_no_upload_open() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    assert!(have("skopeo"), "skopeo is required");
    let layout = tmp.path().join("layout");
    let src = format!("oci:{}:v1", layout.display());
    ok(
        "ferry",
        &root,
        &["copy", "store:localhost/busybox:latest", &src],
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let blob = |d: &str| {
        layout
            .join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap().to_owned();
    std::fs::remove_file(blob(&layer)).unwrap();
    let hex = layer.trim_start_matches("sha256:");

    let a = reg.addr();
    let out = run(
        "ferry",
        &root,
        &[
            "copy",
            "--dest-tls-verify=false",
            &src,
            &format!("docker://{a}/f/bb:1"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(hex), "ferry: {err}");
    let peer = Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false", &src])
        .arg(format!("docker://{a}/s/bb:1"))
        .output()
        .unwrap();
    assert!(
        !peer.status.success(),
        "skopeo copied a layout missing a blob"
    );
    for repo in ["f/bb", "s/bb"] {
        let left = open_uploads(&reg, repo);
        assert!(
            left.is_empty(),
            "{repo}: upload sessions left open: {left:?}"
        );
    }
}
