//! `kiln build --sbom/--provenance`: SPDX and SLSA statements attached to the built image as an
//! OCI 1.1 referrer in the store; what they list, what they must never hold, that they are
//! reproducible and leave the image manifest alone, that hostile package databases are
//! reported and never followed out of the image, and that they go with their image.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::Digest as _;
use wharf_testkit::schema::{Kind, validate};

use crate::{busybox_store, have, ok, run, text};

const DPKG_STATUS: &str = "\
Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 340
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u5
Replaces: base, dpkg (<= 1.15.0), miscutils
Provides: base
Conffiles:
 /etc/debian_version 9b6fc4d7ef8a2e6fbf5b6a5b34ee2c1b
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system.
Homepage: https://tracker.debian.org/pkg/base-files

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12986
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u7
Depends: libgcc-s1
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs.
Homepage: https://www.gnu.org/software/libc/libc.html

Package: tzdata
Status: deinstall ok config-files
Architecture: all
Version: 2024a-0+deb12u1
Description: time zone and daylight-saving time data

Package: zlib1g
Status: install ok installed
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime
";

const APK_INSTALLED: &str = "\
C:Q1p78yvTLG094tHE1+dToJGbmYzQE=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407278
I:663552
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>

C:Q1eOcuCh32OtKI6C2mHdUfKb9P6aQ=
P:busybox
V:1.36.1-r15
A:x86_64
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
";

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(b))
}

