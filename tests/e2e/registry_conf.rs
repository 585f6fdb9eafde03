//! Differential suite for the containers-* registry configuration (issue 13): for each scenario
//! the same registries.conf, certificates, auth files and image go to Debian's skopeo, podman
//! and buildah and to ferry, kiln and berth, and the test asserts the same outcome: success with
//! the same manifest digest (image ID for a pull into a store), or refusal by all.
//!
//! Registries are real `docker-registry` processes on free loopback ports. Short names never
//! reach the internet: `docker.io` is remapped to a closed local port (`127.0.0.1:1`), so an
//! image can only come from the mirror. skopeo 1.9 ignores `CONTAINERS_REGISTRIES_CONF` and gets
//! `--registries-conf`; buildah and podman get the variable, Wharf gets both.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wharf_testkit::registry::Registry;

use crate::{bin, busybox_store, have};

/// A dead registry: nothing listens on port 1, so a request there fails at once.
const DEAD: &str = "127.0.0.1:1";

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(o: &Output) -> String {
    format!("{}\n{}{}", o.status, text(&o.stdout), text(&o.stderr))
}

/// One scenario's files: registries.conf, a home, a Wharf store and peer storage.
struct Env {
    tmp: tempfile::TempDir,
    conf: PathBuf,
    /// `$DOCKER_CONFIG` for every tool, when a scenario sets it.
    docker_config: std::cell::RefCell<Option<PathBuf>>,
}

impl Env {
    fn new(conf: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("registries.conf");
        std::fs::write(&path, conf).unwrap();
        for d in ["home", "run", "podman", "buildah"] {
            std::fs::create_dir_all(tmp.path().join(d)).unwrap();
        }
        std::fs::write(
            tmp.path().join("containers.conf"),
            "[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
        )
        .unwrap();
        Self {
            tmp,
            conf: path,
            docker_config: std::cell::RefCell::default(),
        }
    }

    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    fn store(&self) -> PathBuf {
        self.tmp.path().join("store")
    }

    /// A command with this scenario's environment and nothing of the caller's configuration.
    fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env("HOME", self.home())
            .env("CONTAINERS_REGISTRIES_CONF", &self.conf)
            .env("XDG_RUNTIME_DIR", self.tmp.path().join("run"))
            .env("CONTAINERS_CONF", self.tmp.path().join("containers.conf"))
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("DOCKER_CONFIG")
            .env_remove("WHARF_ROOT")
            .current_dir(self.tmp.path());
        if let Some(d) = &*self.docker_config.borrow() {
            c.env("DOCKER_CONFIG", d);
        }
        c
    }

    fn wharf(&self, name: &str, args: &[&str]) -> Output {
        self.cmd(bin(name))
            .arg("--root")
            .arg(self.store())
            .args(args)
            .output()
            .unwrap()
    }

    fn skopeo(&self, args: &[&str]) -> Output {
        self.cmd("skopeo")
            .arg("--registries-conf")
            .arg(&self.conf)
            .args(args)
            .output()
            .unwrap()
    }

    fn podman(&self, args: &[&str]) -> Output {
        let d = self.tmp.path().join("podman");
        self.cmd("podman")
            .arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(d.join("runroot"))
            .args(["--storage-driver", "vfs"])
            .args(args)
            .output()
            .unwrap()
    }

    fn buildah(&self, args: &[&str]) -> Output {
        let d = self.tmp.path().join("buildah");
        self.cmd("buildah")
            .arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(d.join("runroot"))
            .args(["--storage-driver", "vfs"])
            .args(args)
            .output()
            .unwrap()
    }
}

/// The test image: busybox from the Debian package, pushed once to a plain registry. Its
/// manifest digest and image ID are what every tool must find.
struct Image {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    digest: String,
    id: String,
}

/// The peers every scenario compares with. CI installs them (scripts/test.sh): a missing one
/// fails the test rather than letting it pass without comparing anything.
fn peers_present() -> bool {
    for tool in ["skopeo", "podman", "buildah"] {
        assert!(
            have(tool),
            "{tool} is not installed: apt-get install {tool}"
        );
    }
    true
}

impl Image {
    fn new() -> Option<Self> {
        let (tmp, root) = busybox_store()?;
        let out = tmp.path().join("digest");
        let tmp_reg = Registry::start_plain()?;
        // Push once to learn the manifest digest and config (image ID) the registries serve.
        let dest = format!("docker://{}/probe/box:1", tmp_reg.addr());
        let o = Command::new(bin("ferry"))
            .arg("--root")
            .arg(&root)
            .args(["copy", "--dest-tls-verify=false", "--digestfile"])
            .arg(&out)
            .arg("store:localhost/busybox:latest")
            .arg(&dest)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", show(&o));
        let digest = std::fs::read_to_string(&out).unwrap().trim().to_owned();
        let raw = Command::new("skopeo")
            .args(["inspect", "--raw", "--tls-verify=false", &dest])
            .output()
            .unwrap();
        assert!(raw.status.success(), "{}", show(&raw));
        let m: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
        let id = m["config"]["digest"].as_str().unwrap().to_owned();
        Some(Self {
            _tmp: tmp,
            root,
            digest,
            id,
        })
    }

