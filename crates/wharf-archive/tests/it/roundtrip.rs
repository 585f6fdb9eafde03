//! A real tree (part of the machine's shared libraries plus a tree made here with every kind of
//! entry) through write -> gzip/zstd -> verify -> apply, compared exactly.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;

use filetime::FileTime;
use wharf_archive::{
    ApplyOptions, LayerCompression, LayerReader, WriteOptions, apply_layer, write_layer,
};

use crate::tree::{assert_same, snapshot};

const LIBS: &str = "/usr/lib/x86_64-linux-gnu";
const LIB_BUDGET: u64 = 60 * 1024 * 1024;

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn set_mtime(p: &Path, secs: i64) {
    filetime::set_symlink_file_times(
        p,
        FileTime::from_unix_time(secs, 0),
        FileTime::from_unix_time(secs, 0),
    )
    .unwrap();
}

/// Copies top-level files and symlinks of the library directory, in name order, until about
/// 60 MB, with `cp -a` so owners, modes and times come along.
fn copy_libs(dst: &Path) -> u64 {
    std::fs::create_dir(dst).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(LIBS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let m = std::fs::symlink_metadata(p).unwrap();
            m.is_file() || m.file_type().is_symlink()
        })
        .collect();
    names.sort();
    let mut total = 0;
    let mut batch = Vec::new();
    for p in names {
        let len = std::fs::symlink_metadata(&p).unwrap().len();
        if total + len > LIB_BUDGET {
            continue;
        }
        total += len;
        batch.push(p);
    }
    for chunk in batch.chunks(200) {
        let st = Command::new("cp")
            .arg("-a")
            .args(chunk)
            .arg(dst)
            .status()
            .unwrap();
        assert!(st.success());
    }
    total
}

/// A tree with every kind of entry the codec handles.
fn make_tree(t: &Path) {
    std::fs::create_dir(t).unwrap();
    std::fs::write(t.join("a"), b"linked content").unwrap();
    std::fs::hard_link(t.join("a"), t.join("hl1")).unwrap();
    std::fs::create_dir(t.join("sub")).unwrap();
    std::fs::hard_link(t.join("a"), t.join("sub/hl2")).unwrap();
    std::fs::write(t.join("empty"), b"").unwrap();
    std::fs::create_dir(t.join("emptydir")).unwrap();

    std::fs::write(t.join("xattrs"), b"x").unwrap();
    xattr::set(t.join("xattrs"), "user.test", b"value").unwrap();
    xattr::set(t.join("xattrs"), "user.binary", b"\x00\xff\x01").unwrap();
    xattr::set(t.join("sub"), "user.dir", b"on a directory").unwrap();

    assert!(
        Command::new("mkfifo")
            .arg(t.join("fifo"))
            .status()
            .unwrap()
            .success()
    );

    // 16 MiB sparse file with data in the middle and at the end.
    let f = File::create(t.join("sparse")).unwrap();
    f.set_len(16 << 20).unwrap();
    rustix::io::pwrite(&f, b"middle", 8 << 20).unwrap();
    rustix::io::pwrite(&f, b"end", (16 << 20) - 3).unwrap();
    drop(f);

    // A 200-byte component, and a path over 255 bytes.
    let long = "L".repeat(200);
    std::fs::write(t.join(&long), b"long name").unwrap();
    let deep = t
        .join("d".repeat(90))
        .join("e".repeat(90))
        .join("f".repeat(90));
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("g".repeat(120)), b"deep").unwrap();
    std::fs::write(
        t.join(std::ffi::OsStr::from_bytes(b"bytes-\xff\xfe")),
        b"not utf-8",
    )
    .unwrap();

    symlink("a", t.join("rel-link")).unwrap();
    symlink("/usr/lib64", t.join("abs-link")).unwrap();
    symlink("does/not/exist", t.join("dangling")).unwrap();
    symlink(
        format!("{}/{}", "t".repeat(80), "u".repeat(80)),
        t.join("long-target"),
    )
    .unwrap();
    std::fs::hard_link(t.join("rel-link"), t.join("hardlinked-symlink")).unwrap();

    for (name, mode) in [
        ("setuid", 0o4755),
        ("setgid", 0o2711),
        ("none", 0o000),
        ("sticky-file", 0o1644),
    ] {
        std::fs::write(t.join(name), name.as_bytes()).unwrap();
        std::fs::set_permissions(t.join(name), PermissionsExt::from_mode(mode)).unwrap();
    }
    std::fs::create_dir(t.join("sticky")).unwrap();
    std::fs::set_permissions(t.join("sticky"), PermissionsExt::from_mode(0o1777)).unwrap();
    std::fs::create_dir(t.join("readonly")).unwrap();
    std::fs::write(t.join("readonly/inside"), b"in a 0555 directory").unwrap();

    if is_root() {
        let owned = t.join("owned");
        std::fs::write(&owned, b"owned").unwrap();
        std::os::unix::fs::lchown(&owned, Some(1234), Some(5678)).unwrap();
        std::os::unix::fs::lchown(t.join("rel-link"), Some(42), Some(43)).unwrap();
        std::os::unix::fs::lchown(t.join("sub"), Some(3_000_000), Some(3_000_001)).unwrap();
        assert!(
            Command::new("mknod")
                .arg(t.join("null"))
                .args(["c", "1", "3"])
                .status()
                .unwrap()
                .success()
        );
        assert!(
            Command::new("mknod")
                .arg(t.join("blk"))
                .args(["b", "7", "200"])
                .status()
                .unwrap()
                .success()
        );
        xattr::set(t.join("xattrs"), "trusted.wharf", b"root only").unwrap();
    }

    for (name, secs) in [
        ("a", 0),
        ("empty", 1),
        ("xattrs", 4_102_444_800),
        ("setuid", -86_400),
    ] {
        set_mtime(&t.join(name), secs);
    }
    set_mtime(&t.join("abs-link"), 123_456);
    // Directories last, after their contents changed.
    set_mtime(&deep, 99);
    set_mtime(&t.join("sub"), 1_000_000_000);
    set_mtime(&t.join("readonly"), 7);
    std::fs::set_permissions(t.join("readonly"), PermissionsExt::from_mode(0o555)).unwrap();
}

