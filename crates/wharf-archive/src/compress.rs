//! gzip and zstd streams with fixed settings.
//!
//! The compressed bytes are part of a layer's identity (its digest), so the backend and level are
//! fixed: gzip is flate2 with the zlib-rs backend at level 6 (the level `gzip` itself defaults
//! to), compressed on every core in fixed 1 MiB blocks (see [`crate::pgzip`]); zstd is level 3
//! in multithreaded mode with fixed 2 MiB jobs, on reused contexts (see [`crate::zstdmt`]).
//! Neither output depends on the number of cores or workers.

use std::io::{self, BufReader, Read, Write};

use wharf_oci::media_type::LayerCompression;

use crate::ArchiveError;
use crate::limits::ExpansionLimits;

/// Bytes of input per zstdmt job; fixed because it shapes the compressed output.
const ZSTD_JOB_SIZE: u32 = 2 << 20;

/// The gzip level used when [`crate::WriteOptions::level`] is `None`.
pub const DEFAULT_GZIP_LEVEL: i32 = 6;
/// The zstd level used when [`crate::WriteOptions::level`] is `None`.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

fn compression_name(c: LayerCompression) -> &'static str {
    match c {
        LayerCompression::None => "tar",
        LayerCompression::Gzip => "gzip",
        LayerCompression::Zstd => "zstd",
    }
}

/// What a stream is, by its first bytes: gzip and zstd by their magic numbers, a tar by the
/// `ustar` magic at offset 257 (`None` inside), anything else `None`. The one place that
/// sniffs: imports, build contexts, `ADD` and archives all ask here.
pub fn sniff(head: &[u8]) -> Option<LayerCompression> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some(LayerCompression::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(LayerCompression::Zstd)
    } else if head.get(257..262) == Some(b"ustar") {
        Some(LayerCompression::None)
    } else {
        None
    }
}

/// Wraps a compressed layer stream in the matching decompressor. Concatenated gzip members and
/// zstd frames are read as one stream, as registries and other tools produce them. The output
/// is bounded by [`ExpansionLimits::current`].
pub fn decompress<'a, R: Read + 'a>(
    r: R,
    c: LayerCompression,
) -> Result<Box<dyn Read + 'a>, ArchiveError> {
    Ok(Box::new(Decoder::new(r, c)?))
}

/// Counts the compressed bytes a decoder has taken from its source.
pub(crate) struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

enum Kind<R: Read> {
    None(R),
    Gzip(Box<flate2::read::MultiGzDecoder<Counted<R>>>),
    Zstd(zstd::stream::read::Decoder<'static, BufReader<Counted<R>>>),
}

/// A decompressor whose source can be taken back at the end (to hash trailing bytes), and
/// whose output is bounded by [`ExpansionLimits`].
pub(crate) struct Decoder<R: Read> {
    kind: Kind<R>,
    limits: ExpansionLimits,
    produced: u64,
}

impl<R: Read> Decoder<R> {
    pub(crate) fn new(r: R, c: LayerCompression) -> Result<Self, ArchiveError> {
        Self::with_limits(r, c, ExpansionLimits::current())
    }

    pub(crate) fn with_limits(
        r: R,
        c: LayerCompression,
        limits: ExpansionLimits,
    ) -> Result<Self, ArchiveError> {
        let counted = Counted { inner: r, read: 0 };
        let kind = match c {
            LayerCompression::None => Kind::None(counted.inner),
            LayerCompression::Gzip => {
                Kind::Gzip(Box::new(flate2::read::MultiGzDecoder::new(counted)))
            }
            LayerCompression::Zstd => Kind::Zstd(
                zstd::stream::read::Decoder::new(counted)
                    .map_err(|e| ArchiveError::Compression("zstd", e))?,
            ),
        };
        Ok(Self {
            kind,
            limits,
            produced: 0,
        })
    }

    /// The source reader; bytes it buffered ahead were already read from it.
    pub(crate) fn into_inner(self) -> R {
        match self.kind {
            Kind::None(r) => r,
            Kind::Gzip(d) => d.into_inner().inner,
            Kind::Zstd(d) => d.finish().into_inner().inner,
        }
    }

    /// Compressed bytes taken from the source so far (`None` for an uncompressed stream).
    fn consumed(&self) -> Option<u64> {
        match &self.kind {
            Kind::None(_) => None,
            Kind::Gzip(d) => Some(d.get_ref().read),
            Kind::Zstd(d) => Some(d.get_ref().get_ref().read),
        }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.kind {
            Kind::None(r) => return r.read(buf),
            Kind::Gzip(d) => d.read(buf)?,
            Kind::Zstd(d) => d.read(buf)?,
        };
        self.produced += n as u64;
        if let Some(consumed) = self.consumed() {
            self.limits.check_io(self.produced, consumed)?;
        }
        Ok(n)
    }
}

/// A compressor over `W` with the fixed settings above.
pub(crate) enum Encoder<W: Write> {
    None(W),
    Gzip(crate::pgzip::ParallelGzip<W>),
    Zstd(crate::zstdmt::ZstdWriter<W>),
}

impl<W: Write> Encoder<W> {
    pub(crate) fn new(w: W, c: LayerCompression, level: Option<i32>) -> Result<Self, ArchiveError> {
        Self::sharing(w, c, level, 1)
    }

