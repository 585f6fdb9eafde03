//! buildah-style working containers: `kiln from`, `run`, `copy`, `add`, `config`, `commit`,
//! `containers`, `rm`, `mount` (inside `kiln unshare` when rootless) and `kiln manifest`,
//! driven as a shell script would, as root and as an unprivileged user; the committed image is
//! read back with umoci and `kiln inspect`, run by berth, and a manifest list is pushed to a
//! real registry and read back with skopeo.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wharf_testkit::registry::Registry;

use crate::text;
use crate::{bin, busybox_store, have};

/// Runs kiln (or berth) against one store, as root or as the test user, from `cwd`.
struct Runner {
    root: PathBuf,
    cwd: PathBuf,
    user: Option<wharf_testkit::user::TestUser>,
}

impl Runner {
    fn cmd(&self, program: &str) -> Command {
        let mut c = match &self.user {
            Some(u) => u.command(bin(program)),
            None => Command::new(bin(program)),
        };
        c.arg("--root")
            .arg(&self.root)
            .current_dir(&self.cwd)
            .env_remove("WHARF_ROOT");
        c
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        self.cmd(program).args(args).output().unwrap()
    }

    fn ok(&self, program: &str, args: &[&str]) -> String {
        let out = self.run(program, args);
        assert!(
            out.status.success(),
            "{program} {args:?} failed with {}:\n{}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    fn kiln(&self, args: &[&str]) -> String {
        self.ok("kiln", args)
    }
}

/// Unpacks `name` from the store with umoci and returns the root filesystem.
fn unpack(root: &Path, name: &str, dir: &Path) -> PathBuf {
    let bundle = dir.join(format!("bundle-{}", name.replace([':', '/'], "_")));
    let out = Command::new("umoci")
        .arg("unpack")
        .arg("--image")
        .arg(format!("{}:{name}", root.join("oci").display()))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(out.status.success(), "umoci unpack: {}", text(&out.stderr));
    bundle.join("rootfs")
}

fn owner_mode(p: &Path) -> (u32, u32, u32) {
    let m = std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (m.uid(), m.gid(), m.permissions().mode() & 0o7777)
}

/// Host files the script copies: a file, a directory and a tar archive.
fn make_inputs(dir: &Path) {
    std::fs::write(dir.join("greeting.txt"), "hello from the host\n").unwrap();
    std::fs::create_dir_all(dir.join("tree/sub")).unwrap();
    std::fs::write(dir.join("tree/sub/n.txt"), "nested\n").unwrap();
    std::fs::create_dir_all(dir.join("arch")).unwrap();
    std::fs::write(dir.join("arch/a.txt"), "from the archive\n").unwrap();
    let st = Command::new("tar")
        .args(["-C", "arch", "-czf", "archive.tar.gz", "a.txt"])
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success());
}

