//! A blob stream that reports how many bytes have passed, for progress bars.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use wharf_oci::Digest;

use crate::BlobStream;
use crate::copy::{Event, Progress};

/// Bytes between two progress reports: often enough for a bar, rare enough to cost nothing.
const STEP: u64 = 256 << 10;

pub(crate) struct Counting {
    inner: BlobStream,
    digest: Digest,
    done: u64,
    reported: u64,
    progress: Progress,
}

impl Counting {
    /// `stream`, reporting to `progress` when there is one.
    pub(crate) fn wrap(
        stream: BlobStream,
        digest: &Digest,
        progress: Option<&Progress>,
    ) -> BlobStream {
        match progress {
            None => stream,
            Some(p) => Box::new(Self {
                inner: stream,
                digest: digest.clone(),
                done: 0,
                reported: 0,
                progress: p.clone(),
            }),
        }
    }
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let n = (buf.filled().len() - before) as u64;
            self.done += n;
            if n == 0 || self.done - self.reported >= STEP {
                self.reported = self.done;
                (self.progress)(&Event::BlobProgress {
                    digest: self.digest.clone(),
                    done: self.done,
                });
            }
        }
        r
    }
}