/// A build context with the package databases and files to COPY, and a Dockerfile that
/// writes the databases from the context (COPY) and one more file in a RUN.
fn context(dir: &Path, dockerfile: &str) -> PathBuf {
    let ctx = dir.join("ctx");
    std::fs::create_dir_all(ctx.join("db")).unwrap();
    std::fs::create_dir_all(ctx.join("app/conf")).unwrap();
    std::fs::write(ctx.join("db/status"), DPKG_STATUS).unwrap();
    std::fs::write(ctx.join("db/installed"), APK_INSTALLED).unwrap();
    std::fs::write(ctx.join("app/run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::write(ctx.join("app/conf/app.toml"), "port = 8080\n").unwrap();
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    ctx
}

const DOCKERFILE: &str = "\
FROM busybox
ARG VERSION=1
ARG DEPLOY_TOKEN
COPY db/status /var/lib/dpkg/status
COPY db/installed /lib/apk/db/installed
RUN mkdir -p /etc && printf 'ID=debian\\nVERSION_ID=\"12\"\\n' > /etc/os-release
COPY app/ /srv/app/
RUN --mount=type=secret,id=api cat /run/secrets/api > /dev/null && echo v=$VERSION > /version
";

/// Every in-toto statement attached to `image`, from the store's layout read directly (the
/// convention: index.json entries with artifactType and no ref name whose subject is the
/// image), keyed by predicate type; also the attestation manifest and its digest.
fn attestations(root: &Path, image: &str) -> (String, Value, Vec<(String, Value, String)>) {
    let index: Value =
        serde_json::from_slice(&std::fs::read(root.join("oci/index.json")).unwrap()).unwrap();
    let subject = image_digest(root, image);
    let blob = |d: &str| std::fs::read(root.join("oci/blobs/sha256").join(&d[7..])).unwrap();
    let mut found = Vec::new();
    for d in index["manifests"].as_array().unwrap() {
        if d.get("artifactType").is_none() {
            continue;
        }
        assert!(
            d["annotations"]["org.opencontainers.image.ref.name"].is_null(),
            "a referrer entry carries a name: {d}"
        );
        let digest = d["digest"].as_str().unwrap().to_owned();
        let manifest: Value = serde_json::from_slice(&blob(&digest)).unwrap();
        if manifest["subject"]["digest"] == subject.as_str() {
            found.push((digest, manifest));
        }
    }
    assert_eq!(
        found.len(),
        1,
        "attestation manifests of {image}: {found:?}"
    );
    let (digest, manifest) = found.pop().unwrap();
    let statements = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let d = l["digest"].as_str().unwrap();
            let bytes = blob(d);
            assert_eq!(format!("sha256:{}", sha256_hex(&bytes)), d);
            (
                l["annotations"]["in-toto.io/predicate-type"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                serde_json::from_slice(&bytes).unwrap(),
                d.to_owned(),
            )
        })
        .collect();
    (digest, manifest, statements)
}

fn image_digest(root: &Path, image: &str) -> String {
    let v: Value = serde_json::from_str(&ok("kiln", root, &["inspect", image])).unwrap();
    v["ManifestDigest"]
        .as_str()
        .or_else(|| v["Digest"].as_str())
        .unwrap_or_else(|| panic!("no manifest digest in kiln inspect: {v}"))
        .to_owned()
}

fn build(root: &Path, ctx: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["build", "-t", "app"];
    args.extend_from_slice(extra);
    args.push(ctx.to_str().unwrap());
    let out = run("kiln", root, &args);
    assert!(out.status.success(), "kiln {args:?}: {}", text(&out.stderr));
    out
}

#[test]
fn sbom_lists_dpkg_and_apk_packages_and_copied_files() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let ctx = context(tmp.path(), DOCKERFILE);
    let secret = tmp.path().join("api.txt");
    std::fs::write(&secret, "x").unwrap();
    let spec = format!("id=api,src={}", secret.display());
    build(
        &root,
        &ctx,
        &["--sbom", "--secret", &spec, "--timestamp", "1700000000"],
    );

    let (_, manifest, statements) = attestations(&root, "app");
    validate(Kind::Manifest, &manifest).unwrap();
    assert_eq!(manifest["artifactType"], "application/vnd.in-toto+json");
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(manifest["config"]["size"], 2);
    assert_eq!(
        manifest["subject"]["digest"],
        image_digest(&root, "app").as_str()
    );
    let kinds: Vec<&str> = statements.iter().map(|(k, ..)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "https://spdx.dev/Document",
            "https://slsa.dev/provenance/v1"
        ]
    );
    let (_, statement, _) = &statements[0];
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v0.1");
    assert_eq!(statement["predicateType"], "https://spdx.dev/Document");
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        image_digest(&root, "app")["sha256:".len()..]
    );
    let doc = &statement["predicate"];
    // SPDX 2.3's required document fields.
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["dataLicense"], "CC0-1.0");
    assert_eq!(doc["SPDXID"], "SPDXRef-DOCUMENT");
    assert!(doc["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(
        doc["documentNamespace"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    assert_eq!(doc["creationInfo"]["created"], "2023-11-14T22:13:20Z");
    assert!(
        doc["creationInfo"]["creators"][0]
            .as_str()
            .unwrap()
            .starts_with("Tool: ")
    );
    let packages = doc["packages"].as_array().unwrap();
    let mut ids = std::collections::HashSet::new();
    for p in packages {
        for field in ["name", "SPDXID", "downloadLocation"] {
            assert!(p[field].is_string(), "package without {field}: {p}");
        }
        assert_eq!(p["filesAnalyzed"], false);
        assert!(ids.insert(p["SPDXID"].as_str().unwrap().to_owned()));
    }
    let purls: Vec<(&str, &str, &str)> = packages
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["versionInfo"].as_str().unwrap(),
                p["externalRefs"][0]["referenceLocator"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        purls,
        [
            (
                "base-files",
                "12.4+deb12u5",
                "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12"
            ),
            (
                "libc6",
                "2.36-9+deb12u7",
                "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc"
            ),
            (
                "zlib1g",
                "1:1.2.13.dfsg-1",
                "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib"
            ),
            (
                "busybox",
                "1.36.1-r15",
                "pkg:apk/debian/busybox@1.36.1-r15?arch=x86_64&distro=debian-12"
            ),
            (
                "musl",
                "1.2.4_git20230717-r4",
                "pkg:apk/debian/musl@1.2.4_git20230717-r4?arch=x86_64&distro=debian-12"
            ),
        ],
        "a deinstalled package (tzdata) is not listed"
    );
    // The files COPY put in the image, with their digests; not the base's or RUN's.
    let files: Vec<(String, String)> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(f["SPDXID"].is_string());
            let sums = f["checksums"].as_array().unwrap();
            assert!(sums.iter().any(|c| c["algorithm"] == "SHA1"), "{f}");
            let sha = sums.iter().find(|c| c["algorithm"] == "SHA256").unwrap();
            (
                f["fileName"].as_str().unwrap().to_owned(),
                sha["checksumValue"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("/lib/apk/db/installed", APK_INSTALLED.as_bytes()),
        ("/srv/app/conf/app.toml", b"port = 8080\n"),
        ("/srv/app/run.sh", b"#!/bin/sh\necho hi\n"),
        ("/var/lib/dpkg/status", DPKG_STATUS.as_bytes()),
    ]
    .iter()
    .map(|(p, b)| ((*p).to_owned(), sha256_hex(b)))
    .collect();
    assert_eq!(files, want);
    let rels = doc["relationships"].as_array().unwrap();
    assert_eq!(rels.len(), packages.len() + files.len());

    // What `kiln inspect --sbom` prints is that statement; the referrer is no image.
    let printed: Value =
        serde_json::from_str(&ok("kiln", &root, &["inspect", "--sbom", "app"])).unwrap();
    assert_eq!(&printed, statement);
    let images = ok("kiln", &root, &["images", "--format", "{{.Repository}}"]);
    assert_eq!(images.lines().count(), 2, "{images}");

    // CycloneDX on request.
    build(
        &root,
        &ctx,
        &["--sbom=cyclonedx", "--secret", &spec, "--provenance=false"],
    );
    let cdx: Value =
        serde_json::from_str(&ok("kiln", &root, &["inspect", "--sbom", "app"])).unwrap();
    assert_eq!(cdx["predicateType"], "https://cyclonedx.org/bom");
    assert_eq!(cdx["predicate"]["specVersion"], "1.5");
    assert!(
        cdx["predicate"]["components"]
            .to_string()
            .contains("pkg:deb/debian/libc6@")
    );
}

#[test]
fn provenance_keeps_secrets_out_is_reproducible_and_leaves_the_image_alone() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let ctx = context(tmp.path(), DOCKERFILE);
    let secret_value = "s3cr3t-from-a-file-7f1d0c";
    let arg_value = "tok-from-a-build-arg-93bb21";
    let secret = tmp.path().join("api.txt");
    std::fs::write(&secret, secret_value).unwrap();
    let spec = format!("id=api,src={}", secret.display());
    let arg = format!("DEPLOY_TOKEN={arg_value}");
    let common = [
        "--secret",
        &spec,
        "--build-arg",
        "VERSION=42",
        "--build-arg",
        &arg,
        "--timestamp",
        "1700000000",
    ];
    let with = |mode: &'static str| {
        let mut a = common.to_vec();
        a.push(mode);
        a
    };
    build(&root, &ctx, &with("--provenance=max"));
    let base = image_digest(&root, "busybox");
    let app = image_digest(&root, "app");
    let (att_max, _, statements) = attestations(&root, "app");
    assert_eq!(statements.len(), 1);
    let (kind, max, _) = &statements[0];
    assert_eq!(kind, "https://slsa.dev/provenance/v1");
    let p = &max["predicate"];
    assert_eq!(
        p["buildDefinition"]["externalParameters"]["request"]["args"]["build-arg:VERSION"],
        "42"
    );
    let deps = p["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    assert_eq!(deps.len(), 1, "the base once: {deps:?}");
    assert!(
        deps.iter().any(|d| d["uri"].as_str().unwrap()
            == "pkg:docker/localhost/busybox@latest?platform=linux%2Famd64"
            && d["digest"]["sha256"] == base["sha256:".len()..]),
        "{deps:?}"
    );
    assert_eq!(
        p["buildDefinition"]["externalParameters"]["configSource"]["digest"]["sha256"],
        sha256_hex(DOCKERFILE.as_bytes())
    );
    assert_eq!(
        p["runDetails"]["metadata"]["startedOn"],
        "2023-11-14T22:13:20Z"
    );
    assert!(p["runDetails"]["builder"]["id"].is_string());
    // max: the Dockerfile and its steps.
    let steps = p["buildDefinition"]["internalParameters"]["buildConfig"]["steps"]
        .as_array()
        .unwrap();
    assert_eq!(steps.len(), DOCKERFILE.lines().count());
    assert!(
        p["runDetails"]["metadata"]["buildkit_metadata"]["source"]["infos"][0]["data"].is_string()
    );
    let text_of = |v: &Value| v.to_string();
    assert!(
        !text_of(max).contains(arg_value),
        "the secret build-arg leaked: {max}"
    );
    assert!(
        text_of(max).contains("DEPLOY_TOKEN"),
        "the redacted arg is not named"
    );

    // The attack: the secret's value is nowhere in the store's blobs.
    let mut hits = Vec::new();
    for e in std::fs::read_dir(root.join("oci/blobs/sha256")).unwrap() {
        let path = e.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if bytes
            .windows(secret_value.len())
            .any(|w| w == secret_value.as_bytes())
        {
            hits.push(path);
        }
    }
    assert!(hits.is_empty(), "the --secret value is in {hits:?}");

    // min: no Dockerfile source, no steps.
    build(&root, &ctx, &with("--provenance=min"));
    let (att_min, _, statements) = attestations(&root, "app");
    let min = &statements[0].1["predicate"];
    assert!(min["buildDefinition"]["internalParameters"]["buildConfig"].is_null());
    assert!(min["runDetails"]["metadata"]["buildkit_metadata"].is_null());
    assert!(!statements[0].1.to_string().contains(arg_value));
    assert_ne!(att_min, att_max);
    // The default is min, and the rebuild replaced what kiln attached before.
    build(&root, &ctx, &common);
    let (att_default, ..) = attestations(&root, "app");
    assert_eq!(att_default, att_min);
    assert_eq!(image_digest(&root, "app"), app);

    // Built again from scratch with the same inputs: the same attestation, byte for byte;
    // and without attestations the image manifest is the same.
    let mut again = with("--provenance=max");
    again.push("--no-cache");
    build(&root, &ctx, &again);
    assert_eq!(attestations(&root, "app").0, att_max);
    let mut plain = with("--provenance=false");
    plain.push("--no-cache");
    build(&root, &ctx, &plain);
    assert_eq!(image_digest(&root, "app"), app);

    let Some((tmp3, root3)) = busybox_store() else {
        return;
    };
    let ctx3 = context(tmp3.path(), DOCKERFILE);
    build(&root3, &ctx3, &with("--provenance=false"));
    let index = std::fs::read_to_string(root3.join("oci/index.json")).unwrap();
    assert!(!index.contains("artifactType"), "{index}");
    // buildx's switch for the default.
    let out = Command::new(crate::bin("kiln"))
        .arg("--root")
        .arg(&root3)
        .args([
            "build",
            "-t",
            "app2",
            "--timestamp",
            "1700000000",
            "--secret",
            &spec,
        ])
        .arg(&ctx3)
        .env("BUILDX_NO_DEFAULT_ATTESTATIONS", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let index = std::fs::read_to_string(root3.join("oci/index.json")).unwrap();
    assert!(!index.contains("artifactType"), "{index}");
}

#[test]
fn hostile_package_databases_warn_and_never_leave_the_image() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    // A host file with a valid database: the image's links point at it.
    let host = tmp.path().join("host-status");
    std::fs::write(
        &host,
        "Package: host-only-package\nStatus: install ok installed\nVersion: 1\n\n",
    )
    .unwrap();
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    let mut garbage = b"P:ok-pkg\nV:1.0\nT:".to_vec();
    garbage.extend(std::iter::repeat_n(b'A', 4 << 20));
    garbage.extend(b"\n\n\xff\xfe\x00garbage\n:\nP:\xc3\x28bad\nV:\xff2\n\n");
    garbage.extend((0..5000).flat_map(|i| format!("junk line {i}\n").into_bytes()));
    std::fs::write(ctx.join("apk-garbage"), &garbage).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM busybox\n\
             COPY apk-garbage /lib/apk/db/installed\n\
             RUN mkdir -p /var/lib/dpkg/status.d \
             && ln -s {host} /var/lib/dpkg/status \
             && ln -s ../../../../../../../../..{host} /var/lib/dpkg/status.d/evil \
             && ln -s /etc/shadow /var/lib/dpkg/status.d/shadow\n",
            host = host.display()
        ),
    )
    .unwrap();
    let out = build(&root, &ctx, &["--sbom", "--provenance=false"]);
    let stderr = text(&out.stderr);
    let (_, _, statements) = attestations(&root, "app");
    let doc = statements[0].1.to_string();
    assert!(
        !doc.contains("host-only-package"),
        "read outside the image: {doc}"
    );
    assert!(doc.contains("pkg:apk/alpine/ok-pkg@1.0"), "{doc}");
    for warned in [
        "/var/lib/dpkg/status is a symbolic link",
        "/var/lib/dpkg/status.d/evil is a symbolic link",
        "/var/lib/dpkg/status.d/shadow is a symbolic link",
        "/lib/apk/db/installed in the image has invalid UTF-8",
    ] {
        assert!(stderr.contains(warned), "no warning {warned:?}:\n{stderr}");
    }
    assert!(
        doc.len() < 1 << 20,
        "the huge field was kept: {} bytes",
        doc.len()
    );
}

