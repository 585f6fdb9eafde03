//! Applying a layer on two threads: the calling thread reads the tar stream (for a pull: the
//! download, its sha256 as the store writes it, the decompression and the diff ID) and a
//! second thread creates the files. The two halves cost about the same (decompression and
//! hashing in user space, file creation in the kernel), so a layer that unpacks alone (the
//! last and largest of a pull, or a single-layer image) keeps two cores busy instead of one.

use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc;

use crate::ArchiveError;
use crate::apply::apply_layer;
use crate::options::{ApplyOptions, ApplyStats};

/// Bytes handed over at a time.
const CHUNK: usize = 256 << 10;
/// Chunks in flight: the reader runs at most this far ahead of the applier (1 MiB).
const DEPTH: usize = 4;

/// [`apply_layer`] with the reading of `tar` on this thread and the applying on another.
///
/// The result is the applier's, as if `apply_layer` had read `tar` itself: a read error
/// reaches the applier at the point in the stream where it happened. When the applier stops
/// early (the end-of-archive marker, or an error), reading stops too; `tar` may then hold
/// unread bytes, which the caller drains as after [`apply_layer`] (the chunk in flight was
/// already read from `tar`, so a hashing reader has counted it). Falls back to one thread
/// when no thread can be started.
pub fn apply_layer_threaded<R: Read>(
    tar: &mut R,
    root: &Path,
    opts: &ApplyOptions,
) -> Result<ApplyStats, ArchiveError> {
    let (full_tx, full_rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(DEPTH);
    let (spent_tx, spent_rx) = mpsc::channel::<Vec<u8>>();
    let chunks = Chunks {
        rx: full_rx,
        spent: spent_tx,
        cur: Vec::new(),
        pos: 0,
    };
    let outcome = std::thread::scope(|s| {
        let applier = std::thread::Builder::new()
            .name("wharf-apply".into())
            .spawn_scoped(s, move || apply_layer(chunks, root, opts));
        let Ok(applier) = applier else {
            return None;
        };
        loop {
            // Buffers come back from the applier once read, so a layer touches DEPTH + 2
            // fresh buffers, not one per chunk.
            let mut buf = spent_rx.try_recv().unwrap_or_default();
            buf.resize(CHUNK, 0);
            let (n, error) = read_full(tar, &mut buf);
            buf.truncate(n);
            // The bytes read before an error go first, as the applier would have seen them.
            if n > 0 && full_tx.send(Ok(buf)).is_err() {
                break; // the applier stopped: done, or failed
            }
            if let Some(e) = error {
                let _ = full_tx.send(Err(e));
                break;
            }
            if n < CHUNK {
                break; // end of stream
            }
        }
        drop(full_tx);
        Some(match applier.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    });
    match outcome {
        Some(result) => result,
        None => apply_layer(tar, root, opts),
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read and the error that
/// stopped it early, if one did.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

/// The applier's side: the chunks as one stream.
struct Chunks {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
    spent: mpsc::Sender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for Chunks {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            match self.rx.recv() {
                Ok(Ok(next)) => {
                    let spent = std::mem::replace(&mut self.cur, next);
                    self.pos = 0;
                    if spent.capacity() > 0 {
                        let _ = self.spent.send(spent);
                    }
                }
                Ok(Err(e)) => return Err(e),
                // The reader is done: end of stream.
                Err(mpsc::RecvError) => return Ok(0),
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar of `files` regular files of `size` bytes each (each a different byte).
    fn tar_of(files: usize, size: usize) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for i in 0..files {
            let mut h = tar::Header::new_gnu();
            h.set_size(size as u64);
            h.set_mode(0o644);
            h.set_mtime(1);
            h.set_entry_type(tar::EntryType::Regular);
            let data = vec![u8::try_from(i % 251).unwrap(); size];
            b.append_data(&mut h, format!("d/f{i}"), &data[..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    /// Fails with `EIO` once `limit` bytes have been read.
    struct FailsAfter<'a> {
        data: &'a [u8],
        limit: usize,
    }

    impl Read for FailsAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.limit == 0 {
                return Err(io::Error::other("the download broke"));
            }
            let n = buf.len().min(self.limit).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.limit -= n;
            Ok(n)
        }
    }

    #[test]
    fn two_threads_make_the_same_tree_as_one() {
        // Files larger and smaller than a chunk, so entries straddle chunk boundaries.
        let tar = tar_of(40, 100_000);
        let one = tempfile::tempdir().unwrap();
        let two = tempfile::tempdir().unwrap();
        let opts = ApplyOptions::default();
        let a = apply_layer(&tar[..], one.path(), &opts).unwrap();
        let mut reader = &tar[..];
        let b = apply_layer_threaded(&mut reader, two.path(), &opts).unwrap();
        assert_eq!(a, b);
        for i in 0..40 {
            let name = format!("d/f{i}");
            assert_eq!(
                std::fs::read(one.path().join(&name)).unwrap(),
                std::fs::read(two.path().join(&name)).unwrap(),
                "{name}"
            );
        }
    }

    /// A stream that breaks at an entry boundary must fail the apply, not end it quietly
    /// with part of the layer (the tar reader takes a clean end there for the archive's end).
    #[test]
    fn a_read_error_reaches_the_applier_even_at_an_entry_boundary() {
        let tar = tar_of(8, 512 * 1024);
        // Each entry is a 512-byte header plus its data: stop right after the third one.
        let boundary = 3 * (512 + 512 * 1024);
        for limit in [boundary, boundary + 700, 100] {
            let dir = tempfile::tempdir().unwrap();
            let mut broken = FailsAfter { data: &tar, limit };
            let err = apply_layer_threaded(&mut broken, dir.path(), &ApplyOptions::default())
                .expect_err("a broken stream must not apply");
            assert!(
                format!("{err:?}").contains("the download broke"),
                "{limit}: {err:?}"
            );
        }
    }

    #[test]
    fn the_applier_stopping_early_stops_the_reader() {
        let dir = tempfile::tempdir().unwrap();
        // A hard link to nothing, which the applier refuses, then 64 MiB of zeros.
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Link);
        h.set_link_name("missing").unwrap();
        b.append_data(&mut h, "link", &[][..]).unwrap();
        let mut bytes = b.into_inner().unwrap();
        bytes.resize(bytes.len() + (64 << 20), 0);
        let mut reader = &bytes[..];
        let err = apply_layer_threaded(&mut reader, dir.path(), &ApplyOptions::default())
            .expect_err("a link to nothing is refused");
        assert!(format!("{err}").contains("link"), "{err}");
        assert!(
            reader.len() > (60 << 20),
            "read {} bytes after the refusal",
            bytes.len() - reader.len()
        );
    }
}