    /// Copies the image to `docker://<addr>/<repo>` (`tls` names the cert dir of a TLS registry
    /// and its credentials).
    fn push_to(&self, reg: &Registry, repo: &str) {
        let mut c = Command::new(bin("ferry"));
        c.arg("--root").arg(&self.root).args(["copy"]);
        match reg.cert_dir() {
            Some(d) => {
                c.arg("--dest-cert-dir").arg(d);
            }
            None => {
                c.arg("--dest-tls-verify=false");
            }
        }
        if let Some(creds) = reg.creds_arg() {
            c.args(["--dest-creds", &creds]);
        }
        let o = c
            .arg("store:localhost/busybox:latest")
            .arg(format!("docker://{}/{repo}", reg.addr()))
            .output()
            .unwrap();
        assert!(o.status.success(), "push to {}: {}", reg.addr(), show(&o));
    }
}

/// The manifest digest skopeo inspect reports, or its failure.
fn skopeo_digest(env: &Env, args: &[&str], image: &str) -> Result<String, String> {
    let mut a = vec!["inspect", "--no-tags", "--format", "{{.Digest}}"];
    a.extend_from_slice(args);
    let r = format!("docker://{image}");
    a.push(&r);
    let o = env.skopeo(&a);
    if o.status.success() {
        Ok(text(&o.stdout).trim().to_owned())
    } else {
        Err(show(&o))
    }
}

/// The manifest digest ferry inspect reports, or its failure.
fn ferry_digest(env: &Env, args: &[&str], image: &str) -> Result<String, String> {
    let mut a = vec!["inspect", "--no-tags", "--format", "{{.Digest}}"];
    a.extend_from_slice(args);
    let r = format!("docker://{image}");
    a.push(&r);
    let o = env.wharf("ferry", &a);
    if o.status.success() {
        Ok(text(&o.stdout).trim().to_owned())
    } else {
        Err(show(&o))
    }
}

/// `ferry copy docker://IMAGE oci:DIR`: the digest it copied, or its failure.
fn ferry_copy(env: &Env, args: &[&str], image: &str) -> Result<String, String> {
    let out = env.tmp.path().join("copy-digest");
    let dir = env.tmp.path().join("copy-oci");
    let _ = std::fs::remove_dir_all(&dir);
    let mut a = vec!["copy".to_owned(), "--digestfile".to_owned()];
    a.push(out.display().to_string());
    a.extend(args.iter().map(|s| (*s).to_owned()));
    a.push(format!("docker://{image}"));
    a.push(format!("oci:{}:x", dir.display()));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = env.wharf("ferry", &a);
    if o.status.success() {
        Ok(std::fs::read_to_string(&out).unwrap().trim().to_owned())
    } else {
        Err(show(&o))
    }
}

/// `kiln pull` / `berth pull`: the image ID it prints, or its failure.
fn wharf_pull(env: &Env, tool: &str, args: &[&str], image: &str) -> Result<String, String> {
    let mut a = vec!["pull"];
    a.extend_from_slice(args);
    a.push(image);
    let o = env.wharf(tool, &a);
    if o.status.success() {
        Ok(sha(text(&o.stdout).trim()))
    } else {
        Err(show(&o))
    }
}

/// An image ID as `sha256:HEX`, whichever way a tool prints it.
fn sha(id: &str) -> String {
    format!("sha256:{}", id.trim_start_matches("sha256:"))
}

/// `podman pull` / `buildah pull`: the image ID, or the failure.
fn peer_pull(env: &Env, tool: &str, args: &[&str], image: &str) -> Result<String, String> {
    let mut a = vec!["pull", "--quiet"];
    a.extend_from_slice(args);
    a.push(image);
    let o = if tool == "podman" {
        env.podman(&a)
    } else {
        env.buildah(&a)
    };
    if o.status.success() {
        Ok(sha(text(&o.stdout).trim()))
    } else {
        Err(show(&o))
    }
}

fn agree_ok(what: &str, expected: &str, results: &[(&str, Result<String, String>)]) {
    for (tool, r) in results {
        match r {
            Ok(d) => assert_eq!(d, expected, "{what}: {tool} got another digest"),
            Err(e) => panic!("{what}: {tool} failed where it must succeed:\n{e}"),
        }
    }
}

fn agree_refused(what: &str, results: &[(&str, Result<String, String>)], wharf_says: &str) {
    for (tool, r) in results {
        match r {
            Ok(d) => panic!("{what}: {tool} succeeded ({d}) where it must refuse"),
            Err(e)
                if !tool.contains("skopeo")
                    && !tool.contains("podman")
                    && !tool.contains("buildah") =>
            {
                assert!(
                    e.contains(wharf_says),
                    "{what}: {tool}'s refusal does not say {wharf_says:?}:\n{e}"
                );
            }
            Err(_) => {}
        }
    }
}