    /// An encoder for one of `streams` streams compressed at the same time.
    fn sharing(
        w: W,
        c: LayerCompression,
        level: Option<i32>,
        streams: usize,
    ) -> Result<Self, ArchiveError> {
        Ok(match c {
            LayerCompression::None => Self::None(w),
            LayerCompression::Gzip => {
                let level = level.unwrap_or(DEFAULT_GZIP_LEVEL).clamp(0, 9) as u32;
                // No name, mtime 0: the header is the same for every run.
                Self::Gzip(crate::pgzip::ParallelGzip::new(w, level))
            }
            LayerCompression::Zstd => {
                // One stream uses every core (up to 8); streams compressed at once share them.
                let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
                let workers = (cores / streams.max(1)).clamp(1, 8) as u32;
                // zstdmt's default job (4 windows, 8 MiB at level 3) kept several jobs' buffers
                // alive at once. The job size is part of the output's identity (the worker
                // count is not), so it is fixed here.
                let level = level.unwrap_or(DEFAULT_ZSTD_LEVEL);
                Self::Zstd(
                    crate::zstdmt::ZstdWriter::new(w, level, ZSTD_JOB_SIZE, workers)
                        .map_err(|e| ArchiveError::Compression("zstd", e))?,
                )
            }
        })
    }

    pub(crate) fn finish(self) -> Result<W, ArchiveError> {
        match self {
            Self::None(w) => Ok(w),
            Self::Gzip(e) => e.finish().map_err(|e| ArchiveError::Compression("gzip", e)),
            Self::Zstd(e) => e.finish().map_err(|e| ArchiveError::Compression("zstd", e)),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::None(w) => w.write(buf),
            Self::Gzip(e) => e.write(buf),
            Self::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::None(w) => w.flush(),
            Self::Gzip(e) => e.flush(),
            Self::Zstd(e) => e.flush(),
        }
    }
}

/// A layer compression and its level, as `--dest-compress-format` and `--dest-compress-level`
/// choose them: the same encoders (zlib-rs gzip, fixed-job zstdmt) as layers written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressor {
    pub compression: LayerCompression,
    /// `None` for the default level of the compression.
    pub level: Option<i32>,
}

impl Compressor {
    pub fn new(compression: LayerCompression, level: Option<i32>) -> Self {
        Self { compression, level }
    }

    /// The levels the compression accepts (gzip 0-9, zstd 1-22; none for no compression).
    pub fn levels(compression: LayerCompression) -> std::ops::RangeInclusive<i32> {
        match compression {
            LayerCompression::None => 0..=0,
            LayerCompression::Gzip => 0..=9,
            LayerCompression::Zstd => 1..=22,
        }
    }

    /// Whether the level (if any) is one the compression accepts.
    pub fn level_is_valid(&self) -> bool {
        self.level
            .is_none_or(|l| Self::levels(self.compression).contains(&l))
    }

    /// A writer compressing into `w`; call [`CompressWriter::finish`] to write the trailer.
    pub fn writer<W: Write>(&self, w: W) -> Result<CompressWriter<W>, ArchiveError> {
        Encoder::new(w, self.compression, self.level).map(CompressWriter)
    }

    /// A writer for one of `streams` streams compressed at the same time: zstd's workers of
    /// all of them together stay within the cores (the output is the same as [`Self::writer`]'s).
    pub fn writer_sharing<W: Write>(
        &self,
        w: W,
        streams: usize,
    ) -> Result<CompressWriter<W>, ArchiveError> {
        Encoder::sharing(w, self.compression, self.level, streams).map(CompressWriter)
    }
}

/// A stream compressed as its [`Compressor`] says.
pub struct CompressWriter<W: Write>(Encoder<W>);

impl<W: Write> CompressWriter<W> {
    /// Ends the compressed stream and returns the inner writer.
    pub fn finish(self) -> Result<W, ArchiveError> {
        self.0.finish()
    }
}

impl<W: Write> Write for CompressWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