#[test]
fn attestations_go_with_their_image_and_the_layout_stays_readable() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("skopeo") || !have("umoci") {
        return;
    }
    let ctx = context(tmp.path(), DOCKERFILE);
    let secret = tmp.path().join("api.txt");
    std::fs::write(&secret, "x").unwrap();
    let spec = format!("id=api,src={}", secret.display());
    build(&root, &ctx, &["--sbom", "--secret", &spec]);
    let (att, manifest, statements) = attestations(&root, "app");
    let layout = root.join("oci");
    // Peers read the store's layout with the referrer in it.
    let raw = Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("oci:{}:localhost/app:latest", layout.display()))
        .output()
        .unwrap();
    assert!(raw.status.success(), "skopeo: {}", text(&raw.stderr));
    assert_eq!(
        format!("sha256:{}", sha256_hex(&raw.stdout)),
        image_digest(&root, "app")
    );
    let ls = Command::new("umoci")
        .args(["ls", "--layout"])
        .arg(&layout)
        .output()
        .unwrap();
    assert!(ls.status.success(), "umoci ls: {}", text(&ls.stderr));
    let mut names: Vec<String> = text(&ls.stdout).lines().map(str::to_owned).collect();
    names.sort();
    assert_eq!(names, ["localhost/app:latest", "localhost/busybox:latest"]);
    let bundle = tmp.path().join("bundle");
    let unpack = Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:localhost/app:latest", layout.display()))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        unpack.status.success(),
        "umoci unpack: {}",
        text(&unpack.stderr)
    );

    // ferry prints them from the store and from the layout.
    for image in [
        "store:localhost/app:latest".to_owned(),
        format!("oci:{}:localhost/app:latest", layout.display()),
    ] {
        let printed: Value =
            serde_json::from_str(&ok("ferry", &root, &["inspect", "--attestations", &image]))
                .unwrap();
        let want: Vec<&Value> = statements.iter().map(|(_, s, _)| s).collect();
        assert_eq!(printed, serde_json::to_value(want).unwrap(), "{image}");
    }

    // gc keeps them while the image lives...
    ok("kiln", &root, &["system", "prune"]);
    let blob = |d: &str| root.join("oci/blobs/sha256").join(&d[7..]);
    assert!(blob(&att).exists());
    // ...and rmi takes them with it.
    ok("kiln", &root, &["rmi", "app"]);
    assert!(
        !blob(&att).exists(),
        "the attestation manifest outlived its image"
    );
    for (_, _, layer) in &statements {
        assert!(!blob(layer).exists(), "a statement outlived its image");
    }
    assert!(!blob(manifest["subject"]["digest"].as_str().unwrap()).exists());
    let index = std::fs::read_to_string(layout.join("index.json")).unwrap();
    assert!(!index.contains(&att), "{index}");
    let check = run("kiln", &root, &["system", "check"]);
    assert!(check.status.success(), "{}", text(&check.stdout));
}

