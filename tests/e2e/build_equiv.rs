//! The equivalence harness: every case in `testdata/equiv/<case>/` (a Dockerfile and its
//! context) is built FROM the same busybox base with `kiln build` and with `buildah bud`; both
//! results are exported to OCI layouts, unpacked with umoci, and their merged file trees (path,
//! type, mode, owner, size, content hash, link target) and runtime configs (Env, Cmd,
//! Entrypoint, WorkingDir, User, Labels, ExposedPorts, Volumes, StopSignal) must be equal.
//!
//! Cases buildah 1.28 cannot build (heredocs) carry hand-written expectations instead:
//! `expected.tree` (the entries that differ from the base tree, `-/path` for removed ones) and
//! `expected-config.json`. Runs as root: rootless buildah is slow (vfs) and fragile here.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::Instant;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{bin, have, ok};

/// Differences kiln keeps on purpose or cannot fix yet: (case, item, reason). An item is a path
/// in the merged tree, `config:<Field>`, or `build` (kiln refuses the case). A listed
/// difference that no longer shows fails the test, so this table stays true.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "run-mount-bind",
        "/mnt",
        "the parent directory buildah 1.28 made for a RUN --mount target stays in its layer; \
         BuildKit's MountStubsCleaner removes the stubs it created, as kiln does",
    ),
    (
        "run-mount-tmpfs-cache",
        "/var",
        "mount target parents left by buildah 1.28: as run-mount-bind's /mnt",
    ),
    (
        "run-mount-tmpfs-cache",
        "/var/cache",
        "mount target parents left by buildah 1.28: as run-mount-bind's /mnt",
    ),
    (
        "expose-volume",
        "/cache",
        "VOLUME in JSON form: buildah 1.28 creates the directories in the layer; BuildKit's \
         dispatchVolume only records them in the config, as kiln does",
    ),
    ("expose-volume", "/logs", "VOLUME in JSON form: as /cache"),
    (
        "config-forms",
        "config:ExposedPorts",
        "buildah keeps `443/TCP` as written; Docker lowercases the protocol \
         (go-connections nat.ParsePortSpec), as kiln does",
    ),
    (
        "shell-forms",
        "config:Cmd",
        "CMD in shell form after SHELL: buildah wraps it in /bin/sh -c; Docker documents that \
         SHELL applies to the shell forms of RUN, CMD and ENTRYPOINT, as kiln does",
    ),
    (
        "shell-forms",
        "config:Entrypoint",
        "ENTRYPOINT in shell form after SHELL: same as CMD (buildah ignores SHELL there)",
    ),
    (
        "copy-existing",
        "/exist/filelink",
        "COPY onto an existing symlink: buildah replaces the link with the file; BuildKit \
         resolves the destination with fs.RootPath and writes through the link, keeping it \
         (moby/buildkit#1260), as kiln does",
    ),
    (
        "flag-volume-ro",
        "/lic",
        "the mount point buildah 1.28 made for a -v target stays in its layer; kiln removes the \
         mount points it made for a RUN (as BuildKit's MountStubsCleaner does for RUN --mount)",
    ),
    (
        "env-arg",
        "config:Env",
        "ENV of an existing key: buildah moves it to the end; BuildKit's addEnv replaces it in \
         place, as kiln does (same values, different order)",
    ),
];

/// Empty mount points a RUN step leaves behind (buildah's, and kiln's sandbox's, with
/// different modes): the runtime bind-mounts these and they are no part of what the Dockerfile
/// made. Dropped from a tree only when they are empty and the base image lacks them.
const MOUNT_STUBS: &[&str] = &[
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/run/.containerenv",
    "/run",
    "/proc",
    "/sys",
    "/dev",
];

/// The runtime config fields compared.
const CONFIG_FIELDS: &[&str] = &[
    "Env",
    "Cmd",
    "Entrypoint",
    "WorkingDir",
    "User",
    "Labels",
    "ExposedPorts",
    "Volumes",
    "StopSignal",
];

