//! Signatures and policy (issue 17): images signed with a sigstore key pass Wharf's policy
//! everywhere an image enters (ferry copy, kiln pull, FROM, berth pull and run); unsigned,
//! wrongly signed and misidentified ones are refused with a message naming the image, the
//! requirement and the policy file, and nothing of them is stored; the signatures Wharf makes
//! are read and carried along by skopeo. Debian's skopeo, podman and buildah have sigstore
//! disabled ("Debian-local change: sigstore disabled": they neither sign nor verify), so
//! cosign compatibility is checked on signatures made by the real cosign in `wharf-sign`'s
//! `tests/cosign.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wharf_testkit::registry::Registry;

use crate::{busybox_store, have, ok, run};

/// Runs skopeo, asserting success.
fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo")
        .args(args)
        .output()
        .expect("spawn skopeo");
    assert!(
        out.status.success(),
        "skopeo {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts a refusal by the policy and returns its message.
fn refused(out: &Output, image: &str, requirement: &str, policy: &Path) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "accepted; stderr:\n{err}");
    for want in [image, requirement, &policy.display().to_string()] {
        assert!(
            err.contains(want),
            "the refusal does not name {want:?}:\n{err}"
        );
    }
    err
}

/// Asserts the store at `root` holds no image and no blob.
fn store_is_empty(root: &Path) {
    let images = ok("kiln", root, &["images", "-q"]);
    assert!(images.trim().is_empty(), "images left: {images}");
    let blobs = root.join("oci/blobs/sha256");
    let left: Vec<PathBuf> = std::fs::read_dir(&blobs)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "blobs left in {}: {left:?}",
        blobs.display()
    );
}

struct Setup {
    _reg: Registry,
    addr: String,
    tmp: tempfile::TempDir,
    root: PathBuf,
    policy: PathBuf,
    regd: PathBuf,
    key: PathBuf,
    pass: PathBuf,
}

impl Setup {
    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// `--policy P --registries.d D` for any of our commands.
    fn policy_args(&self) -> Vec<String> {
        vec![
            "--policy".into(),
            self.policy.display().to_string(),
            "--registries.d".into(),
            self.regd.display().to_string(),
        ]
    }
}

/// A sigstore key pair made by `ferry generate-sigstore-key` (`PREFIX.pub`,
/// `PREFIX.private`), its private key sealed with the passphrase in `pass`.
pub(crate) fn sigstore_key(root: &Path, prefix: &Path, pass: &Path) {
    ok(
        "ferry",
        root,
        &[
            "generate-sigstore-key",
            "--output-prefix",
            prefix.to_str().unwrap(),
            "--passphrase-file",
            pass.to_str().unwrap(),
        ],
    );
}

/// `DIR/registries.d`, telling every tool to keep sigstore signatures as registry attachments.
pub(crate) fn sigstore_registries_d(dir: &Path) -> PathBuf {
    let regd = dir.join("registries.d");
    std::fs::create_dir(&regd).unwrap();
    std::fs::write(
        regd.join("default.yaml"),
        "default-docker:\n  use-sigstore-attachments: true\n",
    )
    .unwrap();
    regd
}

/// A registry with `sig/unsigned:1` (pushed by ferry), `sig/signed:1` (signed by
/// `ferry copy --sign-by-sigstore-private-key` with a generated key), `sig/other-key:1` (signed
/// with another key) and `sig/misnamed:1` (signed for another identity); a policy requiring
/// our key under `ADDR/sig`.
fn setup() -> Option<Setup> {
    if !have("skopeo") {
        return None;
    }
    let (tmp, root) = busybox_store()?;
    let reg = Registry::start_plain()?;
    let addr = reg.addr().to_owned();
    let d = tmp.path();
    let pass = d.join("pass");
    std::fs::write(&pass, "correct horse\n").unwrap();
    let prefix = d.join("key");
    sigstore_key(&root, &prefix, &pass);
    let other = d.join("other");
    sigstore_key(&root, &other, &pass);
    let regd = sigstore_registries_d(d);
    let policy = d.join("policy.json");
    std::fs::write(
        &policy,
        serde_json::json!({
            "default": [{"type": "insecureAcceptAnything"}],
            "transports": {"docker": {
                format!("{addr}/sig"): [{
                    "type": "sigstoreSigned",
                    "keyPath": d.join("key.pub"),
                    "signedIdentity": {"type": "matchRepoDigestOrExact"}
                }]
            }}
        })
        .to_string(),
    )
    .unwrap();
    let unsigned = format!("docker://{addr}/sig/unsigned:1");
    ok(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "store:localhost/busybox:latest",
            &unsigned,
        ],
    );
    let sign = |key: &Path, dest: &str, identity: Option<&str>| {
        let mut args = vec![
            "copy".to_owned(),
            "-q".into(),
            "--insecure-policy".into(),
            "--registries.d".into(),
            regd.display().to_string(),
            "--src-tls-verify=false".into(),
            "--dest-tls-verify=false".into(),
            "--sign-by-sigstore-private-key".into(),
            key.display().to_string(),
            "--sign-passphrase-file".into(),
            pass.display().to_string(),
        ];
        if let Some(i) = identity {
            args.extend(["--sign-identity".into(), i.into()]);
        }
        args.extend([unsigned.clone(), format!("docker://{addr}/sig/{dest}")]);
        ok(
            "ferry",
            &root,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    };
    sign(&d.join("key.private"), "signed:1", None);
    sign(&d.join("other.private"), "other-key:1", None);
    sign(
        &d.join("key.private"),
        "misnamed:1",
        Some(&format!("{addr}/elsewhere/app:1")),
    );
    Some(Setup {
        addr,
        root,
        policy,
        regd,
        key: d.join("key.private"),
        pass,
        _reg: reg,
        tmp,
    })
}

