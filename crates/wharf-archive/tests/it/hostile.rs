//! A corpus of hostile layers built from raw tar headers (the tar crate's builder refuses many of
//! them). Each must be refused with an error naming the entry, and nothing may appear outside
//! the extraction root.

use std::path::{Path, PathBuf};

use wharf_archive::{ApplyOptions, ArchiveError, Whiteouts, apply_layer};

/// A raw ustar header block.
fn header(name: &[u8], kind: u8, size: usize, link: &[u8], dev: (u32, u32)) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    let octal = |h: &mut [u8; 512], at: usize, width: usize, v: u64| {
        let s = format!("{v:0w$o}", w = width - 1);
        h[at..at + width - 1].copy_from_slice(s.as_bytes());
    };
    octal(&mut h, 100, 8, if kind == b'5' { 0o755 } else { 0o644 });
    octal(&mut h, 108, 8, 0);
    octal(&mut h, 116, 8, 0);
    octal(&mut h, 124, 12, size as u64);
    octal(&mut h, 136, 12, 1_000_000);
    h[156] = kind;
    h[157..157 + link.len().min(100)].copy_from_slice(&link[..link.len().min(100)]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    octal(&mut h, 329, 8, u64::from(dev.0));
    octal(&mut h, 337, 8, u64::from(dev.1));
    h[148..156].copy_from_slice(b"        ");
    let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    h
}

/// A layer under construction.
#[derive(Default)]
struct Layer(Vec<u8>);

impl Layer {
    fn raw(mut self, name: &[u8], kind: u8, data: &[u8], link: &[u8], dev: (u32, u32)) -> Self {
        self.0
            .extend_from_slice(&header(name, kind, data.len(), link, dev));
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0u8, pad));
        self
    }
    fn file(self, name: &str, data: &[u8]) -> Self {
        self.raw(name.as_bytes(), b'0', data, b"", (0, 0))
    }
    fn dir(self, name: &str) -> Self {
        self.raw(name.as_bytes(), b'5', b"", b"", (0, 0))
    }
    fn symlink(self, name: &str, target: &str) -> Self {
        self.raw(name.as_bytes(), b'2', b"", target.as_bytes(), (0, 0))
    }
    fn hardlink(self, name: &str, target: &str) -> Self {
        self.raw(name.as_bytes(), b'1', b"", target.as_bytes(), (0, 0))
    }
    fn pax(self, records: &[(&str, &str)]) -> Self {
        let mut data = Vec::new();
        for (k, v) in records {
            let rest = k.len() + v.len() + 3;
            let mut len = rest + 1;
            while len != rest + len.to_string().len() {
                len = rest + len.to_string().len();
            }
            data.extend_from_slice(format!("{len} {k}={v}\n").as_bytes());
        }
        self.raw(b"././@PaxHeader", b'x', &data, b"", (0, 0))
    }
    fn gnu_long_name(self, name: &str) -> Self {
        let mut data = name.as_bytes().to_vec();
        data.push(0);
        self.raw(b"././@LongLink", b'L', &data, b"", (0, 0))
    }
    fn end(mut self) -> Vec<u8> {
        self.0.extend_from_slice(&[0u8; 1024]);
        self.0
    }
}

struct Case {
    kind: &'static str,
    layer: Vec<u8>,
    /// A fragment the error message must contain (the entry's name).
    names: &'static str,
}