/// The label buildah adds to everything it builds.
const BUILDAH_LABEL: &str = "io.buildah.version";

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/equiv")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// One entry of a merged file tree.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry(String);

type Tree = BTreeMap<String, Entry>;

fn sha256_file(path: &Path) -> String {
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex::encode(h.finalize())
}

/// Describes one file: `TYPE MODE UID:GID` plus size and content hash (files), the target
/// (symlinks) or device numbers. Directory sizes depend on the file system: left out.
fn describe(path: &Path) -> Entry {
    let m = std::fs::symlink_metadata(path).unwrap();
    let ft = m.file_type();
    let head = |t: char| format!("{t} {:04o} {}:{}", m.mode() & 0o7777, m.uid(), m.gid());
    Entry(if ft.is_symlink() {
        let target = std::fs::read_link(path).unwrap();
        format!("{} -> {}", head('l'), target.display())
    } else if ft.is_dir() {
        head('d')
    } else if ft.is_file() {
        format!("{} {} sha256:{}", head('f'), m.len(), sha256_file(path))
    } else if ft.is_fifo() {
        head('p')
    } else if ft.is_char_device() || ft.is_block_device() {
        let t = if ft.is_char_device() { 'c' } else { 'b' };
        format!("{} {}", head(t), m.rdev())
    } else {
        head('s')
    })
}

/// Walks a root file system. A file with several links names the first path (in walk order)
/// of its link group, `links:/path`, so a split link group is a difference.
fn walk(rootfs: &Path) -> Tree {
    type Groups = BTreeMap<(u64, u64), String>;
    fn go(dir: &Path, rel: &str, tree: &mut Tree, groups: &mut Groups) {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        for name in names {
            let path = dir.join(&name);
            let rel = format!("{rel}/{}", name.to_string_lossy());
            let mut entry = describe(&path);
            let is_dir = entry.0.starts_with('d');
            let m = std::fs::symlink_metadata(&path).unwrap();
            if m.is_file() && m.nlink() > 1 {
                let first = groups
                    .entry((m.dev(), m.ino()))
                    .or_insert_with(|| rel.clone());
                write!(entry.0, " links:{first}").unwrap();
            }
            tree.insert(rel.clone(), entry);
            if is_dir {
                go(&path, &rel, tree, groups);
            }
        }
    }
    let mut tree = Tree::new();
    tree.insert("/".to_owned(), describe(rootfs));
    go(rootfs, "", &mut tree, &mut Groups::new());
    tree
}

/// The stubs BuildKit removes after a RUN (its executor's `MountStubsCleaner`): kiln must
/// leave none of them in a layer; only the other side's are dropped.
const ETC_STUBS: &[&str] = &["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"];

/// Drops the empty mount stubs the base lacks (but for `keep`).
fn drop_mount_stubs(a: &mut Tree, base: &Tree, keep: &[&str]) {
    for stub in MOUNT_STUBS.iter().filter(|s| !keep.contains(s)) {
        let Some(e) = a.get(*stub) else { continue };
        if base.contains_key(*stub) {
            continue;
        }
        let empty_file = e.0.starts_with('f') && e.0.split(' ').nth(3) == Some("0");
        let prefix = format!("{stub}/");
        let empty_dir = e.0.starts_with('d') && !a.keys().any(|k| k.starts_with(&prefix));
        if empty_file || empty_dir {
            a.remove(*stub);
        }
    }
}

/// The runtime config fields of the image tagged `tag` in the OCI layout `layout`.
fn oci_config(layout: &Path, tag: &str) -> BTreeMap<String, Value> {
    let read = |p: PathBuf| -> Value {
        serde_json::from_slice(
            &std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        )
        .unwrap()
    };
    let blob = |digest: &str| {
        let hex = digest.strip_prefix("sha256:").unwrap();
        read(layout.join("blobs/sha256").join(hex))
    };
    let index = read(layout.join("index.json"));
    let desc = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("{tag} not in {}", layout.display()));
    let manifest = blob(desc["digest"].as_str().unwrap());
    let config = blob(manifest["config"]["digest"].as_str().unwrap());
    let mut fields = runtime_fields(&config["config"]);
    fields.insert(PLATFORM.to_owned(), Value::String(platform_of(&config)));
    fields
}

