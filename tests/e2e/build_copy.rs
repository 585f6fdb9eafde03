//! `kiln build` COPY/ADD options: --exclude, --parents, --link, heredoc sources, ADD of an
//! http(s) URL (served by a tiny in-test HTTP server, the content source) with --checksum, and
//! ADD of bzip2 and xz archives. The test reads the image tree.

use std::path::Path;
use std::process::Command;

use crate::build::{inspect, text, unpack};
use crate::build_instr::{context, kiln_env, kiln_ok};
use crate::{busybox_store, have};

/// A tiny HTTP/1.1 server for ADD URLs (the content source, not a registry): serves `body` at
/// `/files/tool.txt` with a Last-Modified time, 404 elsewhere. Returns the port.
pub(crate) fn serve_file(body: &'static [u8]) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let head = if request.starts_with("GET /files/tool.txt ") {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\nConnection: close\r\n\r\n",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned()
            };
            let _ = conn.write_all(head.as_bytes());
            if head.starts_with("HTTP/1.1 200") {
                let _ = conn.write_all(body);
            }
        }
    });
    port
}

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    text(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn copy_add_exclude_parents_link_heredocs_urls_and_archives() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    const BODY: &[u8] = b"downloaded tool\n";
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") || !have("bzip2") || !have("xz") {
        return;
    }
    let port = serve_file(BODY).to_string();
    let ctx = crate::build::copy_context("copy", tmp.path());
    // bzip2 and xz tars, made on the spot.
    let inner = tmp.path().join("archive-src/inner");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(inner.join("hello.txt"), "from an archive\n").unwrap();
    for (flag, name) in [("-j", "data.tar.bz2"), ("-J", "data.tar.xz")] {
        let st = Command::new("tar")
            .arg("-C")
            .arg(tmp.path().join("archive-src"))
            .arg(flag)
            .arg("-cf")
            .arg(ctx.join(name))
            .arg("inner")
            .status()
            .unwrap();
        assert!(st.success());
    }
    let body_file = tmp.path().join("body");
    std::fs::write(&body_file, BODY).unwrap();
    let template = std::fs::read_to_string(ctx.join("Dockerfile.in")).unwrap();
    let write_dockerfile = |sum: &str| {
        let df = template.replace("@PORT@", &port).replace("@SUM@", sum);
        std::fs::write(ctx.join("Dockerfile"), df).unwrap();
    };
    write_dockerfile(&format!("sha256:{}", sha256_hex(&body_file)));
    kiln_ok(&root, &["build", "-t", "c", ctx.to_str().unwrap()], &[]);
    let rootfs = unpack(&root, "localhost/c:latest", tmp.path());
    let read =
        |p: &str| std::fs::read_to_string(rootfs.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    // --exclude: on wildcard matches, and inside a directory source.
    assert_eq!(read("ex/hom2.md"), "two\n");
    assert!(!rootfs.join("ex/hom1.txt").exists() && !rootfs.join("ex/homx.txt").exists());
    assert_eq!(read("app/main.rs"), "fn main() {}\n");
    assert_eq!(read("app/doc/keep.md"), "keep\n");
    assert!(!rootfs.join("app/readme.txt").exists());
    assert!(!rootfs.join("app/doc/x.log").exists());
    // --parents keeps the source's directories.
    assert_eq!(read("par/a/b/f.txt"), "f\n");
    assert_eq!(read("par/a/c/g.txt"), "g\n");
    assert!(!rootfs.join("par/f.txt").exists());
    assert_eq!(read("linked/hom2.md"), "two\n");
    // Heredocs: expanded unless the delimiter is quoted; <<- strips tabs.
    assert_eq!(read("etc/greeting"), "hello world\n");
    assert_eq!(read("docs/RAW"), "raw $NAME\n");
    assert_eq!(read("docs/TABS"), "tabbed\n");
    // ADD URL: named after the URL or the destination, 0600, Last-Modified as mtime.
    for p in ["dl/tool.txt", "dl/renamed.bin"] {
        assert_eq!(read(p), "downloaded tool\n");
        let m = std::fs::metadata(rootfs.join(p)).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o600, "{p}");
        assert_eq!(m.mtime(), 1_445_412_480, "{p}");
    }
    // bzip2 and xz tars are unpacked.
    assert_eq!(read("bz/inner/hello.txt"), "from an archive\n");
    assert_eq!(read("xz/inner/hello.txt"), "from an archive\n");

    // A wrong --checksum fails the ADD, naming its line.
    write_dockerfile(&format!("sha256:{}", "0".repeat(64)));
    let out = kiln_env(&root, &["build", "-t", "bad", ctx.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("Dockerfile:16: ADD --checksum"), "{err}");
    assert!(err.contains("checksum mismatch"), "{err}");

    // --link gives the very same layer as a plain COPY.
    let diff_ids = |dockerfile: &str, tag: &str| {
        let dir = context(tmp.path(), tag, dockerfile);
        std::fs::write(dir.join("f.txt"), "same\n").unwrap();
        kiln_ok(
            &root,
            &[
                "build",
                "--timestamp",
                "1700000000",
                "-t",
                tag,
                dir.to_str().unwrap(),
            ],
            &[],
        );
        inspect(&root, tag)["Config"]["rootfs"]["diff_ids"].clone()
    };
    assert_eq!(
        diff_ids("FROM busybox\nCOPY --link f.txt /x/\n", "link"),
        diff_ids("FROM busybox\nCOPY f.txt /x/\n", "nolink")
    );
}