fn tmpdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("wharf-archive-rt")
        .tempdir_in("/var/tmp")
        .unwrap()
}

#[test]
fn real_tree_round_trips_exactly_through_gzip_and_zstd() {
    let tmp = tmpdir();
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let copied = if Path::new(LIBS).is_dir() {
        copy_libs(&src.join("libs"))
    } else {
        eprintln!("SKIP (part): {LIBS} is missing; only the made tree is used");
        0
    };
    make_tree(&src.join("made"));
    let expected = snapshot(&src);
    assert!(
        expected.nodes.len() > 30,
        "tree too small: {}",
        expected.nodes.len()
    );

    for compression in [LayerCompression::Gzip, LayerCompression::Zstd] {
        let blob_path = tmp.path().join(format!("layer-{compression:?}"));
        let opts = WriteOptions {
            compression,
            ..WriteOptions::default()
        };
        let mut out = BufWriter::new(File::create(&blob_path).unwrap());
        let info = write_layer(&src, &mut out, &opts).unwrap();
        out.flush().unwrap();
        drop(out);
        assert_eq!(info.size, std::fs::metadata(&blob_path).unwrap().len());
        assert!(info.uncompressed_size > copied + (16 << 20) / 2);

        let dst = tmp.path().join(format!("dst-{compression:?}"));
        std::fs::create_dir(&dst).unwrap();
        let mut reader =
            LayerReader::new(BufReader::new(File::open(&blob_path).unwrap()), compression).unwrap();
        let apply = ApplyOptions {
            devices: wharf_archive::DeviceNodes::Create,
            same_owner: is_root(),
            ..ApplyOptions::default()
        };
        let stats = apply_layer(&mut reader, &dst, &apply).unwrap();
        assert_eq!(
            reader.finish().unwrap(),
            info,
            "verified digests equal written ones"
        );
        assert_eq!(stats.entries as usize, expected.nodes.len());
        assert_same(&expected, &snapshot(&dst));

        // The sparse file stayed sparse.
        let blocks = std::os::unix::fs::MetadataExt::blocks(
            &std::fs::metadata(dst.join("made/sparse")).unwrap(),
        );
        assert!(blocks * 512 < 1 << 20, "sparse file took {blocks} blocks");

        // The same tree gives the same blob.
        let again = write_layer(&src, std::io::sink(), &opts).unwrap();
        assert_eq!(again, info, "{compression:?} layer is not reproducible");
    }
}

#[test]
fn gnu_tar_reads_our_layers_and_we_read_gnu_tars() {
    let tmp = tmpdir();
    let src = tmp.path().join("src");
    make_tree(&src);
    std::fs::remove_file(src.join("fifo")).unwrap(); // compared below without special files
    let _ = std::fs::remove_file(src.join("null"));
    let _ = std::fs::remove_file(src.join("blk"));
    let blob = tmp.path().join("layer.tar.gz");
    let opts = WriteOptions::default();
    write_layer(&src, File::create(&blob).unwrap(), &opts).unwrap();

    // Ours, extracted by GNU tar.
    let by_tar = tmp.path().join("by-tar");
    std::fs::create_dir(&by_tar).unwrap();
    let st = Command::new("tar")
        .args(["--xattrs", "--xattrs-include=*", "--same-owner", "-xpzf"])
        .arg(&blob)
        .arg("-C")
        .arg(&by_tar)
        .status()
        .unwrap();
    assert!(st.success());
    let expected = snapshot(&src);
    assert_same(&expected, &snapshot(&by_tar));

    // GNU tar's pax archive of the same tree, applied by us.
    let gnu = tmp.path().join("gnu.tar");
    let st = Command::new("tar")
        .args(["--format=pax", "--xattrs", "--xattrs-include=*", "-cf"])
        .arg(&gnu)
        .arg("-C")
        .arg(&src)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let by_us = tmp.path().join("by-us");
    std::fs::create_dir(&by_us).unwrap();
    let apply = ApplyOptions {
        same_owner: is_root(),
        ..ApplyOptions::default()
    };
    apply_layer(File::open(&gnu).unwrap(), &by_us, &apply).unwrap();
    assert_same(&expected, &snapshot(&by_us));
}
