//! Writes or applies a layer, for the benchmark in `bench/archive/run.sh`.
//!
//! ```text
//! cargo run --release --example layer -- write gzip|zstd|none DIR OUT
//! cargo run --release --example layer -- apply gzip|zstd|none BLOB ROOT
//! ```
//!
//! `LEVEL=N` writes at compression level N instead of the default (to measure levels).
#![allow(clippy::print_stdout, clippy::cast_precision_loss)] // a benchmark tool prints rates

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use wharf_archive::{
    ApplyOptions, LayerCompression, LayerReader, WriteOptions, apply_layer, write_layer,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, comp, a, b] = args.as_slice() else {
        return Err("usage: layer write|apply gzip|zstd|none SRC DST".into());
    };
    let compression = match comp.as_str() {
        "gzip" => LayerCompression::Gzip,
        "zstd" => LayerCompression::Zstd,
        "none" => LayerCompression::None,
        other => return Err(format!("unknown compression {other}").into()),
    };
    let start = Instant::now();
    let info = if mode == "write" {
        let mut out = BufWriter::new(File::create(b)?);
        let opts = WriteOptions {
            compression,
            level: std::env::var("LEVEL").ok().and_then(|l| l.parse().ok()),
            ..WriteOptions::default()
        };
        let info = write_layer(Path::new(a), &mut out, &opts)?;
        out.flush()?;
        info
    } else {
        std::fs::create_dir_all(b)?;
        let mut r = LayerReader::new(BufReader::new(File::open(a)?), compression)?;
        apply_layer(&mut r, Path::new(b), &ApplyOptions::default())?;
        r.finish()?
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{mode} {comp}: {:.2}s, {:.1} MB/s uncompressed, size {} -> {}, digest {}, diff_id {}",
        secs,
        info.uncompressed_size as f64 / secs / 1e6,
        info.uncompressed_size,
        info.size,
        info.digest,
        info.diff_id
    );
    Ok(())
}