/// Hard links of the context copied by one source stay one inode (BuildKit's fsutil copy links
/// them; git cannot hold them, so not an equivalence case): the layer carries a hard link
/// entry, which umoci unpacks as a link. Two sources are two copies, their links apart.
#[test]
fn copy_keeps_hard_links_of_the_context() {
    use std::os::unix::fs::MetadataExt;
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let ctx = context(
        tmp.path(),
        "links",
        "FROM busybox\nCOPY dir /w/\nCOPY dir/a.txt dir/sub/b.txt /two/\n",
    );
    std::fs::create_dir_all(ctx.join("dir/sub")).unwrap();
    std::fs::write(ctx.join("dir/a.txt"), "linked\n").unwrap();
    std::fs::hard_link(ctx.join("dir/a.txt"), ctx.join("dir/sub/b.txt")).unwrap();
    kiln_ok(
        &root,
        &["build", "-q", "-t", "links", ctx.to_str().unwrap()],
        &[],
    );
    let rootfs = unpack(&root, "localhost/links:latest", tmp.path());
    let ino = |p: &str| std::fs::metadata(rootfs.join(p)).unwrap().ino();
    assert_eq!(
        ino("w/a.txt"),
        ino("w/sub/b.txt"),
        "the link group was split"
    );
    assert_eq!(
        std::fs::metadata(rootfs.join("w/a.txt")).unwrap().nlink(),
        2
    );
    assert_ne!(ino("two/a.txt"), ino("two/b.txt"));
}

/// `ADD --unpack=true URL` (Dockerfile 1.17) unpacks a downloaded archive as a local one would
/// be; without it the download is kept as a file; `--unpack=false` keeps a local archive.
#[test]
fn add_unpack_flag_for_urls_and_local_archives() {
    let Some((tmp, root)) = busybox_store() else {
        return;
    };
    if !have("umoci") {
        return;
    }
    let src = tmp.path().join("src/inner");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("hello.txt"), "from a download\n").unwrap();
    let tgz = tmp.path().join("a.tar.gz");
    let st = Command::new("tar")
        .arg("-C")
        .arg(tmp.path().join("src"))
        .arg("-czf")
        .arg(&tgz)
        .arg("inner")
        .status()
        .unwrap();
    assert!(st.success());
    let body: &'static [u8] = Box::leak(std::fs::read(&tgz).unwrap().into_boxed_slice());
    let port = serve_file(body);
    let ctx = tmp.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::copy(&tgz, ctx.join("local.tar.gz")).unwrap();
    let url = format!("http://127.0.0.1:{port}/files/tool.txt");
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM busybox\nADD --unpack=true {url} /unpacked/\nADD {url} /plain/\n\
             ADD --unpack=false local.tar.gz /kept/\nADD local.tar.gz /local/\n"
        ),
    )
    .unwrap();
    kiln_ok(
        &root,
        &["build", "-q", "-t", "u", ctx.to_str().unwrap()],
        &[],
    );
    let rootfs = unpack(&root, "localhost/u:latest", tmp.path());
    assert_eq!(
        std::fs::read_to_string(rootfs.join("unpacked/inner/hello.txt")).unwrap(),
        "from a download\n"
    );
    assert_eq!(std::fs::read(rootfs.join("plain/tool.txt")).unwrap(), body);
    assert_eq!(
        std::fs::read(rootfs.join("kept/local.tar.gz")).unwrap(),
        body
    );
    assert!(rootfs.join("local/inner/hello.txt").is_file());
}