#[test]
fn docker_io_mirror_serves_pull_from_run_copy_and_build() {
    if !peers_present() {
        return;
    }
    let Some(img) = Image::new() else { return };
    let Some(mirror) = Registry::start_plain() else {
        return;
    };
    img.push_to(&mirror, "library/wharfbox:1");
    // docker.io itself is a dead local port: success can only come from the mirror.
    let env = Env::new(&format!(
        "unqualified-search-registries = [\"docker.io\"]\n\
         [[registry]]\nprefix = \"docker.io\"\nlocation = \"{DEAD}\"\n\
         [[registry.mirror]]\nlocation = \"{}\"\ninsecure = true\n",
        mirror.addr()
    ));
    agree_ok(
        "docker.io mirror, inspect/copy",
        &img.digest,
        &[
            (
                "skopeo inspect",
                skopeo_digest(&env, &[], "docker.io/library/wharfbox:1"),
            ),
            (
                "ferry inspect",
                ferry_digest(&env, &[], "docker.io/library/wharfbox:1"),
            ),
            (
                "ferry copy",
                ferry_copy(&env, &[], "docker.io/library/wharfbox:1"),
            ),
        ],
    );
    agree_ok(
        "docker.io mirror, short-name pull",
        &img.id,
        &[
            ("podman pull", peer_pull(&env, "podman", &[], "wharfbox:1")),
            (
                "buildah pull",
                peer_pull(&env, "buildah", &[], "wharfbox:1"),
            ),
            ("kiln pull", wharf_pull(&env, "kiln", &[], "wharfbox:1")),
            ("berth pull", wharf_pull(&env, "berth", &[], "wharfbox:1")),
        ],
    );
    let o = env.wharf("kiln", &["pull", "wharfbox:1"]);
    assert!(
        text(&o.stderr).contains(&format!(
            "Pulled from mirror {}/library/wharfbox",
            mirror.addr()
        )),
        "progress names the mirror: {}",
        show(&o)
    );

    // FROM and `kiln from` with a fresh store: the base comes through the mirror.
    let env2 = Env::new(&std::fs::read_to_string(&env.conf).unwrap());
    let ctx = env2.tmp.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Containerfile"),
        "FROM wharfbox:1\nLABEL via=mirror\n",
    )
    .unwrap();
    let o = env2.wharf(
        "kiln",
        &["build", "-t", "localhost/frommirror", ctx.to_str().unwrap()],
    );
    assert!(
        o.status.success(),
        "kiln build FROM via the mirror: {}",
        show(&o)
    );
    let o = env2.buildah(&["from", "--pull", "--quiet", "wharfbox:1"]);
    assert!(
        o.status.success(),
        "buildah from via the mirror: {}",
        show(&o)
    );
    let env3 = Env::new(&std::fs::read_to_string(&env.conf).unwrap());
    let o = env3.wharf("kiln", &["from", "wharfbox:1"]);
    assert!(o.status.success(), "kiln from via the mirror: {}", show(&o));

    // berth run of a short name not in the store pulls it through the mirror.
    let env4 = Env::new(&std::fs::read_to_string(&env.conf).unwrap());
    let o = env4.wharf(
        "berth",
        &["run", "--rm", "--network", "none", "wharfbox:1", "true"],
    );
    assert!(o.status.success(), "berth run via the mirror: {}", show(&o));
}

