//! Unpack during pull (issue 15 §1) seen from the binaries: a `kiln pull` killed with SIGKILL
//! in the middle of a layer leaves a store that `kiln images` reads and the next pull
//! completes, with no half-unpacked layer published; the record of each layer unpacked during
//! a pull (made from the apply's own report, not a second walk) is what the tree holds.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use wharf_testkit::registry::Registry;
use wharf_testkit::slowlink::{Shape, SlowLink};

use crate::build_instr::{context, kiln_ok};
use crate::{bin, busybox_store, ok, run, text};

/// Names in `dir` (empty when it does not exist).
fn names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The kind of a store temporary entry (`tmp/<token>.<n>.<kind>`).
fn kind(name: &str) -> Option<&str> {
    name.rsplit_once('.').map(|(_, k)| k)
}

#[test]
fn pull_killed_mid_layer_leaves_a_store_the_next_pull_completes() {
    let Some((tmp, seed)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    // 6 MiB that does not compress: 6 s through a 1 MB/s link.
    let ctx = context(tmp.path(), "fat", "FROM busybox\nCOPY fat.bin /\n");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let fat: Vec<u8> = (0..6 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[3]
        })
        .collect();
    std::fs::write(ctx.join("fat.bin"), fat).unwrap();
    kiln_ok(
        &seed,
        &["build", "-q", "-t", "fat", ctx.to_str().unwrap()],
        &[],
    );
    let image = format!("{}/pulled/fat:1", reg.addr());
    ok(
        "ferry",
        &seed,
        &[
            "copy",
            "--dest-tls-verify=false",
            "store:localhost/fat:latest",
            &format!("docker://{image}"),
        ],
    );
    let link = SlowLink::start(
        reg.addr().parse().unwrap(),
        Shape {
            rtt: Duration::from_millis(2),
            bits_per_second: 8_000_000,
        },
    )
    .unwrap();
    let slow = format!("{}/pulled/fat:1", link.addr());

    let root = tmp.path().join("fresh");
    let mut child = std::process::Command::new(bin("kiln"))
        .arg("--root")
        .arg(&root)
        .args(["pull", "-q", "--tls-verify=false", &slow])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Killed once a layer is being unpacked into tmp/ (the busybox layer is small and may
    // be done by then; the 6 MiB one is not).
    let deadline = Instant::now() + Duration::from_mins(2);
    let mut seen = false;
    while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        if names(&root.join("tmp"))
            .iter()
            .any(|n| kind(n) == Some("layer"))
        {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        seen && still_running,
        "the pull ended before it could be killed mid-layer: {}",
        text(&out.stderr)
    );

    // The store reads; the killed pull's image is not there.
    let images = ok("kiln", &root, &["images"]);
    assert!(!images.contains("fat"), "{images}");
    // Every published layer directory is complete: the next pull fills in the rest and the
    // image runs from layers that all verify.
    ok("kiln", &root, &["pull", "-q", "--tls-verify=false", &image]);
    let ctr = ok("kiln", &root, &["from", &image]);
    let ctr = ctr.trim();
    let mounted = ok("kiln", &root, &["run", ctr, "--", "wc", "-c", "/fat.bin"]);
    assert!(mounted.contains(&(6u64 << 20).to_string()), "{mounted}");
    ok("kiln", &root, &["rm", ctr]);
    // The killed process's temporary trees and blobs were cleaned up by the next one.
    let left: Vec<String> = names(&root.join("tmp"))
        .into_iter()
        .filter(|n| matches!(kind(n), Some("layer" | "blob")))
        .collect();
    assert!(left.is_empty(), "tmp/ still holds {left:?}");
}

/// Every layer a pull unpacks gets its tree record from the apply's report: the quick and the
/// full `kiln system check` find the pulled trees as recorded (a layer with a hard link, whose
/// ctime the link changes, and a symlink included), and
/// still find a file changed afterwards.
#[test]
fn a_pulled_layers_record_matches_its_tree_and_catches_a_later_change() {
    let Some((tmp, seed)) = busybox_store() else {
        return;
    };
    let Some(reg) = Registry::start_plain() else {
        return;
    };
    let ctx = context(
        tmp.path(),
        "linked",
        "FROM busybox\nRUN mkdir -p /d && echo one > /d/f && ln /d/f /d/hard && ln -s f /d/soft\n",
    );
    kiln_ok(
        &seed,
        &["build", "-q", "-t", "linked", ctx.to_str().unwrap()],
        &[],
    );
    let image = format!("{}/pulled/linked:1", reg.addr());
    ok(
        "ferry",
        &seed,
        &[
            "copy",
            "--dest-tls-verify=false",
            "store:localhost/linked:latest",
            &format!("docker://{image}"),
        ],
    );
    let root = tmp.path().join("fresh");
    ok("kiln", &root, &["pull", "-q", "--tls-verify=false", &image]);
    let layers = names(&root.join("layers"));
    assert_eq!(layers.len(), 2, "{layers:?}");
    let mut records = names(&root.join("layer-trees"));
    let mut expected = layers.clone();
    records.sort();
    expected.sort();
    assert_eq!(records, expected, "every pulled layer has its record");
    for args in [
        &["system", "check", "--quick"][..],
        &["system", "check"][..],
    ] {
        let out = ok("kiln", &root, args);
        assert!(
            out.contains("2 unpacked layers") && out.ends_with("ok\n"),
            "{args:?}: {out}"
        );
    }
    let hard = layers
        .iter()
        .map(|l| root.join("layers").join(l).join("d/hard"))
        .find(|p| p.is_file())
        .expect("the RUN layer holds d/hard");
    assert_eq!(std::fs::read_to_string(&hard).unwrap(), "one\n");
    std::fs::write(&hard, "changed\n").unwrap();
    let out = run("kiln", &root, &["system", "check", "--quick"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("/d/hard"),
        "{}",
        text(&out.stdout)
    );
}
