//! A micro-benchmark of layer unpacking (ignored by default; run it in release):
//!
//! ```text
//! cargo test --release -p wharf-store --test it -- --ignored --nocapture bench::
//! ```
//!
//! A ~100 MB uncompressed layer (so that decompression does not hide the applier) of 400
//! files of 256 KiB, 2000 small files, 200 whiteouts and opaque directories is unpacked into
//! fresh stores; the median of three runs is printed, wall time and the process's CPU time
//! (all threads: user + system), since wall time on a shared machine is noisy.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::json;
use wharf_oci::ImageManifest;
use wharf_oci::digest::{Hasher, HashingWriter};
use wharf_oci::media_type::{OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST};
use wharf_store::Store;

/// Incompressible, non-zero bytes (zero chunks would become holes and not be written).
struct Noise(u64);

impl Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        for b in buf.iter_mut() {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = (self.0 >> 24) as u8 | 1;
        }
        Ok(buf.len())
    }
}

fn put_big_layer(store: &Store) -> (ImageManifest, Vec<wharf_oci::Digest>) {
    let writer = store.blob_writer(None).unwrap();
    let mut tar = tar::Builder::new(HashingWriter::new(writer, Hasher::sha256()));
    let add = |tar: &mut tar::Builder<_>, name: &str, size: u64, seed: u64| {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(size);
        h.set_mtime(1_700_000_000);
        tar.append_data(&mut h, name, Noise(seed).take(size))
            .unwrap();
    };
    for i in 0..400u64 {
        add(&mut tar, &format!("big/{}/f{i}", i % 20), 256 << 10, i + 1);
    }
    for i in 0..2000u64 {
        add(&mut tar, &format!("small/{}/s{i}", i % 50), 1024, i + 7);
    }
    for i in 0..200u64 {
        add(&mut tar, &format!("gone/{}/.wh.x{i}", i % 10), 0, 1);
    }
    for i in 0..20u64 {
        add(&mut tar, &format!("small/{i}/.wh..wh..opq"), 0, 1);
    }
    let hashing = tar.into_inner().unwrap();
    let (diff_id, _, mut writer) = hashing.finish();
    writer.flush().unwrap();
    let blob = writer.commit().unwrap();
    let config = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]}}))
    .unwrap();
    let c = store.put_blob_bytes(OCI_CONFIG, &config).unwrap();
    let manifest = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": c.digest().to_string(), "size": c.size()},
        "layers": [{"mediaType": OCI_LAYER_TAR, "digest": blob.digest.to_string(), "size": blob.size}]});
    (serde_json::from_value(manifest).unwrap(), vec![diff_id])
}

/// CPU seconds (user + system) of this process so far, all threads, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn unpack_a_100_mb_layer() {
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut size = 0;
    for _ in 0..3 {
        let (_dir, store) = crate::common::temp_store();
        let (manifest, diff_ids) = put_big_layer(&store);
        size = manifest.layers()[0].size();
        let (t, c) = (Instant::now(), cpu_seconds());
        let dirs = store.ensure_unpacked(&manifest, &diff_ids).unwrap();
        times.push(t.elapsed());
        cpu.push(cpu_seconds() - c);
        assert!(dirs[0].join("gone/3/x13").exists());
    }
    times.sort();
    cpu.sort_by(f64::total_cmp);
    let median: Duration = times[1];
    #[allow(clippy::cast_precision_loss)] // a size in MB for display
    let mb = size as f64 / 1e6;
    println!(
        "unpack of a {mb:.0} MB layer: median {:.3} s wall ({:.0} MB/s), {:.2} s CPU; runs {times:?}, CPU {cpu:?}",
        median.as_secs_f64(),
        mb / median.as_secs_f64(),
        cpu[1]
    );
}