#[test]
fn prefix_remap_and_search_registries_and_aliases() {
    if !peers_present() {
        return;
    }
    let Some(img) = Image::new() else { return };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    img.push_to(&reg, "team/app:1");
    let env = Env::new(&format!(
        "unqualified-search-registries = [\"{DEAD}\", \"{r}\"]\n\
         [[registry]]\nprefix = \"example.org/team\"\nlocation = \"{r}/team\"\ninsecure = true\n\
         [[registry]]\nlocation = \"{r}\"\ninsecure = true\n\
         [[registry]]\nlocation = \"{DEAD}\"\ninsecure = true\n",
        r = reg.addr()
    ));
    agree_ok(
        "prefix remap",
        &img.digest,
        &[
            (
                "skopeo inspect",
                skopeo_digest(&env, &[], "example.org/team/app:1"),
            ),
            (
                "ferry inspect",
                ferry_digest(&env, &[], "example.org/team/app:1"),
            ),
            (
                "ferry copy",
                ferry_copy(&env, &[], "example.org/team/app:1"),
            ),
        ],
    );
    agree_ok(
        "prefix remap, pull",
        &img.id,
        &[
            (
                "podman pull",
                peer_pull(&env, "podman", &[], "example.org/team/app:1"),
            ),
            (
                "kiln pull",
                wharf_pull(&env, "kiln", &[], "example.org/team/app:1"),
            ),
        ],
    );
    // Search registries: the dead one first, then the one that has it.
    agree_ok(
        "search registries",
        &img.id,
        &[
            ("podman pull", peer_pull(&env, "podman", &[], "team/app:1")),
            ("kiln pull", wharf_pull(&env, "kiln", &[], "team/app:1")),
            ("berth pull", wharf_pull(&env, "berth", &[], "team/app:1")),
        ],
    );
    // Found again in the store under its search-registry name: no pull needed.
    let o = env.wharf(
        "berth",
        &[
            "run",
            "--rm",
            "--pull=never",
            "--network",
            "none",
            "team/app:1",
            "true",
        ],
    );
    assert!(
        o.status.success(),
        "berth run --pull=never of a short name pulled before: {}",
        show(&o)
    );
    let o = env.wharf("kiln", &["from", "--pull=never", "team/app:1"]);
    assert!(
        o.status.success(),
        "kiln from --pull=never of a short name pulled before: {}",
        show(&o)
    );
    let ctx = env.tmp.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Containerfile"), "FROM team/app:1\nLABEL x=y\n").unwrap();
    let o = env.wharf(
        "kiln",
        &[
            "build",
            "--pull=never",
            "-t",
            "localhost/fromsearch",
            ctx.to_str().unwrap(),
        ],
    );
    assert!(
        o.status.success(),
        "FROM a short name pulled before, --pull=never: {}",
        show(&o)
    );
    // An alias from a drop-in of the user's registries.conf.d.
    let dropins = env.home().join(".config/containers/registries.conf.d");
    std::fs::create_dir_all(&dropins).unwrap();
    std::fs::write(
        dropins.join("50-wharf.conf"),
        format!("[aliases]\n\"wharfalias\" = \"{}/team/app\"\n", reg.addr()),
    )
    .unwrap();
    agree_ok(
        "alias from a drop-in",
        &img.id,
        &[
            (
                "podman pull",
                peer_pull(&env, "podman", &[], "wharfalias:1"),
            ),
            (
                "buildah pull",
                peer_pull(&env, "buildah", &[], "wharfalias:1"),
            ),
            ("kiln pull", wharf_pull(&env, "kiln", &[], "wharfalias:1")),
            ("berth pull", wharf_pull(&env, "berth", &[], "wharfalias:1")),
        ],
    );
}

#[test]
fn insecure_blocked_and_mirror_by_digest_only() {
    if !peers_present() {
        return;
    }
    let Some(img) = Image::new() else { return };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    img.push_to(&reg, "plain/app:1");
    let r = reg.addr();
    // Without `insecure`, a plain-HTTP registry is refused by all, with the right hint.
    let strict = Env::new("");
    agree_refused(
        "plain HTTP without insecure",
        &[
            (
                "skopeo inspect",
                skopeo_digest(&strict, &[], &format!("{r}/plain/app:1")),
            ),
            (
                "ferry copy",
                ferry_copy(&strict, &[], &format!("{r}/plain/app:1")),
            ),
            (
                "kiln pull",
                wharf_pull(&strict, "kiln", &[], &format!("{r}/plain/app:1")),
            ),
        ],
        "plain HTTP",
    );
    // `insecure = true` and no flag: pull, push and copy all work.
    let env = Env::new(&format!(
        "[[registry]]\nlocation = \"{r}\"\ninsecure = true\n"
    ));
    agree_ok(
        "insecure, copy",
        &img.digest,
        &[
            (
                "skopeo inspect",
                skopeo_digest(&env, &[], &format!("{r}/plain/app:1")),
            ),
            (
                "ferry copy",
                ferry_copy(&env, &[], &format!("{r}/plain/app:1")),
            ),
        ],
    );
    agree_ok(
        "insecure, pull",
        &img.id,
        &[
            (
                "podman pull",
                peer_pull(&env, "podman", &[], &format!("{r}/plain/app:1")),
            ),
            (
                "kiln pull",
                wharf_pull(&env, "kiln", &[], &format!("{r}/plain/app:1")),
            ),
        ],
    );
    let o = env.wharf(
        "kiln",
        &[
            "push",
            &format!("{r}/plain/app:1"),
            &format!("{r}/pushed/app:1"),
        ],
    );
    assert!(
        o.status.success(),
        "kiln push to an insecure registry: {}",
        show(&o)
    );
    let o = env.podman(&[
        "push",
        &format!("{r}/plain/app:1"),
        &format!("docker://{r}/pushed/podman:1"),
    ]);
    assert!(
        o.status.success(),
        "podman push to an insecure registry: {}",
        show(&o)
    );

    // `blocked = true`: refused by all, for pulls, copies and pushes.
    let blocked = Env::new(&format!(
        "[[registry]]\nlocation = \"{r}\"\ninsecure = true\nblocked = true\n"
    ));
    agree_refused(
        "blocked",
        &[
            (
                "skopeo inspect",
                skopeo_digest(&blocked, &[], &format!("{r}/plain/app:1")),
            ),
            (
                "ferry copy",
                ferry_copy(&blocked, &[], &format!("{r}/plain/app:1")),
            ),
            (
                "ferry inspect",
                ferry_digest(&blocked, &[], &format!("{r}/plain/app:1")),
            ),
            (
                "podman pull",
                peer_pull(&blocked, "podman", &[], &format!("{r}/plain/app:1")),
            ),
            (
                "kiln pull",
                wharf_pull(&blocked, "kiln", &[], &format!("{r}/plain/app:1")),
            ),
        ],
        "blocked",
    );
    let o = env.wharf("kiln", &["pull", &format!("{r}/plain/app:1")]);
    assert!(o.status.success(), "{}", show(&o));
    std::fs::create_dir_all(blocked.store()).unwrap();
    let o = blocked.wharf(
        "ferry",
        &[
            "copy",
            "--src-tls-verify=false",
            &format!("docker://{r}/plain/app:1"),
            &format!("docker://{r}/pushed/blocked:1"),
        ],
    );
    assert!(
        !o.status.success() && text(&o.stderr).contains("blocked"),
        "{}",
        show(&o)
    );

    // mirror-by-digest-only: by tag only the (dead) primary is tried; by digest the mirror
    // serves.
    let env = Env::new(&format!(
        "[[registry]]\nprefix = \"example.org\"\nlocation = \"{DEAD}\"\nmirror-by-digest-only = true\n\
         [[registry.mirror]]\nlocation = \"{r}\"\ninsecure = true\n"
    ));
    agree_refused(
        "mirror-by-digest-only, by tag",
        &[
            (
                "skopeo inspect",
                skopeo_digest(&env, &[], "example.org/plain/app:1"),
            ),
            (
                "ferry inspect",
                ferry_digest(&env, &[], "example.org/plain/app:1"),
            ),
            (
                "kiln pull",
                wharf_pull(&env, "kiln", &[], "example.org/plain/app:1"),
            ),
        ],
        DEAD,
    );
    let by_digest = format!("example.org/plain/app@{}", img.digest);
    agree_ok(
        "mirror-by-digest-only, by digest",
        &img.digest,
        &[
            ("skopeo inspect", skopeo_digest(&env, &[], &by_digest)),
            ("ferry inspect", ferry_digest(&env, &[], &by_digest)),
            ("ferry copy", ferry_copy(&env, &[], &by_digest)),
        ],
    );
    agree_ok(
        "mirror-by-digest-only, pull by digest",
        &img.id,
        &[
            ("podman pull", peer_pull(&env, "podman", &[], &by_digest)),
            ("kiln pull", wharf_pull(&env, "kiln", &[], &by_digest)),
        ],
    );
}