/// The pseudo config field `os/architecture[/variant]` of an image config. Compared only
/// where both sides have it: a hand-written `expected-config.json` names it when it matters.
const PLATFORM: &str = "Platform";

fn platform_of(config: &Value) -> String {
    let mut p = format!(
        "{}/{}",
        config["os"].as_str().unwrap_or_default(),
        config["architecture"].as_str().unwrap_or_default()
    );
    if let Some(v) = config["variant"].as_str().filter(|v| !v.is_empty()) {
        p = format!("{p}/{v}");
    }
    p
}

/// Picks the compared fields; an empty map means the same as none to a runtime.
fn runtime_fields(c: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for field in CONFIG_FIELDS {
        let mut v = c.get(*field).cloned().unwrap_or(Value::Null);
        if *field == "Labels"
            && let Some(m) = v.as_object_mut()
        {
            m.remove(BUILDAH_LABEL);
        }
        let empty = match &v {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            Value::String(s) => s.is_empty(),
            _ => false,
        };
        if !empty {
            out.insert((*field).to_owned(), v);
        }
    }
    out
}

/// Both sides of a comparison.
struct Side {
    tree: Tree,
    config: BTreeMap<String, Value>,
}

/// Differences as `(item, readable line)`.
fn compare(base: &Tree, left: &str, a: &Side, right: &str, b: &Side) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut at = a.tree.clone();
    let mut bt = b.tree.clone();
    drop_mount_stubs(&mut at, base, ETC_STUBS);
    drop_mount_stubs(&mut bt, base, &[]);
    let paths: std::collections::BTreeSet<&String> = at.keys().chain(bt.keys()).collect();
    for p in paths {
        match (at.get(p), bt.get(p)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x), Some(y)) => out.push((
                p.clone(),
                format!("  {p}\n    {left:>8}: {}\n    {right:>8}: {}", x.0, y.0),
            )),
            (Some(x), None) => out.push((p.clone(), format!("  {p}\n    only {left}: {}", x.0))),
            (None, Some(y)) => out.push((p.clone(), format!("  {p}\n    only {right}: {}", y.0))),
            (None, None) => {}
        }
    }
    for field in CONFIG_FIELDS.iter().chain(&[PLATFORM]) {
        let (x, y) = (a.config.get(*field), b.config.get(*field));
        if *field == PLATFORM && (x.is_none() || y.is_none()) {
            continue;
        }
        if x != y {
            let show = |v: Option<&Value>| v.map_or_else(|| "(unset)".to_owned(), Value::to_string);
            out.push((
                format!("config:{field}"),
                format!(
                    "  config {field}\n    {left:>8}: {}\n    {right:>8}: {}",
                    show(x),
                    show(y)
                ),
            ));
        }
    }
    out
}

/// buildah with a private store, configuration and signature policy: nothing global is read.
struct Buildah {
    dir: PathBuf,
    driver: &'static str,
}