/// The shell-script sequence; returns the working container's name and the image ID.
fn script(k: &Runner) -> (String, String) {
    let ctr = k.kiln(&["from", "busybox"]).trim().to_owned();
    assert_eq!(ctr, "busybox-working-container");
    // A second container of the same image gets buildah's numbered name; rm prints its ID.
    let second = k
        .kiln(&["from", "--pull=never", "busybox"])
        .trim()
        .to_owned();
    assert_eq!(second, "busybox-working-container-1");
    let named = k
        .kiln(&["from", "--name", "mine", "busybox"])
        .trim()
        .to_owned();
    assert_eq!(named, "mine");
    let taken = k.run("kiln", &["from", "--name", "mine", "busybox"]);
    assert!(!taken.status.success());
    assert!(
        text(&taken.stderr).contains("already in use"),
        "{}",
        text(&taken.stderr)
    );

    let list = k.kiln(&["containers"]);
    let mut lines = list.lines();
    assert_eq!(
        lines.next().unwrap(),
        "CONTAINER ID  BUILDER  IMAGE ID     IMAGE NAME                       CONTAINER NAME"
    );
    let row = lines
        .find(|l| l.ends_with(" busybox-working-container"))
        .unwrap();
    assert!(row.contains("     *     "), "{row}");
    assert!(row.contains("localhost/busybox:latest"), "{row}");
    let json: serde_json::Value = serde_json::from_str(&k.kiln(&["containers", "--json"])).unwrap();
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert!(
        entries
            .iter()
            .all(|e| e["builder"] == true && e["imagename"] == "localhost/busybox:latest")
    );
    let id_second = entries
        .iter()
        .find(|e| e["containername"] == second.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(id_second.len(), 64);
    assert_eq!(
        k.kiln(&["rm", &second, "mine"]).lines().next().unwrap(),
        id_second
    );
    assert_eq!(k.kiln(&["containers", "-q"]).lines().count(), 1);
    assert_eq!(k.kiln(&["containers", "--noheading"]).lines().count(), 1);

    k.kiln(&["run", &ctr, "--", "sh", "-c", "echo hi > /hello"]);
    k.kiln(&[
        "run",
        "--env",
        "FOO=bar",
        "--workingdir",
        "/work",
        &ctr,
        "sh",
        "-c",
        "echo $FOO > out; rm /bin/vi",
    ]);
    assert_eq!(
        k.kiln(&["run", "--user", "nobody", &ctr, "--", "id", "-u"]),
        "65534\n"
    );
    let volume = format!("{}:/mnt:ro", k.cwd.join("tree").display());
    assert_eq!(
        k.kiln(&["run", "-v", &volume, &ctr, "--", "cat", "/mnt/sub/n.txt"]),
        "nested\n"
    );
    let ro = k.run(
        "kiln",
        &["run", "-v", &volume, &ctr, "--", "touch", "/mnt/x"],
    );
    assert!(!ro.status.success(), "the volume is read-only");
    // A failing command ends kiln run with its status.
    let failed = k.run("kiln", &["run", &ctr, "--", "sh", "-c", "exit 3"]);
    assert_eq!(failed.status.code(), Some(3), "{}", text(&failed.stderr));
    k.kiln(&["copy", &ctr, "greeting.txt", "/srv/"]);
    k.kiln(&[
        "copy",
        "--chown",
        "nobody:nogroup",
        "--chmod",
        "0600",
        &ctr,
        "greeting.txt",
        "/srv/secret",
    ]);
    k.kiln(&["copy", &ctr, "tree", "/opt/tree"]);
    k.kiln(&["add", &ctr, "archive.tar.gz", "/opt/unpacked/"]);
    k.kiln(&["copy", &ctr, "archive.tar.gz", "/opt/kept/"]);
    // A URL is downloaded (named after its last segment, mode 0600) and never unpacked.
    let port = crate::build_copy::serve_file(b"downloaded tool\n");
    let url = format!("http://127.0.0.1:{port}/files/tool.txt");
    k.kiln(&["add", &ctr, &url, "/opt/url/"]);
    let stat = k.kiln(&[
        "run",
        &ctr,
        "--",
        "stat",
        "-c",
        "%a %s",
        "/opt/url/tool.txt",
    ]);
    assert_eq!(stat.trim(), "600 16");
    // --checksum: the right digest passes, a wrong one is refused and adds nothing.
    let wrong = format!("sha256:{}", "0".repeat(64));
    let right = format!(
        "sha256:{}",
        wharf_oci::digest::sha256(b"downloaded tool\n").digest()
    );
    k.kiln(&["add", "--checksum", &right, &ctr, &url, "/opt/sum/"]);
    let bad = k.run(
        "kiln",
        &["add", "--checksum", &wrong, &ctr, &url, "/opt/bad/"],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("checksum mismatch"),
        "{}",
        text(&bad.stderr)
    );
    let listed = k.kiln(&["run", &ctr, "--", "ls", "/opt"]);
    assert!(
        listed.contains("sum") && !listed.contains("bad"),
        "{listed}"
    );
    // Relative destinations start at the working directory the config sets.
    k.kiln(&["config", "--workingdir", "/srv", &ctr]);
    k.kiln(&["copy", &ctr, "greeting.txt", "rel.txt"]);
    // Copy from another container.
    let other = k
        .kiln(&["from", "--name", "other", "busybox"])
        .trim()
        .to_owned();
    k.kiln(&["run", &other, "sh", "-c", "echo other > /other.txt"]);
    k.kiln(&[
        "copy",
        "--from",
        &other,
        &ctr,
        "/other.txt",
        "/from-other.txt",
    ]);
    k.kiln(&["rm", &other]);
    // And from an image of the store.
    k.kiln(&[
        "copy",
        "--from",
        "busybox",
        &ctr,
        "/etc/group",
        "/group-copy",
    ]);

    k.kiln(&[
        "config",
        "--cmd",
        r#"["/bin/cat","/hello"]"#,
        "--env",
        "GREETING=hi",
        "--env",
        "BOTH=${GREETING}-there",
        "--label",
        "org.example.title=kiln ctr",
        "--label",
        "gone=1",
        "--port",
        "8080",
        "--volume",
        "/data",
        "--user",
        "0:0",
        "--author",
        "wharf tests",
        "--created-by",
        "kiln test script",
        "--history-comment",
        "made by the e2e test",
        "--stop-signal",
        "SIGINT",
        "--annotation",
        "org.example.note=yes",
        &ctr,
    ]);
    k.kiln(&["config", "--label", "gone-", &ctr]);
    let ins: serde_json::Value = serde_json::from_str(&k.kiln(&["inspect", &ctr])).unwrap();
    assert_eq!(ins["Container"], ctr.as_str());
    assert_eq!(
        ins["OCIv1"]["config"]["Cmd"],
        serde_json::json!(["/bin/cat", "/hello"])
    );
    assert_eq!(ins["ImageCreatedBy"], "kiln test script");
    let iid = k.cwd.join("iid");
    let id = k
        .kiln(&[
            "commit",
            "-q",
            "--iidfile",
            iid.to_str().unwrap(),
            &ctr,
            "app",
        ])
        .trim()
        .to_owned();
    assert_eq!(id.len(), 64, "{id}");
    assert_eq!(
        std::fs::read_to_string(&iid).unwrap(),
        format!("sha256:{id}")
    );
    assert!(k.kiln(&["images"]).contains("localhost/app"));
    // The store's maintenance works with working containers in it.
    k.kiln(&["system", "prune"]);
    k.kiln(&["system", "check"]);
    (ctr, id)
}

fn check_image(root: &Path, tmp: &Path) {
    let rootfs = unpack(root, "localhost/app:latest", tmp);
    let read =
        |p: &str| std::fs::read_to_string(rootfs.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    assert_eq!(read("hello"), "hi\n");
    assert_eq!(read("work/out"), "bar\n");
    assert!(
        !rootfs.join("bin/vi").exists(),
        "a deletion reaches the image"
    );
    assert!(rootfs.join("bin/sh").exists());
    assert_eq!(read("srv/greeting.txt"), "hello from the host\n");
    assert_eq!(owner_mode(&rootfs.join("srv/greeting.txt")), (0, 0, 0o644));
    assert_eq!(
        owner_mode(&rootfs.join("srv/secret")),
        (65534, 65534, 0o600)
    );
    assert_eq!(read("srv/rel.txt"), "hello from the host\n");
    assert_eq!(read("opt/tree/sub/n.txt"), "nested\n");
    assert_eq!(read("opt/unpacked/a.txt"), "from the archive\n");
    assert!(
        rootfs.join("opt/kept/archive.tar.gz").is_file(),
        "copy does not unpack"
    );
    assert_eq!(read("from-other.txt"), "other\n");
    assert!(read("group-copy").contains("nogroup"));

    let img: serde_json::Value =
        serde_json::from_str(&crate::ok("kiln", root, &["inspect", "app"])).unwrap();
    let c = &img["Config"]["config"];
    assert_eq!(c["Cmd"], serde_json::json!(["/bin/cat", "/hello"]));
    assert_eq!(c["WorkingDir"], "/srv");
    assert_eq!(c["User"], "0:0");
    assert_eq!(c["StopSignal"], "SIGINT");
    assert_eq!(c["Labels"]["org.example.title"], "kiln ctr");
    assert!(c["Labels"].get("gone").is_none(), "{c}");
    assert!(c["ExposedPorts"]["8080"].is_object(), "{c}");
    assert!(c["Volumes"]["/data"].is_object());
    let env: Vec<&str> = c["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"GREETING=hi"), "{env:?}");
    assert!(env.contains(&"BOTH=hi-there"), "{env:?}");
    assert!(
        env.iter().any(|e| e.starts_with("PATH=")),
        "the base's Env is kept: {env:?}"
    );
    assert_eq!(img["Config"]["author"], "wharf tests");
    // History: the base's entry, then one for the commit, as buildah writes it.
    let history = img["Config"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[1]["created_by"], "kiln test script");
    assert_eq!(history[1]["comment"], "made by the e2e test");
    assert!(history[1].get("empty_layer").is_none_or(|v| v == false));
    assert_eq!(
        img["Config"]["rootfs"]["diff_ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let annotations = &img["Manifest"]["annotations"];
    assert_eq!(annotations["org.example.note"], "yes", "{img}");
    assert_eq!(
        annotations["org.opencontainers.image.base.name"],
        "localhost/busybox:latest"
    );
}

/// Commit twice, squash, `--rm`, and `berth run` of the result.
fn check_recommit(k: &Runner, ctr: &str, first: &str) {
    // Nothing changed: the same layer, so the same diff IDs (the created time differs).
    let again = k.kiln(&["commit", "-q", ctr, "app2"]).trim().to_owned();
    assert_ne!(again, first);
    let ids = |name: &str| {
        let img: serde_json::Value = serde_json::from_str(&k.kiln(&["inspect", name])).unwrap();
        img["Config"]["rootfs"]["diff_ids"].clone()
    };
    assert_eq!(ids("app"), ids("app2"));
    // --timestamp makes the commit reproducible: twice the same image ID.
    let ts1 = k.kiln(&["commit", "-q", "--timestamp", "1700000000", ctr, "ts1"]);
    let ts2 = k.kiln(&["commit", "-q", "--timestamp", "1700000000", ctr, "ts2"]);
    assert_eq!(ts1, ts2);
    let img: serde_json::Value = serde_json::from_str(&k.kiln(&["inspect", "ts1"])).unwrap();
    assert_eq!(img["Config"]["created"], "2023-11-14T22:13:20Z");
    k.kiln(&["run", ctr, "sh", "-c", "echo more > /more"]);
    k.kiln(&[
        "commit", "-q", "--rm", "--squash", "--format", "docker", ctr, "flat",
    ]);
    assert!(
        k.kiln(&["containers", "-q"]).trim().is_empty(),
        "--rm removed it"
    );
    let img: serde_json::Value = serde_json::from_str(&k.kiln(&["inspect", "flat"])).unwrap();
    assert_eq!(
        img["Config"]["rootfs"]["diff_ids"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        img["Manifest"]["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    let out = k.run(
        "berth",
        &["run", "--rm", "flat", "sh", "-c", "cat /hello /more"],
    );
    assert!(out.status.success(), "berth run: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hi\nmore\n");
    let out = k.run("berth", &["run", "--rm", "app"]);
    assert!(out.status.success(), "berth run: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hi\n", "the committed Cmd runs");
}

#[test]
fn working_container_script_as_root() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    make_inputs(tmp.path());
    let k = Runner {
        root: root.clone(),
        cwd: tmp.path().to_owned(),
        user: None,
    };
    let (ctr, id) = script(&k);
    check_image(&root, tmp.path());
    // As root, kiln mount needs no unshare session; the mount is visible here.
    let merged = k.kiln(&["mount", &ctr]).trim().to_owned();
    assert_eq!(
        std::fs::read_to_string(Path::new(&merged).join("hello")).unwrap(),
        "hi\n"
    );
    assert!(k.kiln(&["mount"]).contains(&ctr));
    k.kiln(&["umount", &ctr]);
    assert!(!Path::new(&merged).join("hello").exists());
    // berth's containers share the name space and show under `containers -a`, not builders.
    k.ok(
        "berth",
        &["run", "-d", "--name", "sleeper", "busybox", "sleep", "60"],
    );
    let taken = k.run("kiln", &["from", "--name", "sleeper", "busybox"]);
    assert!(
        text(&taken.stderr).contains("already in use"),
        "{}",
        text(&taken.stderr)
    );
    let all: serde_json::Value =
        serde_json::from_str(&k.kiln(&["containers", "-a", "--json"])).unwrap();
    let sleeper = all
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["containername"] == "sleeper")
        .unwrap();
    assert_eq!(sleeper["builder"], false);
    assert!(!k.kiln(&["containers"]).contains("sleeper"));
    k.ok("berth", &["rm", "-f", "sleeper"]);
    check_recommit(&k, &ctr, &id);
}

#[test]
fn working_container_script_rootless() {
    let Some(user) = wharf_testkit::user::test_user() else {
        eprintln!("SKIP: no unprivileged test user (needs root to create it)");
        return;
    };
    if !wharf_testkit::busybox::available() || !have("umoci") {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("kiln-ctr-rootless")
        .tempdir_in("/tmp")
        .unwrap();
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    make_inputs(tmp.path());
    let root = tmp.path().join("store");
    user.chown(tmp.path());
    let k = Runner {
        root: root.clone(),
        cwd: tmp.path().to_owned(),
        user: Some(user),
    };
    k.ok(
        "berth",
        &[
            "import",
            "--change",
            "CMD [\"sh\"]",
            tar.to_str().unwrap(),
            "busybox",
        ],
    );
    let (ctr, id) = script(&k);
    check_image(&root, tmp.path());
    // Outside `kiln unshare` a rootless mount would vanish with the process: buildah's error.
    let out = k.run("kiln", &["mount", &ctr]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cannot mount using driver overlay in rootless mode. You need to run it in a `kiln unshare` session"),
        "{}",
        text(&out.stderr)
    );
    let kiln = bin("kiln");
    let inner = format!(
        "set -e; p=$({k} mount {ctr}); cat \"$p/hello\"; {k} mount | grep -q {ctr}; {k} umount {ctr} >/dev/null; test ! -e \"$p/hello\"",
        k = kiln.display()
    );
    let out = k.run("kiln", &["unshare", "sh", "-c", &inner]);
    assert!(out.status.success(), "kiln unshare: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hi\n");
    check_recommit(&k, &ctr, &id);
}

#[test]
fn manifest_list_pushed_and_read_by_skopeo() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("skopeo") {
        return;
    }
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let k = Runner {
        root: root.clone(),
        cwd: tmp.path().to_owned(),
        user: None,
    };
    let ctr = k.kiln(&["from", "scratch"]).trim().to_owned();
    assert_eq!(ctr, "working-container");
    std::fs::write(tmp.path().join("f"), "one\n").unwrap();
    k.kiln(&["copy", &ctr, "f", "/f"]);
    k.kiln(&["commit", "-q", &ctr, "one"]);
    k.kiln(&["config", "--label", "n=2", &ctr]);
    k.kiln(&["commit", "-q", "--rm", &ctr, "two"]);

    let list_id = k
        .kiln(&["manifest", "create", "mylist", "one"])
        .trim()
        .to_owned();
    assert_eq!(list_id.len(), 64);
    let added = k.kiln(&[
        "manifest",
        "add",
        "--arch",
        "arm64",
        "--variant",
        "v8",
        "--annotation",
        "k=v",
        "mylist",
        "two",
    ]);
    let (new_list, instance) = added.trim().split_once(": ").unwrap();
    assert_ne!(new_list, list_id);
    assert!(instance.starts_with("sha256:"), "{added}");
    let index: serde_json::Value =
        serde_json::from_str(&k.kiln(&["manifest", "inspect", "mylist"])).unwrap();
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{index}");
    assert_eq!(entries[1]["digest"], instance);
    assert_eq!(entries[1]["platform"]["architecture"], "arm64");
    assert_eq!(entries[1]["platform"]["variant"], "v8");
    assert_eq!(entries[1]["annotations"]["k"], "v");
    assert_eq!(entries[0]["platform"]["os"], "linux");
    // The replaced index does not linger as an unnamed image.
    let layout: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("oci/index.json")).unwrap()).unwrap();
    let entries: Vec<&str> = layout["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["digest"].as_str().unwrap())
        .collect();
    assert!(
        entries.contains(&format!("sha256:{new_list}").as_str()),
        "{entries:?}"
    );
    assert!(
        !entries.contains(&format!("sha256:{list_id}").as_str()),
        "{entries:?}"
    );

    let dest = format!("docker://{}/e2e/list:v1", reg.addr());
    k.kiln(&["manifest", "push", "--tls-verify=false", "mylist", &dest]);
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", &dest])
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo: {}", text(&out.stderr));
    let pushed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(pushed["manifests"], index["manifests"], "{pushed}");
    // The images came along: skopeo reads the arm64 one by digest.
    let by_digest = format!("docker://{}/e2e/list@{instance}", reg.addr());
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", &by_digest])
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo: {}", text(&out.stderr));

    // `kiln from` pulls what the store lacks: the host's image of the pushed list.
    let fresh = tmp.path().join("fresh");
    let pulled = Runner {
        root: fresh.clone(),
        cwd: tmp.path().to_owned(),
        user: None,
    };
    let remote = format!("{}/e2e/list:v1", reg.addr());
    let never = pulled.run("kiln", &["from", "--pull=never", &remote]);
    assert!(!never.status.success());
    let name = pulled.kiln(&["from", "-q", "--tls-verify=false", &remote]);
    assert_eq!(name.trim(), "list-working-container");
    let json: serde_json::Value =
        serde_json::from_str(&pulled.kiln(&["containers", "--json"])).unwrap();
    assert_eq!(json[0]["imagename"], remote.as_str());

    let rm = k.kiln(&["manifest", "rm", "mylist"]);
    assert!(
        rm.starts_with("untagged: localhost/mylist:latest\n"),
        "{rm}"
    );
    let gone = k.run("kiln", &["manifest", "inspect", "mylist"]);
    assert!(!gone.status.success());
    // The images stay.
    k.kiln(&["inspect", "two"]);
    let not_list = k.run("kiln", &["manifest", "inspect", "two"]);
    assert!(
        text(&not_list.stderr).contains("is not a manifest list"),
        "{}",
        text(&not_list.stderr)
    );
}

#[test]
fn commit_after_the_base_image_was_removed_and_collected() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let k = Runner {
        root,
        cwd: tmp.path().to_owned(),
        user: None,
    };
    let ctr = k.kiln(&["from", "busybox"]).trim().to_owned();
    // The working container uses the image: rmi refuses (as podman and buildah do) ...
    let out = k.run("kiln", &["rmi", "busybox"]);
    assert!(!out.status.success(), "rmi of an image in use succeeded");
    let err = text(&out.stderr);
    assert!(err.contains("in use by container"), "{err}");
    // ... unless forced.
    k.kiln(&["rmi", "--force", "busybox"]);
    k.kiln(&["system", "prune"]);
    // gc kept the unpacked base layer for the container: it still runs and commits.
    k.kiln(&["run", &ctr, "--", "sh", "-c", "echo still > /here"]);
    k.kiln(&["commit", "-q", "--rm", &ctr, "again"]);
    k.kiln(&["system", "check"]);
    let out = k.run(
        "berth",
        &["run", "--rm", "again", "sh", "-c", "cat /here; ls /bin/sh"],
    );
    assert!(out.status.success(), "berth run: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "still\n/bin/sh\n");
}

/// `kiln run` is sandboxed with the options of a build's RUN (one `wharf_build::RunOptions`):
/// `--cap-add`/`--cap-drop`, `--device` and `--no-hosts` reach the command as buildah run's do.
#[test]
fn kiln_run_takes_the_sandbox_flags_of_run() {
    let (tmp, root) = busybox_store().expect("busybox-static is installed");
    let k = Runner {
        root,
        cwd: tmp.path().to_owned(),
        user: None,
    };
    let ctr = k.kiln(&["from", "localhost/busybox"]).trim().to_owned();
    // The image has no /etc/hosts (and no run has left the generated one's mount point yet):
    // with --no-hosts none is mounted.
    let out = k.run(
        "kiln",
        &["run", "--no-hosts", &ctr, "--", "test", "-e", "/etc/hosts"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    k.kiln(&["run", &ctr, "--", "test", "-f", "/etc/hosts"]);
    let cap_eff = |flags: &[&str]| {
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        args.extend([ctr.as_str(), "--", "grep", "CapEff", "/proc/self/status"]);
        k.kiln(&args).split_whitespace().nth(1).unwrap().to_owned()
    };
    assert_ne!(cap_eff(&[]), "0000000000000000", "podman's default set");
    assert_eq!(cap_eff(&["--cap-drop", "all"]), "0000000000000000");
    // CAP_NET_RAW is bit 13.
    assert_eq!(
        cap_eff(&["--cap-drop", "all", "--cap-add", "net_raw"]),
        "0000000000002000"
    );
    k.kiln(&[
        "run",
        "--device",
        "/dev/null:/dev/mynull",
        &ctr,
        "--",
        "test",
        "-c",
        "/dev/mynull",
    ]);
    let bad = k.run(
        "kiln",
        &["run", "--cap-add", "CAP_NOPE", &ctr, "--", "true"],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("--cap-add"),
        "{}",
        text(&bad.stderr)
    );
    k.kiln(&["rm", &ctr]);
}

/// Issue 12: a working container of the copy driver (`STORAGE_DRIVER=copy`, what `kiln from`
/// picks where no overlay can be mounted) commits the layer the overlay one does, rootless:
/// a file made, one deleted, a directory deleted and made again (opaque on overlay), a copied
/// file; `kiln mount` prints its plain root without `kiln unshare`.
#[test]
fn copy_driver_container_commits_the_overlay_layer_rootless() {
    let Some(user) = wharf_testkit::user::test_user() else {
        eprintln!("SKIP: no unprivileged test user (needs root to create it)");
        return;
    };
    if !wharf_testkit::busybox::available() {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("kiln-ctr-copy")
        .tempdir_in("/tmp")
        .unwrap();
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    make_inputs(tmp.path());
    user.chown(tmp.path());
    let k = Runner {
        root: tmp.path().join("store"),
        cwd: tmp.path().to_owned(),
        user: Some(user),
    };
    k.ok(
        "berth",
        &[
            "import",
            "--change",
            "CMD [\"sh\"]",
            tar.to_str().unwrap(),
            "busybox",
        ],
    );
    let mut ids = Vec::new();
    for driver in ["overlay", "copy"] {
        let out = k
            .cmd("kiln")
            .args(["from", "--name", driver, "busybox"])
            .env("STORAGE_DRIVER", driver)
            .output()
            .unwrap();
        assert!(out.status.success(), "{driver}: {}", text(&out.stderr));
        k.kiln(&[
            "run",
            "--network",
            "none",
            driver,
            "--",
            "sh",
            "-c",
            "echo made > /made && rm /bin/vi && rm -rf /root && mkdir /root && echo r > /root/r",
        ]);
        k.kiln(&["copy", driver, "greeting.txt", "/srv/"]);
        let inspect = k.kiln(&["inspect", driver]);
        assert!(
            inspect.contains(&format!("\"Driver\": \"{driver}\"")),
            "{inspect}"
        );
        ids.push(
            k.kiln(&["commit", "-q", "--timestamp", "0", driver, driver])
                .trim()
                .to_owned(),
        );
    }
    assert_eq!(
        ids[0], ids[1],
        "the copy driver's commit differs from overlay's"
    );
    let mounted = k.kiln(&["mount", "copy"]);
    let made = Path::new(mounted.trim()).join("made");
    assert_eq!(std::fs::read_to_string(&made).unwrap(), "made\n");
    k.kiln(&["umount", "copy"]);
    k.kiln(&["rm", "copy", "overlay"]);
}