#[test]
fn tls_docker_docs_self_signed_and_client_certificates() {
    if !peers_present() {
        return;
    }
    let Some(img) = Image::new() else { return };
    let Some(reg) = Registry::start_docker_docs_self_signed() else {
        return;
    };
    img.push_to(&reg, "tls/app:1");
    let certs = reg.cert_dir().unwrap();
    let certs = certs.to_str().unwrap();
    let image = format!("{}/tls/app:1", reg.addr());
    let env = Env::new("");
    agree_ok(
        "Docker-docs self-signed certificate in --cert-dir",
        &img.digest,
        &[
            (
                "skopeo inspect",
                skopeo_digest(&env, &["--cert-dir", certs], &image),
            ),
            (
                "ferry inspect",
                ferry_digest(&env, &["--cert-dir", certs], &image),
            ),
        ],
    );
    agree_ok(
        "Docker-docs self-signed certificate, pull",
        &img.id,
        &[
            (
                "podman pull",
                peer_pull(&env, "podman", &["--cert-dir", certs], &image),
            ),
            (
                "kiln pull",
                wharf_pull(&env, "kiln", &["--cert-dir", certs], &image),
            ),
        ],
    );
    // Found without a flag in the user's certs.d/HOST:PORT.
    let user = env
        .home()
        .join(".config/containers/certs.d")
        .join(reg.addr());
    std::fs::create_dir_all(&user).unwrap();
    std::fs::copy(Path::new(certs).join("ca.crt"), user.join("ca.crt")).unwrap();
    assert_eq!(ferry_copy(&env, &[], &image), Ok(img.digest.clone()));
    // Without the certificate: refused by all; Wharf names the problem and no plain-HTTP hint.
    let bare = Env::new("");
    agree_refused(
        "self-signed certificate not trusted",
        &[
            ("skopeo inspect", skopeo_digest(&bare, &[], &image)),
            ("kiln pull", wharf_pull(&bare, "kiln", &[], &image)),
        ],
        "was rejected",
    );
    let e = wharf_pull(&bare, "kiln", &[], &image).unwrap_err();
    assert!(!e.contains("plain HTTP") && e.contains("certs.d"), "{e}");
    assert_eq!(
        e.matches("error sending request").count(),
        0,
        "causes printed once: {e}"
    );

    // A registry that requires a client certificate.
    let Some(creg) = Registry::start_client_cert() else {
        return;
    };
    img.push_to(&creg, "cc/app:1");
    let cdir = creg.cert_dir().unwrap();
    let cdir = cdir.to_str().unwrap();
    let cimage = format!("{}/cc/app:1", creg.addr());
    agree_ok(
        "client certificate",
        &img.digest,
        &[
            (
                "skopeo inspect",
                skopeo_digest(&env, &["--cert-dir", cdir], &cimage),
            ),
            (
                "ferry inspect",
                ferry_digest(&env, &["--cert-dir", cdir], &cimage),
            ),
        ],
    );
    agree_ok(
        "client certificate, pull",
        &img.id,
        &[
            (
                "podman pull",
                peer_pull(&env, "podman", &["--cert-dir", cdir], &cimage),
            ),
            (
                "kiln pull",
                wharf_pull(&env, "kiln", &["--cert-dir", cdir], &cimage),
            ),
        ],
    );
    // Only the CA, no client certificate: refused by both.
    let ca_only = env.tmp.path().join("ca-only");
    std::fs::create_dir_all(&ca_only).unwrap();
    std::fs::copy(Path::new(cdir).join("ca.crt"), ca_only.join("ca.crt")).unwrap();
    let ca_only = ca_only.to_str().unwrap();
    agree_refused(
        "client certificate missing",
        &[
            (
                "skopeo inspect",
                skopeo_digest(&env, &["--cert-dir", ca_only], &cimage),
            ),
            (
                "ferry inspect",
                ferry_digest(&env, &["--cert-dir", ca_only], &cimage),
            ),
        ],
        creg.addr(),
    );
}

