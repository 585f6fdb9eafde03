//! gzip on every core, with output that does not depend on the number of cores.
//!
//! A layer's compressed bytes are its identity, so parallel compression must not change them
//! from one machine to another. The input is cut into fixed [`BLOCK`]-byte blocks; each block
//! is deflated on its own thread, primed with the previous block's last 32 KiB as dictionary
//! (so matches still reach back across block ends), and ended with a sync flush, which leaves
//! it on a byte boundary without a final-block bit. Concatenated, the blocks form one deflate
//! stream; a gzip header, the CRC-32 and the length around it make one ordinary gzip member
//! (pigz's scheme). The bytes depend only on the input, the level and `BLOCK`.
//!
//! A block that does not compress (media, archives, encrypted or random data: its byte
//! histogram is flat and level 1 saves under 3 % on slices spread over it) is stored instead of deflated at the
//! asked level: zlib's levels 2-9 spend ~7x the time of level 1 searching for matches that are
//! not there, and end up storing such a block anyway or saving a fraction of a percent. This is
//! a function of the block's bytes only, so the output stays reproducible; compressible input
//! gives exactly the bytes it gave before the fast path existed.
//!
//! Memory is bounded: at most `workers + 1` blocks are in flight, each one input block and its
//! compressed output.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Input bytes per independently compressed block. Part of the output's identity: never change
/// it without accepting new layer digests.
pub(crate) const BLOCK: usize = 1 << 20;
/// Deflate's window: the dictionary each block gets from the one before.
const WINDOW: usize = 32 << 10;
/// gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS unknown (as flate2's).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

type Job = mpsc::Receiver<io::Result<Vec<u8>>>;

/// A gzip writer that compresses [`BLOCK`]-sized pieces on worker threads.
pub(crate) struct ParallelGzip<W: Write> {
    inner: W,
    level: Compression,
    workers: usize,
    /// The block being filled.
    block: Vec<u8>,
    /// The last [`WINDOW`] bytes of the block submitted before `block`.
    dict: Vec<u8>,
    crc: Crc,
    /// Compressed blocks in input order, still being made.
    pending: VecDeque<Job>,
    header_written: bool,
}

impl<W: Write> ParallelGzip<W> {
    /// A writer using every core (at most 8).
    pub(crate) fn new(inner: W, level: u32) -> Self {
        let workers = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(8);
        Self::with_workers(inner, level, workers)
    }

    /// A writer with `workers` threads; the output is the same for every count.
    pub(crate) fn with_workers(inner: W, level: u32, workers: usize) -> Self {
        Self {
            inner,
            level: Compression::new(level.min(9)),
            workers: workers.max(1),
            block: Vec::with_capacity(BLOCK),
            dict: Vec::new(),
            crc: Crc::new(),
            pending: VecDeque::new(),
            header_written: false,
        }
    }

    /// Hands the current block to a worker (or compresses it here with one worker).
    fn submit(&mut self, last: bool) -> io::Result<()> {
        let data = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
        let dict = std::mem::take(&mut self.dict);
        self.dict = data[data.len().saturating_sub(WINDOW)..].to_vec();
        let level = self.level;
        let (tx, rx) = mpsc::sync_channel(1);
        if self.workers == 1 {
            let _ = tx.send(deflate_block(&data, &dict, level, last));
        } else {
            std::thread::Builder::new()
                .name("gzip-block".into())
                .spawn(move || {
                    let _ = tx.send(deflate_block(&data, &dict, level, last));
                })?;
        }
        self.pending.push_back(rx);
        // Bounded: write out the oldest block once every worker has one.
        while self.pending.len() > self.workers {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(rx) = self.pending.pop_front() else {
            return Ok(());
        };
        let out = rx
            .recv()
            .map_err(|_| io::Error::other("a gzip worker thread ended without its block"))??;
        self.write_header()?;
        self.inner.write_all(&out)
    }

    fn write_header(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.inner.write_all(&HEADER)?;
            self.header_written = true;
        }
        Ok(())
    }

