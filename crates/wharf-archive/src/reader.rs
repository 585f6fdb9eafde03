//! Reading a pulled or stored layer blob while verifying it: one pass hashes the compressed bytes
//! (the blob digest) and the decompressed bytes (the diff ID) and counts both.

use std::io::{self, Read};

use wharf_oci::Digest;
use wharf_oci::digest::{Hasher, HashingReader};
use wharf_oci::media_type::LayerCompression;

use crate::compress::{Decoder, stream_error};
use crate::{ArchiveError, LayerInfo};

/// A reader of the uncompressed tar stream of a layer blob that hashes both sides.
///
/// Read the tar through it (for example with [`crate::apply_layer`]), then call
/// [`LayerReader::finish`]: it reads what the consumer left (tar padding, trailing bytes after
/// the last compressed frame) so that the digests cover the whole blob, and returns them.
///
/// ```
/// use std::io::Read;
/// use wharf_archive::{LayerCompression, LayerReader};
/// let mut r = LayerReader::new(&b"plain bytes"[..], LayerCompression::None).unwrap();
/// let mut s = String::new();
/// r.read_to_string(&mut s).unwrap();
/// let info = r.finish().unwrap();
/// assert_eq!(info.digest, info.diff_id);
/// assert_eq!(info.size, 11);
/// ```
pub struct LayerReader<R: Read> {
    inner: DiffReader<HashingReader<R>>,
}

impl<R: Read> std::fmt::Debug for LayerReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerReader")
            .field("compression", &self.inner.compression)
            .field("uncompressed_read", &self.inner.inner.count())
            .finish_non_exhaustive()
    }
}

impl<R: Read> LayerReader<R> {
    /// Wraps a blob of the given compression; both digests are sha256.
    pub fn new(blob: R, compression: LayerCompression) -> Result<Self, ArchiveError> {
        Ok(Self {
            inner: DiffReader::new(HashingReader::new(blob, Hasher::sha256()), compression)?,
        })
    }

    /// Drains both streams and returns the blob digest and size and the diff ID and
    /// uncompressed size.
    pub fn finish(self) -> Result<LayerInfo, ArchiveError> {
        let (diff, blob) = self.inner.drain()?;
        let (digest, size, _) = blob.finish();
        Ok(LayerInfo {
            digest,
            size,
            diff_id: diff.diff_id,
            uncompressed_size: diff.uncompressed_size,
        })
    }
}

impl<R: Read> Read for LayerReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

/// What [`DiffReader::finish`] verified: the diff ID and size of the uncompressed tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffInfo {
    pub diff_id: Digest,
    pub uncompressed_size: u64,
}

/// [`LayerReader`] without the blob digest: it hashes the decompressed side only. For a
/// caller that checks the compressed bytes itself as it stores them (the store, unpacking a
/// layer while its blob writer hashes the download), where a second sha256 of every
/// compressed byte would buy nothing. [`DiffReader::finish`] still reads the blob to its end.
pub struct DiffReader<R: Read> {
    inner: HashingReader<Decoder<R>>,
    compression: LayerCompression,
}

impl<R: Read> std::fmt::Debug for DiffReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiffReader")
            .field("compression", &self.compression)
            .field("uncompressed_read", &self.inner.count())
            .finish_non_exhaustive()
    }
}

impl<R: Read> DiffReader<R> {
    /// Wraps a blob of the given compression; the diff ID is sha256.
    pub fn new(blob: R, compression: LayerCompression) -> Result<Self, ArchiveError> {
        let decoder = Decoder::new(blob, compression)?;
        Ok(Self {
            inner: HashingReader::new(decoder, Hasher::sha256()),
            compression,
        })
    }

    /// Drains the tar stream and the blob and returns the diff ID and uncompressed size.
    pub fn finish(self) -> Result<DiffInfo, ArchiveError> {
        Ok(self.drain()?.0)
    }