#[test]
fn ca_signed_basic_auth_from_auth_json_docker_config_and_creds() {
    if !peers_present() {
        return;
    }
    let Some(img) = Image::new() else { return };
    let Some(reg) = Registry::start_tls_auth("wharf", "s3cret") else {
        return;
    };
    img.push_to(&reg, "auth/app:1");
    let certs = reg.cert_dir().unwrap();
    let certs = certs.to_str().unwrap();
    let image = format!("{}/auth/app:1", reg.addr());
    let env = Env::new("");
    let token = "d2hhcmY6czNjcmV0"; // base64("wharf:s3cret")
    let auths = format!(r#"{{"auths":{{"{}":{{"auth":"{token}"}}}}}}"#, reg.addr());
    // --creds
    agree_ok(
        "--creds",
        &img.digest,
        &[
            (
                "skopeo inspect",
                skopeo_digest(
                    &env,
                    &["--cert-dir", certs, "--creds", "wharf:s3cret"],
                    &image,
                ),
            ),
            (
                "ferry inspect",
                ferry_digest(
                    &env,
                    &["--cert-dir", certs, "--creds", "wharf:s3cret"],
                    &image,
                ),
            ),
        ],
    );
    assert_eq!(
        wharf_pull(
            &env,
            "kiln",
            &["--cert-dir", certs, "--creds", "wharf:s3cret"],
            &image
        ),
        Ok(img.id.clone())
    );
    // berth run takes the same registry flags as berth pull and kiln.
    let o = env.wharf(
        "berth",
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "--cert-dir",
            certs,
            "--creds",
            "wharf:s3cret",
            &image,
            "true",
        ],
    );
    assert!(
        o.status.success(),
        "berth run --creds --cert-dir: {}",
        show(&o)
    );
    // No credentials: refused by both.
    agree_refused(
        "no credentials",
        &[
            (
                "skopeo inspect",
                skopeo_digest(&env, &["--cert-dir", certs], &image),
            ),
            (
                "ferry inspect",
                ferry_digest(&env, &["--cert-dir", certs], &image),
            ),
        ],
        "authentication",
    );
    // auth.json in $XDG_RUNTIME_DIR/containers (the default login file).
    let run = env.tmp.path().join("run/containers");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("auth.json"), &auths).unwrap();
    agree_ok(
        "auth.json",
        &img.digest,
        &[
            (
                "skopeo inspect",
                skopeo_digest(&env, &["--cert-dir", certs], &image),
            ),
            (
                "ferry inspect",
                ferry_digest(&env, &["--cert-dir", certs], &image),
            ),
        ],
    );
    agree_ok(
        "auth.json, pull",
        &img.id,
        &[
            (
                "podman pull",
                peer_pull(&env, "podman", &["--cert-dir", certs], &image),
            ),
            (
                "kiln pull",
                wharf_pull(&env, "kiln", &["--cert-dir", certs], &image),
            ),
            (
                "berth pull",
                wharf_pull(&env, "berth", &["--cert-dir", certs], &image),
            ),
        ],
    );
    std::fs::remove_file(run.join("auth.json")).unwrap();
    // Docker's ~/.docker/config.json.
    let docker = env.home().join(".docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(docker.join("config.json"), &auths).unwrap();
    agree_ok(
        "Docker config.json",
        &img.digest,
        &[
            (
                "skopeo inspect",
                skopeo_digest(&env, &["--cert-dir", certs], &image),
            ),
            (
                "ferry inspect",
                ferry_digest(&env, &["--cert-dir", certs], &image),
            ),
        ],
    );
    assert_eq!(
        wharf_pull(&env, "kiln", &["--cert-dir", certs], &image),
        Ok(img.id.clone())
    );
    // The same file found through `$DOCKER_CONFIG` (a CI job's mounted dockerconfigjson
    // Secret), with nothing in the home directory.
    let dir = env.tmp.path().join("docker-secret");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::rename(docker.join("config.json"), dir.join("config.json")).unwrap();
    *env.docker_config.borrow_mut() = Some(dir);
    agree_ok(
        "$DOCKER_CONFIG/config.json",
        &img.digest,
        &[
            (
                "skopeo inspect",
                skopeo_digest(&env, &["--cert-dir", certs], &image),
            ),
            (
                "ferry inspect",
                ferry_digest(&env, &["--cert-dir", certs], &image),
            ),
        ],
    );
    assert_eq!(
        wharf_pull(&env, "berth", &["--cert-dir", certs], &image),
        Ok(img.id.clone())
    );
}