/// The layers of a COPY are pinned byte for byte (with `--timestamp`), so a change to how
/// they are written (parallel gzip, stored blocks, the copy itself) cannot move a digest
/// unnoticed. The text layer's digest is the one kiln gave before incompressible blocks were
/// stored (issue 15 §2); the random file's layer changed then, on purpose: it is now stored
/// deflate blocks, 411 bytes larger and ~10x cheaper to make. Diff IDs never changed.
#[test]
fn copy_layer_digests_are_pinned() {
    use std::fmt::Write as _;
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let ctx = context(
        tmp.path(),
        "pin",
        "FROM scratch\nCOPY app /app/\nCOPY noise.bin /noise/\n",
    );
    std::fs::create_dir_all(ctx.join("app/bin")).unwrap();
    std::fs::write(ctx.join("app/hello.txt"), "hello, pinned layer\n").unwrap();
    let mut lines = String::new();
    for i in 0..100_000 {
        writeln!(lines, "line {i:06} of the pinned layer").unwrap();
    }
    std::fs::write(ctx.join("app/lines.txt"), lines).unwrap();
    std::fs::write(ctx.join("app/bin/run.sh"), "#!/bin/sh\necho run\n").unwrap();
    std::os::unix::fs::symlink("hello.txt", ctx.join("app/link")).unwrap();
    // xorshift64: 2 MiB that no deflate level can shrink.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..2 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[3]
        })
        .collect();
    std::fs::write(ctx.join("noise.bin"), noise).unwrap();
    let mode = |p: &str, m: u32| {
        std::fs::set_permissions(ctx.join(p), std::fs::Permissions::from_mode(m)).unwrap();
    };
    for d in [".", "app", "app/bin", "app/bin/run.sh"] {
        mode(d, 0o755);
    }
    for f in ["app/hello.txt", "app/lines.txt", "noise.bin", "Dockerfile"] {
        mode(f, 0o644);
    }
    let root = tmp.path().join("store");
    kiln_ok(
        &root,
        &[
            "build",
            "--timestamp",
            "1700000000",
            "-t",
            "pin",
            ctx.to_str().unwrap(),
        ],
        &[],
    );
    let img = inspect(&root, "pin");
    let layers: Vec<&str> = img["Manifest"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap())
        .collect();
    assert_eq!(
        layers,
        [
            "sha256:6cf1ff60b85d5a893d7106a860429c3208011c838096a99bd38520787e418137",
            "sha256:762d4e23e80c9ae1a53cc256958a85eeafa2713bac7c1dc22ba898a1c7086ac3",
        ]
    );
    assert_eq!(
        img["Config"]["rootfs"]["diff_ids"],
        serde_json::json!([
            "sha256:c5d902347aa3d49efbcd58e5c25c2a652e7f053154646845a91314eea0bb40ae",
            "sha256:3c66b6088ccb0d3d00ef51a05a8135798c81411e48f9b8186961a8f864f7cbe1",
        ])
    );
}