#[test]
fn sigstore_signatures_are_enforced_on_pull() {
    let Some(s) = setup() else { return };
    let a = &s.addr;
    let p = s.policy_args();
    let p: Vec<&str> = p.iter().map(String::as_str).collect();

    // kiln pull: the signed image enters a fresh store.
    let fresh = s.dir().join("pulled");
    let mut args = vec!["pull", "-q", "--tls-verify=false"];
    args.extend(&p);
    let signed = format!("{a}/sig/signed:1");
    ok("kiln", &fresh, &[&args[..], &[signed.as_str()]].concat());

    // Unsigned, signed by another key, signed for another name: refused, nothing stored.
    for (name, why) in [
        ("unsigned:1", "has none"),
        ("other-key:1", "does not verify"),
        ("misnamed:1", "elsewhere/app:1"),
    ] {
        let empty = s.dir().join(format!("refused-{name}"));
        let image = format!("{a}/sig/{name}");
        let out = run("kiln", &empty, &[&args[..], &[image.as_str()]].concat());
        let err = refused(&out, &image, "sigstoreSigned", &s.policy);
        assert!(err.contains(why), "{name}: {err}");
        store_is_empty(&empty);
    }

    // berth pull and berth run refuse the same way; ferry copy to a layout too.
    let empty = s.dir().join("berth");
    let unsigned = format!("{a}/sig/unsigned:1");
    let mut bargs = vec!["pull", "--tls-verify=false"];
    bargs.extend(&p);
    let out = run(
        "berth",
        &empty,
        &[&bargs[..], &[unsigned.as_str()]].concat(),
    );
    refused(&out, &unsigned, "sigstoreSigned", &s.policy);
    let mut rargs = vec!["run", "--rm", "--tls-verify=false"];
    rargs.extend(&p);
    let out = run(
        "berth",
        &empty,
        &[&rargs[..], &[unsigned.as_str(), "true"]].concat(),
    );
    refused(&out, &unsigned, "sigstoreSigned", &s.policy);
    store_is_empty(&empty);
    let layout = s.dir().join("layout");
    let mut cargs = vec!["copy", "-q", "--src-tls-verify=false"];
    cargs.extend(&p);
    let dst = format!("oci:{}:x", layout.display());
    let out = run(
        "ferry",
        &s.root,
        &[&cargs[..], &[format!("docker://{unsigned}").as_str(), &dst]].concat(),
    );
    refused(&out, &unsigned, "sigstoreSigned", &s.policy);
    assert!(
        !layout.join("index.json").exists()
            || !std::fs::read_to_string(layout.join("index.json"))
                .unwrap()
                .contains("sha256")
    );
    ok(
        "ferry",
        &s.root,
        &[&cargs[..], &[format!("docker://{signed}").as_str(), &dst]].concat(),
    );

    // --insecure-policy lets anything in.
    ok(
        "kiln",
        &empty,
        &[
            "pull",
            "-q",
            "--tls-verify=false",
            "--insecure-policy",
            &unsigned,
        ],
    );
}

#[test]
fn from_in_a_build_is_checked_against_the_policy() {
    let Some(s) = setup() else { return };
    let a = &s.addr;
    let p = s.policy_args();
    let ctx = s.dir().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    for (name, accepted) in [("signed:1", true), ("unsigned:1", false)] {
        std::fs::write(
            ctx.join("Dockerfile"),
            format!("FROM {a}/sig/{name}\nLABEL x=1\n"),
        )
        .unwrap();
        let root = s.dir().join(format!("build-{accepted}"));
        let mut args = vec!["build", "-q", "--tls-verify=false", "-t", "out"];
        args.extend(p.iter().map(String::as_str));
        args.push(ctx.to_str().unwrap());
        let out = run("kiln", &root, &args);
        if accepted {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            refused(
                &out,
                &format!("{a}/sig/{name}"),
                "sigstoreSigned",
                &s.policy,
            );
            store_is_empty(&root);
        }
    }
}

