//! `berth run --pull=always|missing|never` against a real registry, and
//! `--userns=keep-id`, rootless as the test user.

use wharf_testkit::registry::Registry;

use crate::berth::{setup, text};
use crate::bin;

#[test]
fn run_pull_policies() {
    let env = setup();
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let image = format!("{}/pulled/box:1", reg.addr());
    let push = env
        .user
        .command(bin("ferry"))
        .arg("--root")
        .arg(&env.root)
        .args([
            "copy",
            "--dest-tls-verify=false",
            "store:localhost/box:latest",
        ])
        .arg(format!("docker://{image}"))
        .current_dir("/tmp")
        .output()
        .unwrap();
    assert!(push.status.success(), "{}", text(&push.stderr));
    let run = |pull: &str| {
        env.run(&[
            pull,
            "--tls-verify=false",
            &image,
            "sh",
            "-c",
            "echo $GREETING",
        ])
    };

    let (code, _, err) = run("--pull=never");
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains("not found") && err.contains("--pull=never"),
        "{err}"
    );

    let (code, out, err) = run("--pull=missing");
    assert_eq!((code, out.as_str()), (0, "hello\n"), "{err}");
    assert!(err.contains("Pulling"), "missing: pulled: {err}");
    let (code, _, err) = run("--pull=missing");
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("Pulling"), "missing: not again: {err}");
    let (code, _, err) = run("--pull=always");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Pulling"), "always: {err}");

    drop(reg);
    let (code, _, err) = run("--pull=always");
    assert_eq!(code, 125, "always needs the registry: {err}");
    let (code, _, err) = run("--pull=missing");
    assert_eq!(code, 0, "missing runs the stored image offline: {err}");
    assert!(env.containers().is_empty());
}

#[test]
fn userns_keep_id_runs_as_the_user() {
    let env = setup();
    let data = env.tmp.path().join("kept");
    std::fs::create_dir(&data).unwrap();
    env.user.chown(&data);
    let vol = format!("{}:/data", data.display());
    let (code, out, err) = env.run(&[
        "--userns=keep-id",
        "-v",
        &vol,
        "box",
        "sh",
        "-c",
        "id -u; id -g; grep -c \"^[^:]*:[^:]*:$(id -u):\" /etc/passwd; echo x > /data/f; \
         tr -s ' ' < /proc/self/uid_map | tr '\\n' ';'",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], env.user.uid.to_string(), "{out}");
    assert_eq!(lines[1], env.user.gid.to_string(), "{out}");
    assert_eq!(lines[2], "1", "an /etc/passwd entry was added: {out}");
    let uid = env.user.uid;
    assert_eq!(
        lines[3].trim(),
        format!(
            "0 1 {uid}; {uid} 0 1; {} {} {};",
            uid + 1,
            uid + 1,
            65536 - uid
        ),
        "the rest of the range around it"
    );
    let meta = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(data.join("f")).unwrap());
    assert_eq!(
        meta, uid,
        "a file written inside belongs to the user on the host"
    );
}