/// A rootless build (its own user namespace, whatever isolation it picks) attaches the same
/// SBOM: it is read from the layer blobs, not from a mounted root.
#[test]
fn rootless_build_attaches_an_sbom() {
    let Some(user) = wharf_testkit::user::test_user() else {
        eprintln!("SKIP: no unprivileged test user (needs root to create it)");
        return;
    };
    if !wharf_testkit::busybox::available() {
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("kiln-attest")
        .tempdir_in("/tmp")
        .unwrap();
    let tar = wharf_testkit::busybox::rootfs_tar(tmp.path()).unwrap();
    let ctx = context(
        tmp.path(),
        "FROM busybox\nCOPY db/status /var/lib/dpkg/status\n",
    );
    let root = tmp.path().join("store");
    user.chown(tmp.path());
    let as_user = |bin: &str, args: &[&str]| {
        let out = user
            .command(crate::bin(bin))
            .arg("--root")
            .arg(&root)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{bin} {args:?}: {}",
            text(&out.stderr)
        );
        out
    };
    as_user("berth", &["import", tar.to_str().unwrap(), "busybox"]);
    as_user(
        "kiln",
        &["build", "--sbom", "-t", "app", ctx.to_str().unwrap()],
    );
    let out = as_user("kiln", &["inspect", "--sbom", "app"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = doc["predicate"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["base-files", "libc6", "zlib1g"]);
}

/// ADD of a URL: the provenance names it with the digest of what it served, and the SBOM
/// lists the file it became.
#[test]
fn add_urls_are_dependencies_and_their_files_are_listed() {
    const BODY: &[u8] = b"a downloaded tool\n";
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let port = crate::build_copy::serve_file(BODY);
    let url = format!("http://127.0.0.1:{port}/files/tool.txt");
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM busybox\nADD {url} /opt/tool.txt\n"),
    )
    .unwrap();
    build(
        &root,
        &ctx,
        &[
            "--attest",
            "type=sbom",
            "--attest",
            "type=provenance,mode=min",
        ],
    );
    let (_, _, statements) = attestations(&root, "app");
    let (_, sbom, _) = &statements[0];
    let files = &sbom["predicate"]["files"];
    assert_eq!(files[0]["fileName"], "/opt/tool.txt", "{files}");
    assert_eq!(files[0]["checksums"][1]["checksumValue"], sha256_hex(BODY));
    let (_, provenance, _) = &statements[1];
    let deps = provenance["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    assert!(
        deps.iter()
            .any(|d| d["uri"] == url.as_str() && d["digest"]["sha256"] == sha256_hex(BODY)),
        "{deps:?}"
    );
}

/// `--platform LIST`: each platform's image gets its own attestation (subject and platform its
/// own), `kiln inspect --sbom LIST` shows this host's, and removing the list removes them all.
#[test]
fn each_platform_image_of_a_list_gets_its_attestations() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("data.txt"), "data\n").unwrap();
    // FROM scratch and COPY only: no emulation needed for the foreign platform.
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY data.txt /data.txt\n",
    )
    .unwrap();
    let out = run(
        "kiln",
        &root,
        &[
            "build",
            "--sbom",
            "--platform",
            "linux/amd64,linux/arm64",
            "-t",
            "multi",
            ctx.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: Value = serde_json::from_slice(
        &std::fs::read(
            root.join("oci/blobs/sha256")
                .join(&image_digest(&root, "multi")[7..]),
        )
        .unwrap(),
    )
    .unwrap();
    let mut subjects = Vec::new();
    for child in list["manifests"].as_array().unwrap() {
        let digest = child["digest"].as_str().unwrap();
        let arch = child["platform"]["architecture"].as_str().unwrap();
        let index: Value =
            serde_json::from_slice(&std::fs::read(root.join("oci/index.json")).unwrap()).unwrap();
        let refs: Vec<&Value> = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d.get("artifactType").is_some())
            .filter(|d| {
                let m: Value = serde_json::from_slice(
                    &std::fs::read(
                        root.join("oci/blobs/sha256")
                            .join(&d["digest"].as_str().unwrap()[7..]),
                    )
                    .unwrap(),
                )
                .unwrap();
                m["subject"]["digest"] == digest
            })
            .collect();
        assert_eq!(refs.len(), 1, "attestations of the {arch} image: {refs:?}");
        subjects.push((digest.to_owned(), arch.to_owned()));
    }
    assert_eq!(subjects.len(), 2);
    let sbom: Value =
        serde_json::from_str(&ok("kiln", &root, &["inspect", "--sbom", "multi"])).unwrap();
    let host = subjects.iter().find(|(_, a)| a == "amd64").unwrap();
    assert_eq!(sbom["subject"][0]["digest"]["sha256"], host.0[7..]);
    assert_eq!(
        sbom["subject"][0]["name"],
        "pkg:docker/localhost/multi@latest?platform=linux%2Famd64"
    );
    assert_eq!(sbom["predicate"]["files"][0]["fileName"], "/data.txt");
    // The platform images outlive the list as unnamed images (as buildah's), and their
    // attestations with them; pruning them takes the attestations too.
    ok("kiln", &root, &["rmi", "multi"]);
    ok("kiln", &root, &["system", "prune"]);
    let index = std::fs::read_to_string(root.join("oci/index.json")).unwrap();
    assert!(!index.contains("artifactType"), "{index}");
    assert_eq!(
        std::fs::read_dir(root.join("oci/blobs/sha256"))
            .unwrap()
            .count(),
        0,
        "blobs left after the prune"
    );
}