    /// Compresses what is left, writes the trailer and returns the inner writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.submit(true)?;
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        self.write_header()?;
        self.inner.write_all(&self.crc.sum().to_le_bytes())?;
        self.inner.write_all(&self.crc.amount().to_le_bytes())?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for ParallelGzip<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        self.crc.update(&buf[..n]);
        if self.block.len() == BLOCK {
            self.submit(false)?;
        }
        Ok(n)
    }

    /// Writes out the blocks already compressed; a partial block stays until it is full (a
    /// flush must not change where blocks end, or the bytes would depend on the caller).
    fn flush(&mut self) -> io::Result<()> {
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        self.inner.flush()
    }
}

/// Blocks smaller than this are always deflated at the asked level (the tail of a stream, a
/// small layer): the probe would cost more than it saves.
const PROBE_MIN: usize = 64 << 10;

/// Raw deflate of one block, primed with `dict`; sync-flushed, or finished when `last`.
/// Incompressible blocks are stored (see the module documentation).
fn deflate_block(data: &[u8], dict: &[u8], level: Compression, last: bool) -> io::Result<Vec<u8>> {
    if level.level() > 1
        && data.len() >= PROBE_MIN
        && flat_histogram(data)
        && probes_do_not_compress(data, dict)?
    {
        return deflate_with(data, &[], Compression::none(), last);
    }
    deflate_with(data, dict, level, last)
}

/// Slices of a block that the level-1 probe compresses, and their length.
const PROBES: usize = 8;
const PROBE_LEN: usize = 8 << 10;

/// Whether level 1 saves under 3 % on [`PROBES`] slices spread over `data` taken together,
/// each primed with the 32 KiB before it (from `dict` for the first): deflate would find
/// almost no matches there. Probing all of a block at level 1 costs ~60 % of level 6; the
/// slices cost ~5 %. Taken together, because one slice may hold a file's tar header (a few
/// hundred compressible bytes among random ones), which is no reason to deflate the block.
fn probes_do_not_compress(data: &[u8], dict: &[u8]) -> io::Result<bool> {
    let step = data.len() / PROBES;
    let (mut read, mut written) = (0, 0);
    for i in 0..PROBES {
        let start = i * step;
        let slice = &data[start..(start + PROBE_LEN).min(data.len())];
        let before = if start == 0 {
            dict
        } else {
            &data[start.saturating_sub(WINDOW)..start]
        };
        read += slice.len();
        written += deflate_with(slice, before, Compression::fast(), false)?.len();
    }
    Ok(written >= read - read * 3 / 100)
}

/// Whether `data`'s bytes are spread evenly enough that Huffman coding alone saves little:
/// Pearson's chi-square of the byte counts against a uniform spread is at most `len / 16`
/// (random data gives ~255; text and executables give millions). Integer arithmetic only, so
/// that the decision, and with it the output, is the same on every machine.
fn flat_histogram(data: &[u8]) -> bool {
    let mut counts = [0u64; 256];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    let n = data.len() as u128;
    // chi2 = sum((256c - n)^2) / (256 n); chi2 <= n / 16  <=>  sum * 16 <= 256 n^2.
    let sum: u128 = counts
        .iter()
        .map(|&c| {
            let d = (256 * u128::from(c)).abs_diff(n);
            d * d
        })
        .sum();
    sum * 16 <= 256 * n * n
}