    /// Reads what the consumer left of the tar stream, then of the blob (trailing bytes after
    /// the last compressed frame); returns the diff and the blob reader, read to its end.
    fn drain(mut self) -> Result<(DiffInfo, R), ArchiveError> {
        io::copy(&mut self.inner, &mut io::sink())
            .map_err(|e| stream_error(self.compression, e))?;
        let (diff_id, uncompressed_size, decoder) = self.inner.finish();
        let mut blob = decoder.into_inner();
        io::copy(&mut blob, &mut io::sink()).map_err(ArchiveError::Tar)?;
        Ok((
            DiffInfo {
                diff_id,
                uncompressed_size,
            },
            blob,
        ))
    }
}

impl<R: Read> Read for DiffReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::compress::Encoder;

    /// `data` as a blob of each compression.
    fn blobs_of(data: &[u8]) -> Vec<(LayerCompression, Vec<u8>)> {
        [
            LayerCompression::Gzip,
            LayerCompression::Zstd,
            LayerCompression::None,
        ]
        .into_iter()
        .map(|c| {
            let mut enc = Encoder::new(Vec::new(), c, None).unwrap();
            enc.write_all(data).unwrap();
            (c, enc.finish().unwrap())
        })
        .collect()
    }

    #[test]
    fn digests_cover_both_sides_even_when_the_consumer_stops_early() {
        let data = vec![42u8; 300_000];
        for (c, blob) in blobs_of(&data) {
            let mut r = LayerReader::new(&blob[..], c).unwrap();
            let mut first = [0u8; 10];
            r.read_exact(&mut first).unwrap();
            let info = r.finish().unwrap();
            assert_eq!(info.digest, wharf_oci::digest::sha256(&blob), "{c:?}");
            assert_eq!(info.size, blob.len() as u64);
            assert_eq!(info.diff_id, wharf_oci::digest::sha256(&data));
            assert_eq!(info.uncompressed_size, data.len() as u64);
        }
    }

    /// The store hashes the blob as it writes it and reads the layer through a `DiffReader`:
    /// the reader must still pass every byte of the blob through, tar padding and trailing
    /// bytes included, or the stored blob would be cut short.
    #[test]
    fn diff_reader_reads_the_whole_blob_and_agrees_with_layer_reader() {
        let data = vec![7u8; 200_000];
        for (c, blob) in blobs_of(&data) {
            let mut seen = Vec::new();
            let tee = TeeInto {
                inner: &blob[..],
                copy: &mut seen,
            };
            let mut r = DiffReader::new(tee, c).unwrap();
            let mut first = [0u8; 10];
            r.read_exact(&mut first).unwrap();
            let diff = r.finish().unwrap();
            let full = LayerReader::new(&blob[..], c).unwrap().finish().unwrap();
            assert_eq!(seen, blob, "{c:?}");
            assert_eq!(diff.diff_id, full.diff_id);
            assert_eq!(diff.uncompressed_size, full.uncompressed_size);
        }
    }

    struct TeeInto<'a> {
        inner: &'a [u8],
        copy: &'a mut Vec<u8>,
    }

    impl Read for TeeInto<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.copy.extend_from_slice(&buf[..n]);
            Ok(n)
        }
    }

    #[test]
    fn trailing_bytes_after_the_gzip_stream_are_part_of_the_blob_digest() {
        let mut enc = Encoder::new(Vec::new(), LayerCompression::Gzip, None).unwrap();
        enc.write_all(b"abc").unwrap();
        let mut blob = enc.finish().unwrap();
        let info_plain = {
            let r = LayerReader::new(&blob[..], LayerCompression::Gzip).unwrap();
            r.finish().unwrap()
        };
        blob.extend_from_slice(&[0u8; 7]);
        let r = LayerReader::new(&blob[..], LayerCompression::Gzip).unwrap();
        let info = r.finish();
        // MultiGzDecoder treats trailing zeros as a bad next member or ignores them; either
        // way the digest must never silently equal the shorter blob's.
        if let Ok(info) = info {
            assert_ne!(info.digest, info_plain.digest);
            assert_eq!(info.size, blob.len() as u64);
        }
    }
}