fn corpus(outside: &Path) -> Vec<Case> {
    let out = outside.to_str().unwrap().to_owned();
    let abs_name: &'static str = Box::leak(format!("{out}/abs").into_boxed_str());
    let abs_wh: &'static str = Box::leak(format!("{out}/.wh.abs").into_boxed_str());
    let c = |kind, layer: Layer, names| Case {
        kind,
        layer: layer.end(),
        names,
    };
    vec![
        c(
            "dotdot name",
            Layer::default().file("../outside/f", b"x"),
            "../outside/f",
        ),
        c(
            "nested dotdot",
            Layer::default()
                .dir("a/")
                .file("a/b/../../../outside/f", b"x"),
            "a/b/../../../outside/f",
        ),
        c(
            "absolute name",
            Layer::default().file(abs_name, b"x"),
            abs_name,
        ),
        c(
            "pax path with dotdot",
            Layer::default()
                .pax(&[("path", "../outside/pax")])
                .file("innocent", b"x"),
            "../outside/pax",
        ),
        c(
            "gnu long name with dotdot",
            Layer::default()
                .gnu_long_name(&format!("../outside/{}", "n".repeat(120)))
                .file("short", b"x"),
            "../outside/nnnn",
        ),
        c(
            "relative symlink escaping",
            Layer::default()
                .symlink("esc", "../outside")
                .file("esc/f", b"x"),
            "esc",
        ),
        c(
            "deep symlink escaping",
            Layer::default()
                .dir("d/")
                .symlink("d/esc", "../../../../../../outside"),
            "d/esc",
        ),
        c(
            "pax linkpath escaping",
            Layer::default()
                .pax(&[("linkpath", "../../outside")])
                .symlink("lnk", "harmless"),
            "lnk",
        ),
        c(
            "symlink named with dotdot",
            Layer::default().symlink("../lnk", "/"),
            "../lnk",
        ),
        c(
            "hard link with dotdot",
            Layer::default().hardlink("h", "../outside/target"),
            "\"h\"",
        ),
        c(
            "hard link to an absolute path",
            Layer::default().hardlink("h", "/etc/passwd"),
            "\"h\"",
        ),
        c(
            "hard link to nothing",
            Layer::default().hardlink("h", "nope"),
            "\"h\"",
        ),
        c(
            "hard link through an absolute symlink to a host file",
            Layer::default()
                .symlink("s", "/etc")
                .hardlink("h", "s/passwd"),
            "\"h\"",
        ),
        c(
            "hard link to a directory",
            Layer::default().dir("d/").hardlink("h", "d"),
            "\"h\"",
        ),
        c(
            "hard link to itself",
            Layer::default().hardlink("h", "h"),
            "\"h\"",
        ),
        c(
            "file replacing a traversed directory",
            Layer::default()
                .dir("d/")
                .file("d/x", b"x")
                .symlink("d", abs_name)
                .file("d/y", b"x"),
            "\"d\"",
        ),
        c(
            "implicit directory replaced",
            Layer::default()
                .file("p/q/r", b"x")
                .file("p", b"x")
                .file("p/s", b"x"),
            "\"p\"",
        ),
        c(
            "character device",
            Layer::default().raw(b"null", b'3', b"", b"", (1, 3)),
            "null",
        ),
        c(
            "block device",
            Layer::default().raw(b"sda", b'4', b"", b"", (8, 0)),
            "sda",
        ),
        c(
            "whiteout climbing out",
            Layer::default().file("a/../../outside/.wh.x", b""),
            "a/../../outside/.wh.x",
        ),
        c(
            "opaque marker climbing out",
            Layer::default().file("../outside/.wh..wh..opq", b""),
            "../outside/.wh..wh..opq",
        ),
        c(
            "absolute whiteout",
            Layer::default().file(abs_wh, b""),
            abs_wh,
        ),
        c(
            "whiteout of dotdot",
            Layer::default().file(".wh...", b""),
            ".wh...",
        ),
        c(
            "whiteout of dot",
            Layer::default().file("a/.wh..", b""),
            "a/.wh..",
        ),
        c(
            "empty whiteout",
            Layer::default().file("a/.wh.", b""),
            "a/.wh.",
        ),
        c(
            "unsupported entry type",
            Layer::default().raw(b"weird", b'Z', b"", b"", (0, 0)),
            "weird",
        ),
        c(
            "regular file named like the root",
            Layer::default().file("./", b"x"),
            "./",
        ),
    ]
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn hostile_layers_are_refused_and_write_nothing_outside() {
    let tmp = tempfile::Builder::new()
        .prefix("wharf-hostile")
        .tempdir_in("/tmp")
        .unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let cases = corpus(&outside);
    assert!(cases.len() >= 15);
    // Both whiteout modes: the store applies in overlay mode, everything else in apply mode.
    let modes = [
        Whiteouts::Apply,
        Whiteouts::Overlay {
            xattr_fallback: true,
        },
    ];
    for (i, (case, whiteouts)) in cases
        .iter()
        .flat_map(|c| modes.iter().map(move |m| (c, *m)))
        .enumerate()
    {
        let root = tmp.path().join(format!("root-{i}"));
        std::fs::create_dir(&root).unwrap();
        let opts = ApplyOptions {
            same_owner: false,
            whiteouts,
            ..ApplyOptions::default()
        };
        let result = apply_layer(&case.layer[..], &root, &opts);
        let err = match result {
            Ok(stats) => panic!("{}: accepted ({stats:?})", case.kind),
            Err(e) => e,
        };
        let msg = err.to_string();
        assert!(
            msg.contains(case.names),
            "{}: error {msg:?} does not name {:?}",
            case.kind,
            case.names
        );
        assert!(
            !matches!(err, ArchiveError::Root { .. }),
            "{}: failed for the wrong reason: {msg}",
            case.kind
        );
        assert!(
            listing(&outside).is_empty(),
            "{}: wrote {:?}",
            case.kind,
            listing(&outside)
        );
        let mut top: Vec<_> = listing(tmp.path())
            .into_iter()
            .filter(|p| {
                !p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with("root-")
            })
            .collect();
        top.retain(|p| p != &outside);
        assert!(
            top.is_empty(),
            "{}: wrote next to the root: {top:?}",
            case.kind
        );
        assert!(!root.join("etc/passwd").exists(), "{}", case.kind);
    }
}

#[test]
fn absolute_symlinks_and_confined_names_stay_inside_the_root() {
    let tmp = tempfile::Builder::new()
        .prefix("wharf-confined")
        .tempdir_in("/tmp")
        .unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let out = outside.to_str().unwrap();
    let root = tmp.path().join("root");
    std::fs::create_dir(&root).unwrap();
    // The symlink's target exists inside the root only (made through a confined absolute name).
    let layer = Layer::default()
        .dir(&format!("{out}/"))
        .symlink("s", out)
        .file("s/through-symlink", b"x")
        .symlink("up", "/../../..")
        .file("up/through-dotdot-symlink", b"x")
        .file(&format!("{out}/absolute-name"), b"x")
        .end();
    let opts = ApplyOptions {
        same_owner: false,
        confine_absolute_names: true,
        ..ApplyOptions::default()
    };
    apply_layer(&layer[..], &root, &opts).unwrap();
    assert!(listing(&outside).is_empty());
    let inside = root.join(out.trim_start_matches('/'));
    assert!(inside.join("through-symlink").is_file());
    assert!(inside.join("absolute-name").is_file());
    assert!(root.join("through-dotdot-symlink").is_file());
}

#[test]
fn truncated_and_corrupt_archives_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let mut truncated = Layer::default().file("f", &[7u8; 1000]).0;
    truncated.truncate(512 + 100);
    let opts = ApplyOptions {
        same_owner: false,
        ..ApplyOptions::default()
    };
    assert!(matches!(
        apply_layer(&truncated[..], tmp.path(), &opts),
        Err(ArchiveError::Tar(_))
    ));
    let mut bad_sum = Layer::default().file("g", b"x").end();
    bad_sum[148] = b'7';
    assert!(apply_layer(&bad_sum[..], tmp.path(), &opts).is_err());
    assert!(!tmp.path().join("g").exists());
}