/// A COPY's files are filled while the layer is written (issue 15 §2: one read of each source
/// for the copy and the layer). The layers must be the ones the two-pass copy gave (digests
/// pinned from the build before), on overlay and on the copy driver, with what a fill can get
/// wrong: a file spanning several read chunks and gzip blocks, an empty file, a hard-link group
/// (filled once, through whichever name the walk meets first), a set-uid file (a write clears
/// the bit without CAP_FSETID), a file replacing one of the base. The next steps must see the
/// filled bytes, and on the copy driver the filling must not make them changes of the next step.
#[test]
fn copy_fills_files_while_writing_the_layer_on_both_drivers() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !have("umoci") {
        return;
    }
    let dockerfile = "FROM busybox\nCOPY app /app/\nCOPY group /etc/group\n\
                      RUN sha256sum /app/data/big.bin /app/b-link /app/z-link /etc/group > /sums\n\
                      RUN touch /marker\n";
    let mut copy_layers = Vec::new();
    for driver in ["overlay", "copy"] {
        let Some((tmp, root)) = busybox_store() else {
            return;
        };
        let ctx = context(tmp.path(), "fill", dockerfile);
        std::fs::create_dir_all(ctx.join("app/data")).unwrap();
        // 3 MiB + 5 bytes of xorshift64: past the 256 KiB read chunks and 1 MiB gzip blocks.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let big: Vec<u8> = (0..(3 << 20) + 5)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[5]
            })
            .collect();
        std::fs::write(ctx.join("app/data/big.bin"), &big).unwrap();
        std::fs::write(ctx.join("app/empty"), "").unwrap();
        std::fs::write(ctx.join("app/b-link"), "one inode, two names\n").unwrap();
        std::fs::hard_link(ctx.join("app/b-link"), ctx.join("app/z-link")).unwrap();
        std::fs::write(ctx.join("app/suid"), "#!/bin/sh\n").unwrap();
        std::fs::write(ctx.join("group"), "root:x:0:\nfilled:x:42:\n").unwrap();
        let mode = |p: &str, m: u32| {
            std::fs::set_permissions(ctx.join(p), std::fs::Permissions::from_mode(m)).unwrap();
        };
        for (p, m) in [
            (".", 0o755),
            ("app", 0o755),
            ("app/data", 0o755),
            ("app/data/big.bin", 0o644),
            ("app/empty", 0o600),
            ("app/b-link", 0o644),
            ("app/suid", 0o4755),
            ("group", 0o644),
            ("Dockerfile", 0o644),
        ] {
            mode(p, m);
        }
        let env: &[(&str, &str)] = if driver == "copy" {
            &[("STORAGE_DRIVER", "copy")]
        } else {
            &[]
        };
        kiln_ok(
            &root,
            &[
                "build",
                "--timestamp",
                "1700000000",
                "-t",
                "fill",
                ctx.to_str().unwrap(),
            ],
            env,
        );
        let img = inspect(&root, "fill");
        let layers: Vec<String> = img["Manifest"]["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(layers.len(), 5, "{driver}: {layers:?}");
        copy_layers.push((driver, layers[1..3].to_vec()));
        // Each RUN's layer holds its own file only (and the directories of its mount points):
        // the filled files are no change of theirs.
        for (layer, only) in [(&layers[3], "sums"), (&layers[4], "marker")] {
            let blob = root
                .join("oci/blobs/sha256")
                .join(layer.trim_start_matches("sha256:"));
            let out = Command::new("tar").arg("-tzf").arg(&blob).output().unwrap();
            assert!(out.status.success(), "tar: {}", text(&out.stderr));
            let files: Vec<String> = text(&out.stdout)
                .lines()
                .filter(|l| !l.ends_with('/'))
                .map(str::to_owned)
                .collect();
            assert_eq!(files, [only], "{driver}");
        }
        let rootfs = unpack(&root, "localhost/fill:latest", tmp.path());
        assert_eq!(std::fs::read(rootfs.join("app/data/big.bin")).unwrap(), big);
        assert_eq!(std::fs::read(rootfs.join("app/empty")).unwrap(), b"");
        let b = std::fs::symlink_metadata(rootfs.join("app/b-link")).unwrap();
        let z = std::fs::symlink_metadata(rootfs.join("app/z-link")).unwrap();
        assert_eq!(b.ino(), z.ino(), "{driver}: the link group stays one inode");
        assert_eq!(
            std::fs::read(rootfs.join("app/z-link")).unwrap(),
            b"one inode, two names\n"
        );
        assert_eq!(
            std::fs::symlink_metadata(rootfs.join("app/suid"))
                .unwrap()
                .mode()
                & 0o7777,
            0o4755
        );
        // RUN read the filled bytes.
        let sums = std::fs::read_to_string(rootfs.join("sums")).unwrap();
        let expected: Vec<String> = [
            ctx.join("app/data/big.bin"),
            ctx.join("app/b-link"),
            ctx.join("app/z-link"),
            ctx.join("group"),
        ]
        .iter()
        .map(|p| sha256_hex(p))
        .collect();
        let got: Vec<&str> = sums
            .lines()
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(got, expected, "{driver}: {sums}");
    }
    // The digests the two-pass copy gave (kiln before issue 15's single pass), the same on
    // both drivers.
    let pinned = [
        "sha256:a773ddd6cbdc1374a8028a1bb093d3c3fb5bd8aa79e3456ffea92c3f8d5b3dd8".to_owned(),
        "sha256:50294451840c0ff103bace1bc88e38eee7bf7d9c2a947fd34b7f0a5bcebaab6c".to_owned(),
    ];
    for (driver, layers) in copy_layers {
        assert_eq!(layers, pinned, "{driver}");
    }
}