impl Buildah {
    fn new(dir: &Path, driver: &'static str) -> Self {
        let dir = dir.join(format!("buildah-{driver}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("registries.conf"),
            "unqualified-search-registries = []\nshort-name-mode = \"permissive\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("policy.json"),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("storage.conf"),
            format!(
                "[storage]\ndriver = \"{driver}\"\ngraphroot = \"{0}/root\"\nrunroot = \"{0}/runroot\"\n",
                dir.display()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("containers.conf"),
            "[engine]\nruntime = \"runc\"\n",
        )
        .unwrap();
        std::fs::write(dir.join("auth.json"), r#"{"auths":{}}"#).unwrap();
        Self { dir, driver }
    }

    fn command(&self, sub: &str) -> Command {
        let mut cmd = Command::new("buildah");
        cmd.env(
            "CONTAINERS_REGISTRIES_CONF",
            self.dir.join("registries.conf"),
        )
        .env("CONTAINERS_STORAGE_CONF", self.dir.join("storage.conf"))
        .env("CONTAINERS_CONF", self.dir.join("containers.conf"))
        .env("REGISTRY_AUTH_FILE", self.dir.join("auth.json"))
        .env_remove("BUILDAH_ISOLATION")
        .arg("--root")
        .arg(self.dir.join("root"))
        .arg("--runroot")
        .arg(self.dir.join("runroot"))
        .arg("--storage-driver")
        .arg(self.driver)
        .arg(sub);
        if matches!(sub, "pull" | "push" | "bud") {
            cmd.arg("--signature-policy")
                .arg(self.dir.join("policy.json"));
        }
        cmd
    }

    /// Loads the base image from an OCI layout and names it `localhost/busybox:latest`.
    fn load_base(&self, layout: &Path) -> Result<(), String> {
        let out = self
            .command("pull")
            .arg("--quiet")
            .arg(format!("oci:{}:busybox", layout.display()))
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(text(&out.stderr));
        }
        let id = text(&out.stdout).trim().to_owned();
        let out = self
            .command("tag")
            .args([id.as_str(), "localhost/busybox:latest"])
            .output()
            .unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(text(&out.stderr))
        }
    }
}

fn check(out: &Output, what: &str) -> Result<(), String> {
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed with {}:\n{}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        ))
    }
}

fn umoci_unpack(layout: &Path, tag: &str, bundle: &Path) -> Result<Tree, String> {
    let out = Command::new("umoci")
        .arg("unpack")
        .arg("--image")
        .arg(format!("{}:{tag}", layout.display()))
        .arg(bundle)
        .output()
        .unwrap();
    check(&out, "umoci unpack")?;
    Ok(walk(&bundle.join("rootfs")))
}

/// A scratch directory under /tmp, removed on drop. Its name is lowercase: buildah names an
/// image pulled from an `oci:` layout after the layout's path, and image names are lowercase.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = PathBuf::from(format!("/tmp/kiln-equiv-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Shared state of one run.
struct Harness {
    tmp: Scratch,
    base_tar: PathBuf,
    base_tree: Tree,
    buildah: Buildah,
}

impl Harness {
    fn kiln(&self, name: &str, ctx: &Path, extra: &[String]) -> Result<Side, String> {
        let work = self.tmp.path().join(name).join("kiln");
        let root = work.join("store");
        std::fs::create_dir_all(&work).unwrap();
        let kiln = |args: &[&str]| {
            Command::new(bin("kiln"))
                .arg("--root")
                .arg(&root)
                .args(args)
                .env_remove("WHARF_ROOT")
                .output()
                .unwrap()
        };
        let import = Command::new(bin("berth"))
            .arg("--root")
            .arg(&root)
            .args(["import", "--change", "CMD [\"sh\"]"])
            .arg(&self.base_tar)
            .arg("busybox")
            .output()
            .unwrap();
        check(&import, "berth import")?;
        let mut args = vec!["build", "-t", name];
        args.extend(extra.iter().map(String::as_str));
        args.push(ctx.to_str().unwrap());
        check(&kiln(&args), "kiln build")?;
        let layout = work.join("oci");
        let dest = format!("oci:{}:{name}", layout.display());
        // No --format: an OCI layout gets OCI manifests whatever the build's --format
        // (converted as skopeo does; umoci reads only OCI manifests).
        check(&kiln(&["push", "-q", name, &dest]), "kiln push")?;
        Ok(Side {
            tree: umoci_unpack(&layout, name, &work.join("bundle"))?,
            config: oci_config(&layout, name),
        })
    }

