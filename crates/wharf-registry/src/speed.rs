//! The low-speed limit: a response body that delivers less than a minimum number of bytes per
//! second over a whole window fails, as curl's `--speed-limit`/`--speed-time` do.
//!
//! `read_timeout` alone only bounds the wait for the *next* piece: a hostile or broken registry
//! that sends one byte every minute keeps a pull alive forever. Nothing in skopeo or podman
//! bounds that; here every body read goes through `next_chunk`.

use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

/// Bytes per second below which a transfer is too slow ([`crate::ClientOptions::low_speed_limit`]).
pub const DEFAULT_LOW_SPEED_LIMIT: u64 = 1024;
/// How long a transfer may stay below the limit ([`crate::ClientOptions::low_speed_time`]).
pub const DEFAULT_LOW_SPEED_TIME: Duration = Duration::from_mins(1);

/// What [`next_chunk`] ran into.
#[derive(Debug)]
pub(crate) enum ChunkError {
    Http(reqwest::Error),
    /// Fewer than `limit` bytes per second arrived during the last `window`.
    TooSlow {
        bytes: u64,
        window: Duration,
    },
}

/// Counts the bytes of one response per window.
#[derive(Debug)]
pub(crate) struct Watchdog {
    limit: u64,
    window: Duration,
    start: Instant,
    bytes: u64,
}

impl Watchdog {
    /// `None` when the limit is off (a zero limit or window).
    pub(crate) fn new(limit: u64, window: Duration) -> Option<Self> {
        (limit > 0 && !window.is_zero()).then(|| Self {
            limit,
            window,
            start: Instant::now(),
            bytes: 0,
        })
    }

    /// Closes the window if it is over: too few bytes in it is an error, else a new one starts.
    fn roll(&mut self, now: Instant) -> Result<(), ChunkError> {
        if now < self.start + self.window {
            return Ok(());
        }
        let needed = u128::from(self.limit) * self.window.as_millis() / 1000;
        if u128::from(self.bytes) < needed {
            return Err(ChunkError::TooSlow {
                bytes: self.bytes,
                window: self.window,
            });
        }
        self.start = now;
        self.bytes = 0;
        Ok(())
    }
}

/// The next piece of `resp`'s body, failing when the transfer falls below the watchdog's
/// limit for a whole window (also when nothing arrives at all).
pub(crate) async fn next_chunk(
    resp: &mut reqwest::Response,
    watchdog: Option<&mut Watchdog>,
) -> Result<Option<Bytes>, ChunkError> {
    let Some(wd) = watchdog else {
        return resp.chunk().await.map_err(ChunkError::Http);
    };
    loop {
        let end = wd.start + wd.window;
        // `Response::chunk` only borrows the response: a timed-out call loses no data.
        match tokio::time::timeout_at(end, resp.chunk()).await {
            Ok(Ok(Some(bytes))) => {
                wd.bytes += bytes.len() as u64;
                wd.roll(Instant::now())?;
                return Ok(Some(bytes));
            }
            Ok(Ok(None)) => return Ok(None),
            Ok(Err(e)) => return Err(ChunkError::Http(e)),
            Err(_) => wd.roll(Instant::now())?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_with_too_few_bytes_fails_and_a_full_one_restarts() {
        let mut wd = Watchdog::new(100, Duration::from_secs(2)).unwrap();
        let t0 = wd.start;
        wd.bytes = 150;
        assert!(wd.roll(t0 + Duration::from_secs(1)).is_ok());
        assert!(matches!(
            wd.roll(t0 + Duration::from_secs(2)),
            Err(ChunkError::TooSlow { bytes: 150, .. })
        ));
        wd.bytes = 200;
        assert!(wd.roll(t0 + Duration::from_secs(2)).is_ok());
        assert_eq!(wd.bytes, 0);
        assert!(Watchdog::new(0, Duration::from_secs(1)).is_none());
    }
}