#[test]
fn images_wharf_signed_pass_the_policy_and_survive_a_skopeo_copy() {
    let Some(s) = setup() else { return };
    let a = &s.addr;
    let regd = s.regd.to_str().unwrap();
    let key = s.key.to_str().unwrap();
    let pass = s.pass.to_str().unwrap();
    // ferry copy signs at the destination; kiln push too.
    ok(
        "ferry",
        &s.root,
        &[
            "copy",
            "-q",
            "--insecure-policy",
            "--registries.d",
            regd,
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--sign-by-sigstore-private-key",
            key,
            "--sign-passphrase-file",
            pass,
            &format!("docker://{a}/sig/unsigned:1"),
            &format!("docker://{a}/sig/by-ferry:1"),
        ],
    );
    ok(
        "kiln",
        &s.root,
        &[
            "push",
            "-q",
            "--tls-verify=false",
            "--registries.d",
            regd,
            "--sign-by-sigstore-private-key",
            key,
            "--sign-passphrase-file",
            pass,
            "localhost/busybox:latest",
            &format!("{a}/sig/by-kiln:1"),
        ],
    );
    // Both pass Wharf's policy on pull.
    let p = s.policy_args();
    for name in ["by-ferry:1", "by-kiln:1"] {
        let fresh = s.dir().join(format!("pull-{name}"));
        let mut args = vec!["pull", "-q", "--tls-verify=false"];
        args.extend(p.iter().map(String::as_str));
        let image = format!("{a}/sig/{name}");
        ok("kiln", &fresh, &[&args[..], &[image.as_str()]].concat());
    }
    // skopeo reads the attachment Wharf wrote and copies it along to a mirror, where Wharf's
    // policy (remapIdentity: the mirror's names are checked as the originals) accepts it.
    skopeo(&[
        "copy",
        "--insecure-policy",
        "--registries.d",
        regd,
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &format!("docker://{a}/sig/by-ferry:1"),
        &format!("docker://{a}/mirror/by-ferry:1"),
    ]);
    let mirror_policy = s.dir().join("mirror-policy.json");
    std::fs::write(
        &mirror_policy,
        serde_json::json!({
            "default": [{"type": "reject"}],
            "transports": {"docker": {
                format!("{a}/mirror"): [{
                    "type": "sigstoreSigned",
                    "keyPath": s.dir().join("key.pub"),
                    "signedIdentity": {
                        "type": "remapIdentity",
                        "prefix": format!("{a}/mirror"),
                        "signedPrefix": format!("{a}/sig"),
                    }
                }]
            }}
        })
        .to_string(),
    )
    .unwrap();
    let fresh = s.dir().join("pull-mirror");
    ok(
        "kiln",
        &fresh,
        &[
            "pull",
            "-q",
            "--tls-verify=false",
            "--policy",
            mirror_policy.to_str().unwrap(),
            "--registries.d",
            regd,
            &format!("{a}/mirror/by-ferry:1"),
        ],
    );
    // A wrong passphrase is a clear error and signs nothing.
    std::fs::write(s.dir().join("wrong"), "nope\n").unwrap();
    let out = run(
        "ferry",
        &s.root,
        &[
            "copy",
            "-q",
            "--insecure-policy",
            "--registries.d",
            regd,
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--sign-by-sigstore-private-key",
            key,
            "--sign-passphrase-file",
            s.dir().join("wrong").to_str().unwrap(),
            &format!("docker://{a}/sig/unsigned:1"),
            &format!("docker://{a}/sig/wrong:1"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("passphrase"), "{err}");
    assert!(
        !err.contains("correct horse") && !err.contains("nope"),
        "{err}"
    );
}

/// Runs `gpg` in `home`, asserting success.
fn gpg(home: &Path, args: &[&str]) -> String {
    let out = Command::new("gpg")
        .env("GNUPGHOME", home)
        .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
        .args(args)
        .output()
        .expect("spawn gpg");
    assert!(
        out.status.success(),
        "gpg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Simple signing (GPG, `signedBy`) with skopeo on both sides: skopeo `--sign-by` signs into
/// lookaside storage and Wharf's policy accepts it; unsigned and tampered images are refused
/// with nothing stored; `ferry copy --sign-by` signs and skopeo's policy check accepts it.
#[test]
fn gpg_simple_signing_interoperates_with_skopeo() {
    if !have("skopeo") || !have("gpg") {
        return;
    }
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr();
    let d = tmp.path();
    let home = d.join("gnupg");
    std::fs::create_dir(&home).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    gpg(
        &home,
        &[
            "--quick-gen-key",
            "Wharf Test <test@example.invalid>",
            "rsa2048",
            "sign",
            "never",
        ],
    );
    let listing = gpg(&home, &["--list-keys", "--with-colons"]);
    let fp = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:::::::::"))
        .map(|l| l.trim_end_matches(':').to_owned())
        .unwrap();
    let pubkey = d.join("pub.asc");
    std::fs::write(&pubkey, gpg(&home, &["--armor", "--export", &fp])).unwrap();
    let (sigs, regd, policy) = gpg_lookaside(d, &format!("{a}/gpg"), &pubkey);
    let regd_s = regd.to_str().unwrap();
    ok(
        "ferry",
        &root,
        &[
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "store:localhost/busybox:latest",
            &format!("docker://{a}/gpg/unsigned:1"),
        ],
    );
    for name in ["signed:1", "tampered:1"] {
        let out = Command::new("skopeo")
            .env("GNUPGHOME", &home)
            .args([
                "copy",
                "--insecure-policy",
                "--registries.d",
                regd_s,
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
                "--sign-by",
                &fp,
                &format!("docker://{a}/gpg/unsigned:1"),
                &format!("docker://{a}/gpg/{name}"),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "skopeo --sign-by: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let pull = |name: &str, store: &Path| {
        run(
            "kiln",
            store,
            &[
                "pull",
                "-q",
                "--tls-verify=false",
                "--policy",
                policy.to_str().unwrap(),
                "--registries.d",
                regd_s,
                &format!("{a}/gpg/{name}"),
            ],
        )
    };
    let out = pull("signed:1", &d.join("ok"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let empty = d.join("refused");
    let out = pull("unsigned:1", &empty);
    let err = refused(&out, &format!("{a}/gpg/unsigned:1"), "signedBy", &policy);
    assert!(err.contains("has none"), "{err}");
    store_is_empty(&empty);
    // Lookaside signatures are per repository: flip a byte in tampered:1's.
    let files: Vec<PathBuf> = walk(&sigs.join("gpg"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/tampered@sha256="))
        .collect();
    assert!(
        !files.is_empty(),
        "no signature of tampered:1 under {}",
        sigs.display()
    );
    for e in files {
        let mut b = std::fs::read(&e).unwrap();
        let mid = b.len() / 2;
        b[mid] ^= 0x40;
        std::fs::write(&e, b).unwrap();
    }
    let out = pull("tampered:1", &empty);
    refused(&out, &format!("{a}/gpg/tampered:1"), "signedBy", &policy);
    store_is_empty(&empty);

    // Wharf signs with gpg; skopeo's policy check (gpgme) accepts it.
    let out = Command::new(crate::bin("ferry"))
        .env("GNUPGHOME", &home)
        .args([
            "copy",
            "-q",
            "--insecure-policy",
            "--registries.d",
            regd_s,
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--sign-by",
            &fp,
            &format!("docker://{a}/gpg/unsigned:1"),
            &format!("docker://{a}/gpg/by-ferry:1"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    skopeo(&[
        "copy",
        "--remove-signatures",
        "--policy",
        policy.to_str().unwrap(),
        "--registries.d",
        regd_s,
        "--src-tls-verify=false",
        &format!("docker://{a}/gpg/by-ferry:1"),
        &format!("oci:{}/by-ferry", d.display()),
    ]);
    // The same check refuses the unsigned image: skopeo's policy does bite.
    let out = Command::new("skopeo")
        .args([
            "copy",
            "--remove-signatures",
            "--policy",
            policy.to_str().unwrap(),
            "--registries.d",
            regd_s,
            "--src-tls-verify=false",
            &format!("docker://{a}/gpg/unsigned:1"),
            &format!("oci:{}/unsigned", d.display()),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = pull("by-ferry:1", &d.join("ok2"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A GPG home with a fresh signing key (no passphrase) and its armored public key file:
/// `(home, fingerprint, public key file)`.
/// In `dir`: a registries.d whose lookaside for `scope` is `dir/lookaside` (read and written),
/// and a policy asking `scope` for a GPG signature by `pubkey` (anything else accepted). Returns
/// (lookaside directory, registries.d, policy file).
fn gpg_lookaside(dir: &Path, scope: &str, pubkey: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let sigs = dir.join("lookaside");
    let regd = dir.join("registries.d");
    std::fs::create_dir(&regd).unwrap();
    std::fs::write(
        regd.join("lookaside.yaml"),
        format!(
            "docker:\n  {scope}:\n    lookaside: file://{s}\n    lookaside-staging: file://{s}\n",
            s = sigs.display()
        ),
    )
    .unwrap();
    let policy = dir.join("policy.json");
    std::fs::write(
        &policy,
        serde_json::json!({
            "default": [{"type": "insecureAcceptAnything"}],
            "transports": {"docker": {
                scope: [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": pubkey}]
            }}
        })
        .to_string(),
    )
    .unwrap();
    (sigs, regd, policy)
}

fn gpg_key(dir: &Path) -> (PathBuf, String, PathBuf) {
    let home = dir.join("gnupg");
    std::fs::create_dir(&home).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    gpg(
        &home,
        &[
            "--quick-gen-key",
            "Wharf Standalone <standalone@example.invalid>",
            "rsa2048",
            "sign",
            "never",
        ],
    );
    let listing = gpg(&home, &["--list-keys", "--with-colons"]);
    let fp = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:::::::::"))
        .map(|l| l.trim_end_matches(':').to_owned())
        .unwrap();
    let pubkey = dir.join("standalone.asc");
    std::fs::write(&pubkey, gpg(&home, &["--armor", "--export", &fp])).unwrap();
    (home, fp, pubkey)
}

/// `ferry standalone-sign` / `standalone-verify` against skopeo's: skopeo signs and ferry
/// verifies (with `--public-key-file` and with the keyring), ferry signs and skopeo verifies;
/// a signature for another reference, another manifest or another key is refused.
#[test]
fn standalone_sign_and_verify_interoperate_with_skopeo() {
    if !have("skopeo") || !have("gpg") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (home, fp, pubkey) = gpg_key(d);
    let manifest = d.join("manifest.json");
    std::fs::write(
        &manifest,
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#,
    )
    .unwrap();
    let digest = wharf_oci::digest::sha256(&std::fs::read(&manifest).unwrap()).to_string();
    let reference = "registry.example.com/app/web:1";
    let (m, sk_sig, fe_sig) = (
        manifest.to_str().unwrap(),
        d.join("by-skopeo.sig"),
        d.join("by-ferry.sig"),
    );
    let ferry = |args: &[&str]| {
        Command::new(crate::bin("ferry"))
            .env("GNUPGHOME", &home)
            .args(args)
            .output()
            .unwrap()
    };
    let out = Command::new("skopeo")
        .env("GNUPGHOME", &home)
        .args(["standalone-sign", m, reference, &fp, "-o"])
        .arg(&sk_sig)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::text(&out.stderr));

    // skopeo signed, ferry verifies, with the key file and with the keyring.
    let s = sk_sig.to_str().unwrap();
    for extra in [vec!["--public-key-file", pubkey.to_str().unwrap()], vec![]] {
        let mut args = vec!["standalone-verify", m, reference, &fp, s];
        args.extend(extra);
        let out = ferry(&args);
        let stdout = crate::text(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(&digest) && stdout.contains(&fp),
            "{args:?}: {stdout}{}",
            crate::text(&out.stderr)
        );
    }
    let out = ferry(&[
        "standalone-verify",
        m,
        reference,
        "any",
        s,
        "--public-key-file",
        pubkey.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", crate::text(&out.stderr));

    // ferry signs, skopeo (gpgme) verifies.
    let out = ferry(&[
        "standalone-sign",
        m,
        reference,
        &fp,
        "-o",
        fe_sig.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", crate::text(&out.stderr));
    let verified = Command::new("skopeo")
        .env("GNUPGHOME", &home)
        .args(["standalone-verify", m, reference, &fp])
        .arg(&fe_sig)
        .output()
        .unwrap();
    assert!(
        verified.status.success() && crate::text(&verified.stdout).contains(&digest),
        "{}",
        crate::text(&verified.stderr)
    );

    // Refusals: another reference, another manifest, another expected key.
    let f = fe_sig.to_str().unwrap();
    let out = ferry(&[
        "standalone-verify",
        m,
        "registry.example.com/app/other:1",
        &fp,
        f,
    ]);
    assert!(
        !out.status.success() && crate::text(&out.stderr).contains("does not match"),
        "{}",
        crate::text(&out.stderr)
    );
    let other = d.join("other.json");
    std::fs::write(&other, br#"{"schemaVersion":2,"layers":[]}"#).unwrap();
    let out = ferry(&[
        "standalone-verify",
        other.to_str().unwrap(),
        reference,
        &fp,
        f,
    ]);
    assert!(
        !out.status.success() && crate::text(&out.stderr).contains("not sha256:"),
        "{}",
        crate::text(&out.stderr)
    );
    let out = ferry(&["standalone-verify", m, reference, "0123456789ABCDEF", f]);
    assert!(
        !out.status.success() && crate::text(&out.stderr).contains("expected fingerprints"),
        "{}",
        crate::text(&out.stderr)
    );
}

/// `kiln build --sign-by-sigstore-private-key`: the signature (cosign's OCI 1.1 referrer form,
/// for the first `-t`) is kept with the built image, `kiln push` carries it (to the tag
/// fallback of a registry without the referrers API), and a pull under a `sigstoreSigned`
/// policy accepts the image; the same build unsigned is refused.
#[test]
fn kiln_build_signs_and_the_signature_goes_with_the_push() {
    let Some(s) = setup() else { return };
    let a = &s.addr;
    let p = s.policy_args();
    let p: Vec<&str> = p.iter().map(String::as_str).collect();
    let ctx = s.dir().join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nLABEL built=here\n").unwrap();
    let signed = format!("{a}/sig/built:1");
    let unsigned = format!("{a}/sig/built-unsigned:1");
    let key = s.key.display().to_string();
    let pass = s.pass.display().to_string();
    let ctx = ctx.display().to_string();
    let mut bargs = vec!["build", "-q", "--provenance=false"];
    bargs.extend(&p);
    ok(
        "kiln",
        &s.root,
        &[
            &bargs[..],
            &[
                "-t",
                &signed,
                "--sign-by-sigstore-private-key",
                &key,
                "--sign-passphrase-file",
                &pass,
                &ctx,
            ],
        ]
        .concat(),
    );
    ok(
        "kiln",
        &s.root,
        &[&bargs[..], &["-t", &unsigned, &ctx]].concat(),
    );
    // A wrong passphrase fails before anything is built.
    let bad = s.dir().join("bad-pass");
    std::fs::write(&bad, "wrong\n").unwrap();
    let out = run(
        "kiln",
        &s.root,
        &[
            &bargs[..],
            &[
                "-t",
                &signed,
                "--sign-by-sigstore-private-key",
                &key,
                "--sign-passphrase-file",
                bad.to_str().unwrap(),
                &ctx,
            ],
        ]
        .concat(),
    );
    assert!(!out.status.success(), "a wrong passphrase was accepted");
    for image in [&signed, &unsigned] {
        ok(
            "kiln",
            &s.root,
            &["push", "-q", "--tls-verify=false", image],
        );
    }

    let mut args = vec!["pull", "-q", "--tls-verify=false"];
    args.extend(&p);
    let fresh = s.dir().join("pulled-built");
    ok("kiln", &fresh, &[&args[..], &[signed.as_str()]].concat());
    let empty = s.dir().join("refused-built");
    let out = run("kiln", &empty, &[&args[..], &[unsigned.as_str()]].concat());
    refused(&out, &unsigned, "sigstoreSigned", &s.policy);
    store_is_empty(&empty);
    let mut rargs = vec!["pull", "--tls-verify=false"];
    rargs.extend(&p);
    let berth = s.dir().join("berth-built");
    ok("berth", &berth, &[&rargs[..], &[signed.as_str()]].concat());
}

/// Stores `sig` in the sigstore attachment of the manifest `digest` of `ADDR/REPO`, the
/// `sha256-<hex>.sig` tag as cosign writes it (through `wharf_sign::attach`, whose format the
/// GPG/sigstore tests above check against skopeo).
fn attach_signature(
    addr: &str,
    repo: &str,
    digest: &wharf_oci::Digest,
    sig: &wharf_sign::sigstore::Signature,
) {
    let client = wharf_registry::RegistryClient::new(
        addr,
        &wharf_registry::ClientOptions {
            tls_verify: Some(false),
            ..wharf_registry::ClientOptions::default()
        },
    )
    .unwrap();
    let r = wharf_oci::Reference::parse(&format!("{addr}/{repo}:1")).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(wharf_sign::attach::push(&client, &r, digest, sig))
        .unwrap();
}

/// Keyless signatures (issue 17): a `sigstoreSigned` policy with `fulcio` (CA, OIDC issuer,
/// email) and `rekorPublicKeyPath`, checked offline. The material is the testkit's own CA,
/// intermediate, short-lived leaves with Fulcio's extensions and Rekor key; signatures sit in
/// a real docker-registry as cosign attaches them. The valid one passes kiln pull, berth pull
/// and ferry copy; each forgery (wrong CA, expired at the integrated time, wrong issuer, wrong
/// email, SET by another log, SET for another payload, a payload for another digest, a
/// certificate without code signing) is refused naming the image, the requirement, the policy
/// and the failed check, with nothing stored. (Debian's skopeo has sigstore disabled, so it
/// cannot be the other party here; containers/image's real Fulcio/Rekor fixtures are checked
/// in `wharf-sign`'s unit tests.)
#[test]
fn keyless_fulcio_rekor_signatures_are_verified_offline() {
    use wharf_testkit::sigstore::{Ca, Entry, Leaf, LeafSpec, Rekor};
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr().to_owned();
    let d = tmp.path();
    let (ca, other_ca, rekor, other_rekor) = (Ca::new(), Ca::new(), Rekor::new(), Rekor::new());
    std::fs::write(d.join("fulcio.pem"), ca.root_pem()).unwrap();
    std::fs::write(d.join("rekor.pub"), rekor.public_pem()).unwrap();
    let regd = sigstore_registries_d(d);
    let spec = LeafSpec {
        email: "ci@example.com".into(),
        issuer: "https://token.actions.example.com".into(),
        not_before: 1_700_000_000,
        not_after: 1_700_000_600,
        code_signing: true,
    };
    let policy = d.join("policy.json");
    std::fs::write(
        &policy,
        serde_json::json!({
            "default": [{"type": "insecureAcceptAnything"}],
            "transports": {"docker": {format!("{a}/keyless"): [{
                "type": "sigstoreSigned",
                "fulcio": {"caPath": "fulcio.pem", "oidcIssuer": spec.issuer, "subjectEmail": spec.email},
                "rekorPublicKeyPath": "rekor.pub",
                "signedIdentity": {"type": "matchRepoDigestOrExact"}
            }]}}
        })
        .to_string(),
    )
    .unwrap();
    let policy_args = [
        "--policy".to_owned(),
        policy.display().to_string(),
        "--registries.d".to_owned(),
        regd.display().to_string(),
    ];
    let p: Vec<&str> = policy_args.iter().map(String::as_str).collect();

    let in_window = spec.not_before + 60;
    let other_digest = wharf_oci::digest::sha256(b"another manifest");
    let leaf = ca.leaf(&spec);
    let foreign = other_ca.leaf(&spec);
    let bad_issuer = ca.leaf(&LeafSpec {
        issuer: "https://evil.example".into(),
        ..spec.clone()
    });
    let bad_email = ca.leaf(&LeafSpec {
        email: "mallory@example.com".into(),
        ..spec.clone()
    });
    let no_code_signing = ca.leaf(&LeafSpec {
        code_signing: false,
        ..spec.clone()
    });
    // (repository, the check its refusal must name): each gets the image and one signature.
    let cases: Vec<(&str, &str)> = vec![
        ("good", ""),
        ("wrong-ca", "does not verify against the policy's Fulcio CA"),
        ("expired", "had expired at the Rekor integrated time"),
        ("wrong-issuer", "oidcIssuer"),
        ("wrong-email", "subjectEmail"),
        ("other-log", "not signed by the policy's Rekor public key"),
        ("other-body", "the Rekor entry logs payload"),
        ("other-digest", "the signature is for manifest"),
        ("no-code-signing", "codeSigning"),
    ];
    for (name, _) in &cases {
        let image = format!("{a}/keyless/{name}:1");
        ok(
            "ferry",
            &root,
            &[
                "copy",
                "-q",
                "--insecure-policy",
                "--dest-tls-verify=false",
                "store:localhost/busybox:latest",
                &format!("docker://{image}"),
            ],
        );
        let raw = skopeo(&[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{image}"),
        ]);
        let digest = wharf_oci::digest::sha256(raw.as_bytes());
        let payload = |d: &wharf_oci::Digest| {
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"{image}"}},"image":{{"docker-manifest-digest":"{d}"}},"type":"cosign container image signature"}},"optional":null}}"#
            )
            .into_bytes()
        };
        let (leaf, chain, payload, log, time, logged): (
            &Leaf,
            String,
            Vec<u8>,
            &Rekor,
            u64,
            Option<Vec<u8>>,
        ) = match *name {
            "wrong-ca" => (
                &foreign,
                other_ca.chain_pem(),
                payload(&digest),
                &rekor,
                in_window,
                None,
            ),
            "expired" => (
                &leaf,
                ca.chain_pem(),
                payload(&digest),
                &rekor,
                spec.not_after + 3600,
                None,
            ),
            "wrong-issuer" => (
                &bad_issuer,
                ca.chain_pem(),
                payload(&digest),
                &rekor,
                in_window,
                None,
            ),
            "wrong-email" => (
                &bad_email,
                ca.chain_pem(),
                payload(&digest),
                &rekor,
                in_window,
                None,
            ),
            "no-code-signing" => (
                &no_code_signing,
                ca.chain_pem(),
                payload(&digest),
                &rekor,
                in_window,
                None,
            ),
            "other-log" => (
                &leaf,
                ca.chain_pem(),
                payload(&digest),
                &other_rekor,
                in_window,
                None,
            ),
            "other-body" => (
                &leaf,
                ca.chain_pem(),
                payload(&digest),
                &rekor,
                in_window,
                Some(payload(&other_digest)),
            ),
            "other-digest" => (
                &leaf,
                ca.chain_pem(),
                payload(&other_digest),
                &rekor,
                in_window,
                None,
            ),
            _ => (
                &leaf,
                ca.chain_pem(),
                payload(&digest),
                &rekor,
                in_window,
                None,
            ),
        };
        let signature_b64 = leaf.sign_b64(&payload);
        let logged = logged.unwrap_or_else(|| payload.clone());
        let bundle = log.bundle(&Entry {
            cert_der: &leaf.cert_der,
            signature_b64: &signature_b64,
            payload: &logged,
            integrated_time: time,
        });
        let annotations = [
            ("dev.sigstore.cosign/certificate", leaf.cert_pem.clone()),
            ("dev.sigstore.cosign/chain", chain),
            ("dev.sigstore.cosign/bundle", bundle),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let sig = wharf_sign::sigstore::Signature {
            payload,
            signature_b64,
            annotations,
        };
        attach_signature(&a, &format!("keyless/{name}"), &digest, &sig);
    }

    // The valid signature: kiln pull, berth pull and ferry copy accept it.
    let good = format!("{a}/keyless/good:1");
    let mut pull = vec!["pull", "-q", "--tls-verify=false"];
    pull.extend(&p);
    ok(
        "kiln",
        &d.join("kiln-good"),
        &[&pull[..], &[good.as_str()]].concat(),
    );
    let mut bpull = vec!["pull", "--tls-verify=false"];
    bpull.extend(&p);
    ok(
        "berth",
        &d.join("berth-good"),
        &[&bpull[..], &[good.as_str()]].concat(),
    );
    let mut copy = vec!["copy", "-q", "--src-tls-verify=false"];
    copy.extend(&p);
    let layout = format!("oci:{}:good", d.join("layout").display());
    ok(
        "ferry",
        &root,
        &[&copy[..], &[format!("docker://{good}").as_str(), &layout]].concat(),
    );

    // Every forgery: refused by kiln pull with the failed check named, nothing stored.
    for (name, why) in cases.iter().skip(1) {
        let image = format!("{a}/keyless/{name}:1");
        let empty = d.join(format!("refused-{name}"));
        let out = run("kiln", &empty, &[&pull[..], &[image.as_str()]].concat());
        let err = refused(&out, &image, "sigstoreSigned", &policy);
        assert!(err.contains(why), "{name}: expected {why:?} in:\n{err}");
        store_is_empty(&empty);
    }
    // berth and ferry refuse a forgery the same way.
    let forged = format!("{a}/keyless/wrong-email:1");
    let empty = d.join("berth-refused");
    let out = run("berth", &empty, &[&bpull[..], &[forged.as_str()]].concat());
    refused(&out, &forged, "sigstoreSigned", &policy);
    store_is_empty(&empty);
    let out = run(
        "ferry",
        &root,
        &[
            &copy[..],
            &[
                format!("docker://{forged}").as_str(),
                &format!("oci:{}:x", d.join("refused-layout").display()),
            ],
        ]
        .concat(),
    );
    refused(&out, &forged, "sigstoreSigned", &policy);
    drop(reg);
}

/// `kiln build --sign-by FINGERPRINT` (issue 14), as buildah: the GPG signature is kept with
/// the stored image (`kiln inspect` lists it), `kiln push` writes it to the destination's
/// lookaside storage, and both skopeo's policy (gpgme, `signedBy`) and Wharf's accept the
/// pushed image; the same build unsigned is refused by both.
#[test]
fn kiln_build_sign_by_gpg_goes_to_lookaside_on_push() {
    if !have("skopeo") || !have("gpg") {
        return;
    }
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let a = reg.addr().to_owned();
    let d = tmp.path();
    let (home, fp, pubkey) = gpg_key(d);
    let (sigs, regd, policy) = gpg_lookaside(d, &format!("{a}/built"), &pubkey);
    let ctx = d.join("ctx");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nLABEL signed=gpg\n").unwrap();
    let signed = format!("{a}/built/gpg:1");
    let unsigned = format!("{a}/built/plain:1");
    let regd_s = regd.display().to_string();
    let kiln = |args: &[&str]| {
        let out = Command::new(crate::bin("kiln"))
            .env("GNUPGHOME", &home)
            .arg("--root")
            .arg(&root)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kiln {args:?}: {}",
            crate::text(&out.stderr)
        );
        crate::text(&out.stdout)
    };
    let ctx_s = ctx.display().to_string();
    kiln(&[
        "build",
        "-q",
        "--provenance=false",
        "-t",
        &signed,
        "--sign-by",
        &fp,
        &ctx_s,
    ]);
    // Another image (a build of the same context would have the same digest, and share it).
    let ctx2 = d.join("ctx2");
    std::fs::create_dir(&ctx2).unwrap();
    std::fs::write(ctx2.join("Dockerfile"), "FROM busybox\nLABEL signed=no\n").unwrap();
    kiln(&[
        "build",
        "-q",
        "--provenance=false",
        "-t",
        &unsigned,
        &ctx2.display().to_string(),
    ]);
    let inspect: serde_json::Value =
        serde_json::from_str(&kiln(&["inspect", "--type", "image", &signed])).unwrap();
    let kinds: Vec<&str> = inspect["Signatures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Type"].as_str())
        .collect();
    assert_eq!(kinds, ["simple-signing"], "{inspect}");
    for image in [&signed, &unsigned] {
        kiln(&[
            "push",
            "-q",
            "--tls-verify=false",
            "--registries.d",
            &regd_s,
            image,
        ]);
    }
    assert!(
        walk(&sigs)
            .iter()
            .any(|p| p.to_string_lossy().contains("/gpg@sha256=")),
        "no signature of {signed} under {}",
        sigs.display()
    );

    // skopeo's policy check (gpgme) accepts the pushed signature and refuses the plain build.
    let skopeo_check = |image: &str, dst: &str| {
        Command::new("skopeo")
            .args([
                "copy",
                "--remove-signatures",
                "--policy",
                policy.to_str().unwrap(),
                "--registries.d",
                &regd_s,
                "--src-tls-verify=false",
                &format!("docker://{image}"),
                &format!("oci:{}", d.join(dst).display()),
            ])
            .output()
            .unwrap()
    };
    let out = skopeo_check(&signed, "by-skopeo");
    assert!(
        out.status.success(),
        "skopeo refused: {}",
        crate::text(&out.stderr)
    );
    assert!(!skopeo_check(&unsigned, "by-skopeo-2").status.success());
    // Wharf's policy: the same.
    let pull = |image: &str, store: &Path| {
        run(
            "kiln",
            store,
            &[
                "pull",
                "-q",
                "--tls-verify=false",
                "--policy",
                policy.to_str().unwrap(),
                "--registries.d",
                &regd_s,
                image,
            ],
        )
    };
    let out = pull(&signed, &d.join("pulled"));
    assert!(out.status.success(), "{}", crate::text(&out.stderr));
    let empty = d.join("refused");
    refused(&pull(&unsigned, &empty), &unsigned, "signedBy", &policy);
    store_is_empty(&empty);

    drop(reg);
}

/// `kiln build --attest-layout=index --sign-by-sigstore-private-key`: the name points at an
/// index (the image and its attestation manifest), and `cosign sign NAME` signs what the name
/// resolves to, so both the index and the image are signed: a pull by name and a pull of the
/// image by digest pass the `sigstoreSigned` policy.
#[test]
fn attest_layout_index_signs_the_index_and_the_image() {
    let Some(s) = setup() else { return };
    let a = &s.addr;
    let p = s.policy_args();
    let p: Vec<&str> = p.iter().map(String::as_str).collect();
    let ctx = s.dir().join("ctx-index");
    std::fs::create_dir(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nLABEL layout=index\n").unwrap();
    let name = format!("{a}/sig/indexed:1");
    let mut bargs = vec!["build", "-q", "--attest-layout=index", "--provenance=min"];
    bargs.extend(&p);
    ok(
        "kiln",
        &s.root,
        &[
            &bargs[..],
            &[
                "-t",
                &name,
                "--sign-by-sigstore-private-key",
                s.key.to_str().unwrap(),
                "--sign-passphrase-file",
                s.pass.to_str().unwrap(),
                ctx.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    ok(
        "kiln",
        &s.root,
        &["push", "-q", "--tls-verify=false", &name],
    );
    let index: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{name}"),
    ]))
    .unwrap();
    let image = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["platform"]["os"] != "unknown")
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut pull = vec!["pull", "-q", "--tls-verify=false"];
    pull.extend(&p);
    ok(
        "kiln",
        &s.dir().join("by-name"),
        &[&pull[..], &[name.as_str()]].concat(),
    );
    let by_digest = format!("{a}/sig/indexed@{image}");
    ok(
        "kiln",
        &s.dir().join("by-digest"),
        &[&pull[..], &[by_digest.as_str()]].concat(),
    );
}