    fn buildah(&self, name: &str, ctx: &Path, extra: &[String]) -> Result<Side, String> {
        let work = self.tmp.path().join(name).join("buildah");
        std::fs::create_dir_all(&work).unwrap();
        let tag = format!("localhost/equiv-{name}:latest");
        let out = self
            .buildah
            .command("bud")
            .args(["--isolation", "chroot", "--layers=false", "--pull-never"])
            .args(["-t", &tag])
            .args(extra)
            .arg(ctx)
            .output()
            .unwrap();
        check(&out, "buildah bud")?;
        let layout = work.join("oci");
        let out = self
            .buildah
            .command("push")
            .args(["--quiet", "--format", "oci"])
            .arg(&tag)
            .arg(format!("oci:{}:{name}", layout.display()))
            .output()
            .unwrap();
        check(&out, "buildah push")?;
        let side = Side {
            tree: umoci_unpack(&layout, name, &work.join("bundle"))?,
            config: oci_config(&layout, name),
        };
        // No `rmi` here: cases build two at a time in one buildah store, and removing an image
        // while another build commits made buildah fail with "layer not known" (CI saw it).
        // The store is a scratch directory removed with the test.
        Ok(side)
    }

    /// The hand-written expectation of a case: the base tree with `expected.tree` applied.
    fn expected(&self, case: &Path) -> Side {
        let mut tree = self.base_tree.clone();
        let spec = std::fs::read_to_string(case.join("expected.tree")).unwrap();
        for line in spec.lines() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(path) = line.strip_prefix('-') {
                assert!(tree.remove(path).is_some(), "{line}: not in the base tree");
                continue;
            }
            let (path, entry) = line.split_once(' ').unwrap();
            tree.insert(path.to_owned(), Entry(entry.trim_start().to_owned()));
        }
        let config: Value =
            serde_json::from_slice(&std::fs::read(case.join("expected-config.json")).unwrap())
                .unwrap();
        let mut fields = runtime_fields(&config);
        if let Some(p) = config.get(PLATFORM) {
            fields.insert(PLATFORM.to_owned(), p.clone());
        }
        Side {
            tree,
            config: fields,
        }
    }

    /// Runs one case; returns its report and whether it passed.
    fn run_case(&self, case: &Path) -> (String, bool) {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let started = Instant::now();
        // Extra build flags for both tools, one per line.
        let extra: Vec<String> = std::fs::read_to_string(case.join("args"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        let hand_written = case.join("expected.tree").exists();
        let (kiln, other, right) = if hand_written {
            (
                self.kiln(&name, case, &extra),
                Ok(self.expected(case)),
                "expected",
            )
        } else {
            let (kiln, buildah) = std::thread::scope(|s| {
                let k = s.spawn(|| self.kiln(&name, case, &extra));
                let b = self.buildah(&name, case, &extra);
                (k.join().unwrap(), b)
            });
            (kiln, buildah, "buildah")
        };
        let known: Vec<&(&str, &str, &str)> = KNOWN_DIFFERENCES
            .iter()
            .filter(|(c, _, _)| *c == name)
            .collect();
        let (kiln, other) = match (kiln, other) {
            (Ok(k), Ok(o)) => (k, o),
            (Err(e), Ok(_)) if known.iter().any(|(_, i, _)| *i == "build") => {
                let why = known.iter().find(|(_, i, _)| *i == "build").unwrap().2;
                let first = e.lines().last().unwrap_or_default().to_owned();
                let msg =
                    format!("{name}: kiln cannot build it: known difference: {why}\n  {first}\n");
                return (msg, true);
            }
            (k, o) => {
                let mut msg = format!("{name}: FAILED to build\n");
                for e in [k.err(), o.err()].into_iter().flatten() {
                    writeln!(msg, "{e}").unwrap();
                }
                return (msg, false);
            }
        };
        let diffs = compare(&self.base_tree, "kiln", &kiln, right, &other);
        let mut report = String::new();
        let mut passed = true;
        for (item, line) in &diffs {
            if let Some((_, _, why)) = known.iter().find(|(_, i, _)| i == item) {
                writeln!(report, "{line}\n    known difference: {why}").unwrap();
            } else {
                writeln!(report, "{line}").unwrap();
                passed = false;
            }
        }
        for (_, item, why) in &known {
            if !diffs.iter().any(|(i, _)| i == item) {
                writeln!(
                    report,
                    "  {item}: listed in KNOWN_DIFFERENCES ({why}) but equal now"
                )
                .unwrap();
                passed = false;
            }
        }
        let verdict = match (passed, diffs.is_empty()) {
            (true, true) => "equal",
            (true, false) => "equal but for known differences",
            (false, _) => "DIFFERENT",
        };
        let head = format!(
            "{name}: kiln vs {right}: {verdict} ({} entries, {:.1} s)\n",
            kiln.tree.len(),
            started.elapsed().as_secs_f64()
        );
        (head + &report, passed)
    }
}

fn setup() -> Option<Harness> {
    if !is_root() {
        eprintln!(
            "SKIP: the equivalence harness runs as root (rootless buildah is slow and fragile)"
        );
        return None;
    }
    if !wharf_testkit::busybox::available() || !have("umoci") {
        return None;
    }
    if !have("buildah") {
        eprintln!("SKIP: buildah not installed");
        return None;
    }
    let tmp = Scratch::new();
    let base_tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    // The base both tools build on: imported by berth, exported by kiln, pulled by buildah.
    let root = tmp.path().join("base-store");
    ok(
        "berth",
        &root,
        &[
            "import",
            "--change",
            "CMD [\"sh\"]",
            base_tar.to_str().unwrap(),
            "busybox",
        ],
    );
    let layout = tmp.path().join("base-oci");
    ok(
        "kiln",
        &root,
        &[
            "push",
            "-q",
            "busybox",
            &format!("oci:{}:busybox", layout.display()),
        ],
    );
    let base_tree = umoci_unpack(&layout, "busybox", &tmp.path().join("base-bundle")).unwrap();
    // Native overlay is fast as root; vfs works wherever overlay mounts are refused.
    let overlay = Buildah::new(tmp.path(), "overlay");
    let buildah = match overlay.load_base(&layout) {
        Ok(()) => overlay,
        Err(e) => {
            eprintln!("buildah: overlay storage failed ({}), using vfs", e.trim());
            let vfs = Buildah::new(tmp.path(), "vfs");
            vfs.load_base(&layout).unwrap();
            vfs
        }
    };
    Some(Harness {
        tmp,
        base_tar,
        base_tree,
        buildah,
    })
}

#[test]
fn kiln_and_buildah_build_the_same_images() {
    let Some(h) = setup() else {
        return;
    };
    let started = Instant::now();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    cases.sort();
    // `EQUIV_CASES=a,b` runs only those cases (while developing one); CI runs them all.
    let only: Vec<String> = std::env::var("EQUIV_CASES")
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    for (case, ..) in KNOWN_DIFFERENCES {
        assert!(
            cases.iter().any(|c| c.ends_with(case)),
            "KNOWN_DIFFERENCES names the missing case {case}"
        );
    }
    if !only.is_empty() {
        cases.retain(|c| only.iter().any(|o| c.ends_with(o)));
    }
    // Two workers, each building one case with both tools at once.
    let queue = Mutex::new(cases.iter());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap().next();
                    let Some(case) = next else { break };
                    let r = h.run_case(case);
                    eprint!("{}", r.0);
                    results.lock().unwrap().push(r);
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    let failed: Vec<&String> = results.iter().filter(|r| !r.1).map(|r| &r.0).collect();
    eprintln!(
        "equivalence: {} cases, {} different, {:.1} s (buildah storage: {})",
        results.len(),
        failed.len(),
        started.elapsed().as_secs_f64(),
        h.buildah.driver
    );
    assert!(
        failed.is_empty(),
        "kiln and buildah differ:\n{}",
        failed.iter().map(|s| s.as_str()).collect::<String>()
    );
}
