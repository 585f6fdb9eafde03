//! The container-path resolver against a small random tree: the input builds directories and
//! symlinks (absolute, relative, `..`-laden, looping) in a scratch root, then names paths to
//! resolve. A resolution returns a path under the root or an error, never panics, and a chain
//! of more than 40 links always fails with ELOOP (issue 11: the resolver used to stop counting
//! at 40 and let the host's kernel follow the rest).
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use wharf_sandbox::{MAX_LINKS, ResolveError, resolve_in_root};

/// Path components the tree and the paths are made of: few, so that inputs collide often.
const PARTS: [&str; 8] = ["a", "b", "c", "..", ".", "d", "", "z1"];

/// A path from input bytes: bit 7 of the first byte makes it absolute, then one component per
/// byte until a byte with bit 6 set ends it.
fn path(bytes: &mut impl Iterator<Item = u8>) -> String {
    let Some(first) = bytes.next() else {
        return String::new();
    };
    let mut s = String::new();
    if first & 0x80 != 0 {
        s.push('/');
    }
    let mut b = first;
    for _ in 0..6 {
        s.push_str(PARTS[usize::from(b & 7)]);
        if b & 0x40 != 0 {
            break;
        }
        s.push('/');
        match bytes.next() {
            Some(n) => b = n,
            None => break,
        }
    }
    s
}

fn scratch() -> PathBuf {
    let base = std::env::temp_dir().join(format!("wharf-fuzz-path-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    base
}

fuzz_target!(|data: &[u8]| {
    let base = scratch();
    let root = base.join("root");
    if std::fs::create_dir_all(&root).is_err() {
        return;
    }
    // A chain of MAX_LINKS + 1 links from /z1 to a directory outside the root.
    let outside = base.join("outside");
    let _ = std::fs::create_dir(&outside);
    for i in 1..=MAX_LINKS {
        let _ = std::os::unix::fs::symlink(format!("/z{}", i + 1), root.join(format!("z{i}")));
    }
    let _ = std::os::unix::fs::symlink(&outside, root.join(format!("z{}", MAX_LINKS + 1)));

    let mut bytes = data.iter().copied();
    // The tree: up to 12 entries, each a directory or a symlink to an arbitrary target.
    for _ in 0..12 {
        let Some(op) = bytes.next() else { break };
        let at = path(&mut bytes);
        let rel = at.trim_start_matches('/');
        if rel.is_empty() || rel.split('/').any(|c| c == ".." || c == ".") {
            continue; // entries are made at plain paths; links may still point anywhere
        }
        let host = root.join(rel);
        // Made by the host's kernel: never through a symlink of the tree, which could lead
        // anywhere on the fuzzing machine.
        let through_link = host
            .ancestors()
            .take_while(|a| *a != root)
            .skip(1)
            .any(|a| std::fs::symlink_metadata(a).is_ok_and(|m| m.file_type().is_symlink()));
        if through_link || std::fs::symlink_metadata(&host).is_ok() {
            continue;
        }
        if op & 1 == 0 {
            let _ = std::fs::create_dir_all(&host);
        } else {
            if let Some(parent) = host.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let target = path(&mut bytes);
            let _ = std::os::unix::fs::symlink(&target, &host);
        }
    }
    // The paths to resolve: what is left of the input.
    loop {
        let p = path(&mut bytes);
        if p.is_empty() && bytes.len() == 0 {
            break;
        }
        for follow_last in [true, false] {
            match resolve_in_root(&root, Path::new(&p), follow_last) {
                Ok(out) => assert!(
                    out.starts_with(&root),
                    "{p:?} resolved outside the root: {}",
                    out.display()
                ),
                Err(ResolveError::TooManyLinks { .. } | ResolveError::ReadLink { .. }) => {}
            }
        }
    }
    let long = resolve_in_root(&root, Path::new("/z1/x"), true);
    assert!(
        matches!(long, Err(ResolveError::TooManyLinks { .. })),
        "a chain of {} links did not fail with ELOOP: {long:?}",
        MAX_LINKS + 1
    );
    assert_eq!(
        std::fs::read_dir(&outside).map_or(0, Iterator::count),
        0,
        "something was made outside the root"
    );
    let _ = std::fs::remove_dir_all(&base);
});