#[test]
fn rootless_user_registries_conf_mirror() {
    if !peers_present() {
        return;
    }
    let Some(user) = wharf_testkit::user::test_user() else {
        return;
    };
    let Some(img) = Image::new() else { return };
    let Some(mirror) = Registry::start_plain() else {
        return;
    };
    img.push_to(&mirror, "library/wharfbox:2");
    // The user's own ~/.config/containers/registries.conf, no environment variable: what a
    // rootless user of podman has.
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let conf_dir = home.join(".config/containers");
    std::fs::create_dir_all(&conf_dir).unwrap();
    std::fs::write(
        conf_dir.join("registries.conf"),
        format!(
            "unqualified-search-registries = [\"docker.io\"]\n\
             [[registry]]\nprefix = \"docker.io\"\nlocation = \"{DEAD}\"\n\
             [[registry.mirror]]\nlocation = \"{}\"\ninsecure = true\n",
            mirror.addr()
        ),
    )
    .unwrap();
    user.chown(tmp.path());
    let as_user = |program: PathBuf, args: &[&str]| {
        let o = user
            .command(program)
            .env("HOME", &home)
            .args(args)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        if o.status.success() {
            Ok(text(&o.stdout).trim().to_owned())
        } else {
            Err(show(&o))
        }
    };
    let store = tmp.path().join("store");
    let store = store.to_str().unwrap();
    agree_ok(
        "rootless, user registries.conf mirror",
        &img.digest,
        &[
            (
                "skopeo inspect (rootless)",
                as_user(
                    "skopeo".into(),
                    &[
                        "inspect",
                        "--no-tags",
                        "--format",
                        "{{.Digest}}",
                        "docker://docker.io/library/wharfbox:2",
                    ],
                ),
            ),
            (
                "ferry inspect (rootless)",
                as_user(
                    bin("ferry"),
                    &[
                        "inspect",
                        "--no-tags",
                        "--format",
                        "{{.Digest}}",
                        "docker://docker.io/library/wharfbox:2",
                    ],
                ),
            ),
        ],
    );
    assert_eq!(
        as_user(bin("kiln"), &["--root", store, "pull", "wharfbox:2"]).map(|s| sha(&s)),
        Ok(img.id.clone()),
        "rootless kiln pull of a short name through the user's mirror"
    );
}

