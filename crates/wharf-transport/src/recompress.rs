//! Layers recompressed on the way (`--dest-compress-format`, `--dest-compress-level`): the
//! source blob is decompressed and compressed again while it streams to the destination, never
//! held whole nor spooled. The source's digest and size and the layer's diff ID are checked on
//! the way, and the new digest is computed as the bytes pass; a failed check reaches the
//! destination as a read error before the end of the stream, so it never keeps the blob.

use std::io::{self, Read, Write};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::io::{StreamReader, SyncIoBridge};
use wharf_archive::{Compressor, LayerCompression};
use wharf_oci::digest::{Hasher, HashingReader, HashingWriter};
use wharf_oci::{Descriptor, Digest};

use crate::BlobStream;
use crate::copy::Progress;
use crate::counting::Counting;
use crate::dest::Destination;
use crate::error::{Result, TransportError};
use crate::source::Source;

/// Bytes per chunk handed to the destination, and chunks in flight: bounds memory per blob.
const CHUNK: usize = 256 << 10;
const IN_FLIGHT: usize = 4;

/// A layer after recompression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recompressed {
    pub digest: Digest,
    pub size: u64,
}

/// Hands written bytes to an async reader through a bounded channel.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            io::Error::new(io::ErrorKind::BrokenPipe, "the destination stopped reading")
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Decompresses `input` (a blob described by `d`, compressed as `from`), compresses it with
/// `c` into `out`, and checks the source's digest and size and the diff ID.
fn recompress(
    input: impl Read,
    d: &Descriptor,
    from: LayerCompression,
    diff_id: Option<&Digest>,
    c: Compressor,
    streams: usize,
    out: ChannelWriter,
) -> Result<(Recompressed, ChannelWriter)> {
    let fail = |source| TransportError::Recompress {
        digest: d.digest().clone(),
        source,
    };
    let hasher = Hasher::for_digest(d.digest()).map_err(|_| TransportError::Invalid {
        location: d.digest().to_string(),
        what: "unsupported digest algorithm".into(),
    })?;
    let mut raw = HashingReader::new(input, hasher);
    let mut enc = c.writer_sharing(HashingWriter::new(out, Hasher::sha256()), streams)?;
    let diff = {
        let dec = wharf_archive::decompress(&mut raw, from)?;
        let mut plain = HashingReader::new(dec, Hasher::sha256());
        io::copy(&mut plain, &mut enc).map_err(fail)?;
        plain.finish().0
    };
    // Bytes after the compressed stream's end still belong to the blob's digest.
    io::copy(&mut raw, &mut io::sink()).map_err(fail)?;
    let (actual, n, _) = raw.finish();
    if actual != *d.digest() {
        return Err(TransportError::DigestMismatch {
            what: format!("blob {}", d.digest()),
            expected: d.digest().clone(),
            actual,
        });
    }
    if n != d.size() {
        return Err(TransportError::SizeMismatch {
            digest: actual,
            expected: d.size(),
            actual: n,
        });
    }
    if let Some(want) = diff_id
        && *want != diff
    {
        return Err(TransportError::DigestMismatch {
            what: format!("uncompressed layer {} (its diff ID)", d.digest()),
            expected: want.clone(),
            actual: diff,
        });
    }
    let (digest, size, w) = enc.finish()?.finish();
    // The last chunk is still in the writer's buffer.
    Ok((Recompressed { digest, size }, w))
}

/// Copies one layer from `src` to `dst`, recompressed with `c`, as one of `streams` layers
/// recompressed at the same time (they share the cores).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn transfer(
    src: &Source,
    dst: &Destination,
    d: &Descriptor,
    from: LayerCompression,
    diff_id: Option<Digest>,
    c: Compressor,
    streams: usize,
    progress: Option<&Progress>,
) -> Result<Recompressed> {
    let input = Counting::wrap(src.blob(d).await?, d.digest(), progress);
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(IN_FLIGHT);
    let err_tx = tx.clone();
    let desc = d.clone();
    let worker = tokio::task::spawn_blocking(move || {
        let writer = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        let done = recompress(
            SyncIoBridge::new(input),
            &desc,
            from,
            diff_id.as_ref(),
            c,
            streams,
            writer,
        )
        .and_then(|(r, mut w)| {
            w.send().map_err(|source| TransportError::Recompress {
                digest: desc.digest().clone(),
                source,
            })?;
            Ok(r)
        });
        if let Err(e) = &done {
            // Fail the destination's read instead of ending the stream cleanly.
            let _ = err_tx.blocking_send(Err(io::Error::other(e.to_string())));
        }
        done
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let reader: BlobStream = Box::new(StreamReader::new(stream));
    let put = dst.put_new_blob(reader).await;
    let done = worker
        .await
        .map_err(|e| TransportError::Task(e.to_string()))?;
    match (done, put) {
        (Ok(r), Ok((digest, size))) => {
            if digest != r.digest || size != r.size {
                return Err(TransportError::DigestMismatch {
                    what: format!("recompressed layer {}", d.digest()),
                    expected: r.digest,
                    actual: digest,
                });
            }
            Ok(r)
        }
        (
            Err(e @ (TransportError::DigestMismatch { .. } | TransportError::SizeMismatch { .. })),
            _,
        )
        | (_, Err(e))
        | (Err(e), Ok(_)) => Err(e),
    }
}