/// `--attest-layout=index`: BuildKit's layout, the name points at an index of the image and
/// its attestation manifest (platform unknown/unknown, the docker reference annotations).
#[test]
fn the_index_layout_holds_the_image_and_its_attestation_manifest() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    let ctx = context(
        tmp.path(),
        "FROM busybox\nCOPY db/status /var/lib/dpkg/status\n",
    );
    build(&root, &ctx, &["--sbom", "--attest-layout=index"]);
    let att = attestations_of_index(&root);
    let printed: Value =
        serde_json::from_str(&ok("kiln", &root, &["inspect", "--sbom", "app"])).unwrap();
    assert_eq!(printed["predicateType"], "https://spdx.dev/Document");
    assert!(att.starts_with("sha256:"));
    // skopeo reads the name as that index.
    if have("skopeo") {
        let raw = Command::new("skopeo")
            .args(["inspect", "--raw"])
            .arg(format!(
                "oci:{}:localhost/app:latest",
                root.join("oci").display()
            ))
            .output()
            .unwrap();
        assert!(raw.status.success(), "skopeo: {}", text(&raw.stderr));
        assert_eq!(
            format!("sha256:{}", sha256_hex(&raw.stdout)),
            image_digest(&root, "app")
        );
    }
}

/// The index `app` names, validated; returns the attestation entry's digest.
fn attestations_of_index(root: &Path) -> String {
    let digest = image_digest(root, "app");
    let index: Value = serde_json::from_slice(
        &std::fs::read(root.join("oci/blobs/sha256").join(&digest[7..])).unwrap(),
    )
    .unwrap();
    validate(Kind::Index, &index).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{index}");
    assert_eq!(entries[0]["platform"]["os"], "linux");
    let image = entries[0]["digest"].as_str().unwrap().to_owned();
    assert_eq!(entries[1]["platform"]["os"], "unknown");
    assert_eq!(entries[1]["platform"]["architecture"], "unknown");
    assert_eq!(
        entries[1]["annotations"]["vnd.docker.reference.type"],
        "attestation-manifest"
    );
    assert_eq!(
        entries[1]["annotations"]["vnd.docker.reference.digest"],
        image.as_str()
    );
    entries[1]["digest"].as_str().unwrap().to_owned()
}