/// `ADD https://…` and a build context URL use the same HTTP stack as registry requests (issue
/// 13 and 16: one client stack per process), so a server whose certificate is trusted through
/// `certs.d/HOST:PORT` is reachable from a Dockerfile as it is for pulls. Here we follow the
/// issue over buildah, whose ADD reads only the system's trust store: the certificate the
/// registry presents is in no system store, so buildah refuses where kiln downloads.
#[test]
fn add_url_and_context_url_trust_certs_d() {
    peers_present();
    let Some(img) = Image::new() else { return };
    let Some(reg) = Registry::start_docker_docs_self_signed() else {
        return;
    };
    img.push_to(&reg, "tls/app:1");
    let certs = reg.cert_dir().unwrap();
    // The image config, served by the registry as a blob at a plain https URL.
    let url = format!("https://{}/v2/tls/app/blobs/{}", reg.addr(), img.id);
    let write_ctx = |env: &Env| {
        let ctx = env.tmp.path().join("ctx");
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::write(
            ctx.join("Dockerfile"),
            format!(
                "FROM scratch\nADD --checksum={} {url} /config.json\n",
                img.id
            ),
        )
        .unwrap();
        ctx
    };
    let build = |env: &Env, ctx: &Path, out: &Path| {
        env.wharf(
            "kiln",
            &[
                "build",
                "--output",
                &format!("type=local,dest={}", out.display()),
                ctx.to_str().unwrap(),
            ],
        )
    };

    // Trusted through the user's certs.d, no flag.
    let env = Env::new("");
    let user = env
        .home()
        .join(".config/containers/certs.d")
        .join(reg.addr());
    std::fs::create_dir_all(&user).unwrap();
    std::fs::copy(certs.join("ca.crt"), user.join("ca.crt")).unwrap();
    let ctx = write_ctx(&env);
    let out = env.tmp.path().join("out");
    let o = build(&env, &ctx, &out);
    assert!(o.status.success(), "ADD through certs.d: {}", show(&o));
    let got = std::fs::read(out.join("config.json")).unwrap();
    assert_eq!(wharf_oci::digest::sha256(&got).to_string(), img.id);

    // The same Dockerfile as a context URL is out of reach for a test server (it serves only
    // blobs), so the context URL is checked for the certificate refusal only.
    let bare = Env::new("");
    let ctx = write_ctx(&bare);
    let o = build(&bare, &ctx, &bare.tmp.path().join("out"));
    let e = show(&o);
    assert!(!o.status.success(), "untrusted certificate accepted: {e}");
    assert!(
        e.contains(&url) && e.contains("certs.d") && !e.contains("plain HTTP"),
        "the refusal names the URL and the certificate directories looked in: {e}"
    );
    let o = bare.wharf("kiln", &["build", &url]);
    let e = show(&o);
    assert!(
        !o.status.success() && e.contains(&url) && e.contains("certs.d"),
        "context URL with an untrusted certificate: {e}"
    );
    // buildah does not read certs.d for ADD: it refuses the same download.
    let bctx = write_ctx(&env);
    let o = env.buildah(&[
        "bud",
        "--signature-policy",
        "/etc/containers/policy.json",
        "-t",
        "addurl",
        bctx.to_str().unwrap(),
    ]);
    assert!(
        !o.status.success(),
        "buildah downloaded through certs.d: {}",
        show(&o)
    );
}

/// A `*.wharf.test` wildcard prefix whose mirror serves every subdomain, and
/// `pull-from-mirror = "digest-only"`: by tag the mirror is skipped and the primary (a `.test`
/// name, which never resolves) fails; by digest the mirror serves. Compared with skopeo and
/// podman (containers/image 5.23, whose man page documents both).
#[test]
fn wildcard_prefix_mirror_and_pull_from_mirror() {
    peers_present();
    let Some(img) = Image::new() else { return };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    img.push_to(&reg, "mirrored/team/app:1");
    let r = reg.addr();
    let conf = |extra: &str| {
        format!(
            "[[registry]]\nprefix = \"*.wharf.test\"\n\
             [[registry.mirror]]\nlocation = \"{r}/mirrored\"\ninsecure = true\n{extra}"
        )
    };
    let env = Env::new(&conf(""));
    let image = "blah.sub.wharf.test/team/app:1";
    agree_ok(
        "wildcard prefix, mirror, copy",
        &img.digest,
        &[
            ("skopeo inspect", skopeo_digest(&env, &[], image)),
            ("ferry copy", ferry_copy(&env, &[], image)),
        ],
    );
    agree_ok(
        "wildcard prefix, mirror, pull",
        &img.id,
        &[
            ("podman pull", peer_pull(&env, "podman", &[], image)),
            ("kiln pull", wharf_pull(&env, "kiln", &[], image)),
            ("berth pull", wharf_pull(&env, "berth", &[], image)),
        ],
    );

    let env = Env::new(&conf("pull-from-mirror = \"digest-only\"\n"));
    agree_refused(
        "pull-from-mirror digest-only, by tag",
        &[
            ("skopeo inspect", skopeo_digest(&env, &[], image)),
            ("ferry copy", ferry_copy(&env, &[], image)),
            ("kiln pull", wharf_pull(&env, "kiln", &[], image)),
        ],
        "blah.sub.wharf.test",
    );
    // Set on the registry instead of its mirror, the key is refused, not ignored.
    let misplaced = Env::new(&format!(
        "[[registry]]\nprefix = \"*.wharf.test\"\npull-from-mirror = \"digest-only\"\n\
         [[registry.mirror]]\nlocation = \"{r}/mirrored\"\ninsecure = true\n"
    ));
    agree_refused(
        "pull-from-mirror on a non-mirror registry",
        &[
            ("skopeo inspect", skopeo_digest(&misplaced, &[], image)),
            ("ferry copy", ferry_copy(&misplaced, &[], image)),
            ("kiln pull", wharf_pull(&misplaced, "kiln", &[], image)),
        ],
        "[[registry.mirror]]",
    );
    let by_digest = format!("blah.sub.wharf.test/team/app@{}", img.digest);
    agree_ok(
        "pull-from-mirror digest-only, by digest",
        &img.digest,
        &[
            ("skopeo inspect", skopeo_digest(&env, &[], &by_digest)),
            ("ferry copy", ferry_copy(&env, &[], &by_digest)),
        ],
    );
}