pub(crate) fn stream_error(c: LayerCompression, e: io::Error) -> ArchiveError {
    ArchiveError::Compression(compression_name(c), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_knows_gzip_zstd_and_tar_only() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8]), Some(LayerCompression::Gzip));
        assert_eq!(
            sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Some(LayerCompression::Zstd)
        );
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&tar), Some(LayerCompression::None));
        assert_eq!(sniff(b"BZh91AY"), None);
        assert_eq!(sniff(&[]), None);
    }

    #[test]
    fn expansion_past_the_limits_fails_with_the_named_limit() {
        let zeros = vec![0u8; 8 << 20];
        for c in [LayerCompression::Gzip, LayerCompression::Zstd] {
            let mut enc = Encoder::new(Vec::new(), c, None).unwrap();
            enc.write_all(&zeros).unwrap();
            let bomb = enc.finish().unwrap();
            let limits = ExpansionLimits {
                max_size: Some(1 << 20),
                max_ratio: None,
            };
            let mut d = Decoder::with_limits(&bomb[..], c, limits).unwrap();
            let err = io::copy(&mut d, &mut io::sink()).unwrap_err();
            let inner = err.get_ref().map(ToString::to_string).unwrap_or_default();
            assert!(inner.contains("WHARF_LAYER_MAX_SIZE"), "{c:?}: {err}");
            // Within the limits the same stream decodes whole.
            let mut d = Decoder::with_limits(&bomb[..], c, ExpansionLimits::default()).unwrap();
            assert_eq!(
                io::copy(&mut d, &mut io::sink()).unwrap(),
                zeros.len() as u64
            );
        }
    }

    fn roundtrip(c: LayerCompression) -> Vec<u8> {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut enc = Encoder::new(Vec::new(), c, None).unwrap();
        enc.write_all(&data).unwrap();
        let compressed = enc.finish().unwrap();
        let mut out = Vec::new();
        decompress(&compressed[..], c)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        compressed
    }

    #[test]
    fn every_compression_round_trips_and_is_deterministic() {
        for c in [
            LayerCompression::None,
            LayerCompression::Gzip,
            LayerCompression::Zstd,
        ] {
            let a = roundtrip(c);
            let b = roundtrip(c);
            assert_eq!(a, b, "{c:?} output must not vary between runs");
        }
        assert!(roundtrip(LayerCompression::Gzip).len() < 200_000);
    }

    #[test]
    fn concatenated_gzip_members_read_as_one_stream() {
        let mut blob = Vec::new();
        for part in [&b"hello "[..], b"world"] {
            let mut e = Encoder::new(Vec::new(), LayerCompression::Gzip, None).unwrap();
            e.write_all(part).unwrap();
            blob.extend(e.finish().unwrap());
        }
        let mut out = String::new();
        decompress(&blob[..], LayerCompression::Gzip)
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello world");
    }

    #[test]
    fn compressor_levels_change_the_output_and_round_trip() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 97) as u8).collect();
        let out = |c: Compressor| {
            let mut w = c.writer(Vec::new()).unwrap();
            w.write_all(&data).unwrap();
            let blob = w.finish().unwrap();
            let mut back = Vec::new();
            decompress(&blob[..], c.compression)
                .unwrap()
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data);
            blob
        };
        let fast = out(Compressor::new(LayerCompression::Zstd, Some(1)));
        let best = out(Compressor::new(LayerCompression::Zstd, Some(19)));
        assert_ne!(fast, best);
        assert!(fast.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]));
        let g = out(Compressor::new(LayerCompression::Gzip, Some(1)));
        assert!(g.starts_with(&[0x1f, 0x8b]));
        assert!(Compressor::new(LayerCompression::Gzip, Some(9)).level_is_valid());
        assert!(!Compressor::new(LayerCompression::Gzip, Some(10)).level_is_valid());
        assert!(!Compressor::new(LayerCompression::Zstd, Some(0)).level_is_valid());
    }

    #[test]
    fn zstd_output_is_the_same_for_any_worker_share_and_reused_context() {
        // Larger than several 2 MiB jobs, so that workers really split it.
        let data: Vec<u8> = (0..9_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 & 0x3f)
            .collect();
        let c = Compressor::new(LayerCompression::Zstd, None);
        let out = |streams: usize| {
            let mut w = c.writer_sharing(Vec::new(), streams).unwrap();
            w.write_all(&data).unwrap();
            w.finish().unwrap()
        };
        let one = out(1);
        // The same bytes as the zstd crate's own multithreaded encoder with these settings,
        // so layers keep the digests they had before contexts were pooled.
        let mut plain = zstd::stream::write::Encoder::new(Vec::new(), DEFAULT_ZSTD_LEVEL).unwrap();
        plain.multithread(3).unwrap();
        plain
            .set_parameter(zstd::zstd_safe::CParameter::JobSize(ZSTD_JOB_SIZE))
            .unwrap();
        plain.write_all(&data).unwrap();
        assert_eq!(plain.finish().unwrap(), one);
        // A stream abandoned half-way returns its context to the pool; the reset drops its
        // frame, so the next stream on that context starts clean.
        let mut abandoned = c.writer(Vec::new()).unwrap();
        abandoned.write_all(&data[..3_000_000]).unwrap();
        drop(abandoned);
        for streams in [1, 2, 64] {
            assert_eq!(out(streams), one, "{streams} streams");
        }
        let mut back = Vec::new();
        decompress(&one[..], LayerCompression::Zstd)
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn corrupt_zstd_is_an_error() {
        let mut out = Vec::new();
        let r = decompress(&b"not zstd at all"[..], LayerCompression::Zstd)
            .unwrap()
            .read_to_end(&mut out);
        assert!(r.is_err());
    }
}