/// Raw deflate of one block at `level`, primed with `dict`; sync-flushed, or finished when
/// `last`.
fn deflate_with(data: &[u8], dict: &[u8], level: Compression, last: bool) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(level, false);
    if !dict.is_empty() {
        c.set_dictionary(dict).map_err(io::Error::other)?;
    }
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut input = data;
    loop {
        if out.capacity() - out.len() < 64 << 10 {
            out.reserve(256 << 10);
        }
        let before = c.total_in();
        let status = c
            .compress_vec(input, &mut out, flush)
            .map_err(io::Error::other)?;
        let used = usize::try_from(c.total_in() - before).unwrap_or(input.len());
        input = &input[used..];
        let room_left = out.len() < out.capacity();
        match status {
            Status::StreamEnd => break,
            // Done once all input is in and deflate stopped with output room to spare.
            Status::Ok | Status::BufError if input.is_empty() && room_left && !last => break,
            Status::Ok | Status::BufError => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        // Half compressible text, half pseudo-random bytes.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..len)
            .map(|i| {
                if (i / 4096) % 2 == 0 {
                    b"the layer compresses on every core "[i % 35]
                } else {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x.to_le_bytes()[0]
                }
            })
            .collect()
    }

    fn compress(data: &[u8], workers: usize, piece: usize) -> Vec<u8> {
        let mut w = ParallelGzip::with_workers(Vec::new(), 6, workers);
        for chunk in data.chunks(piece.max(1)) {
            w.write_all(chunk).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn round_trips_and_does_not_depend_on_workers_or_write_sizes() {
        for len in [
            0,
            1,
            100,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            3 * BLOCK + BLOCK / 2,
        ] {
            let data = sample(len);
            let one = compress(&data, 1, 7919);
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&one[..])
                .read_to_end(&mut back)
                .unwrap();
            assert!(back == data, "len {len}: decoded bytes differ");
            for (workers, piece) in [(2, 65536), (3, 1), (8, BLOCK * 2)] {
                if piece == 1 && len > BLOCK {
                    continue;
                }
                assert!(
                    compress(&data, workers, piece) == one,
                    "len {len}: {workers} workers, {piece}-byte writes gave other bytes"
                );
            }
        }
    }

    #[test]
    fn gzip_itself_reads_it() {
        let Ok(mut child) = std::process::Command::new("gzip")
            .arg("-dc")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("SKIP: gzip is not installed");
            return;
        };
        let data = sample(2 * BLOCK + 12345);
        let gz = compress(&data, 2, 100_000);
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&gz));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success());
        assert!(out.stdout == data, "gzip -dc gave other bytes");
    }

    #[test]
    fn blocks_reach_back_into_the_previous_block() {
        // The same 64 KiB twice, straddling a block end: with the dictionary the second copy
        // is matched against the first, so the output stays far below the input's size.
        let unit = sample(8192 * 8);
        let mut data = sample(BLOCK - unit.len() / 2);
        data.extend_from_slice(&unit);
        data.extend_from_slice(&unit);
        let gz = compress(&data, 2, 65536);
        let single = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::new(6));
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        };
        assert!(
            gz.len() < single.len() + 4096,
            "parallel {} vs single {} bytes",
            gz.len(),
            single.len()
        );
    }

    fn random(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[3]
            })
            .collect()
    }

    fn sha256(b: &[u8]) -> String {
        wharf_oci::digest::sha256(b).to_string()
    }

    #[test]
    fn random_blocks_are_stored_and_round_trip() {
        let data = random(3 * BLOCK + 5000, 7);
        let gz = compress(&data, 2, 65536);
        // Stored: 5 bytes of header per 64 KiB at most, plus the gzip frame.
        assert!(
            gz.len() <= data.len() + data.len() / 1000 + 64,
            "{} bytes for {}",
            gz.len(),
            data.len()
        );
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == data, "decoded bytes differ");
        assert!(compress(&data, 1, 7919) == gz, "depends on workers");
        // Stored blocks, not level 6's own choice (which stores most of such input too, but
        // only after searching it for matches).
        let block = &data[..BLOCK];
        let stored = deflate_with(block, &[], Compression::none(), false).unwrap();
        assert!(deflate_block(block, &[], Compression::new(6), false).unwrap() == stored);
    }

    /// The bytes of compressible input are those of the code before stored blocks existed
    /// (digests computed with it): layers of ordinary files keep their digests.
    #[test]
    fn compressible_input_keeps_its_bytes() {
        let mixed = sample(3 * BLOCK + BLOCK / 2);
        assert_eq!(
            sha256(&compress(&mixed, 2, 65536)),
            "sha256:cc69630566ac18c12f5cf943f53b8d53f01cc8c0c28a3569a2d9f0d29afd2d5a"
        );
        // Random 16 KiB repeated (within the 32 KiB window): a flat histogram, but deflate finds the repeats, so the
        // probe says "compressible" and the block is deflated as before.
        let unit = random(16 << 10, 11);
        let repeated: Vec<u8> = unit.iter().copied().cycle().take(2 * BLOCK + 777).collect();
        let gz = compress(&repeated, 2, 65536);
        assert!(gz.len() < repeated.len() / 4, "{} bytes", gz.len());
        assert_eq!(
            sha256(&gz),
            "sha256:df075166f57fca268044c4cc3291c6f8a25cfdf8a03d3ca364a584902619cd3f"
        );
    }
}
