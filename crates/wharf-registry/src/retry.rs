//! When and how long to wait before trying a request again: exponential backoff on 429, 5xx,
//! connection failures and truncated bodies, and the server's `Retry-After` when it sends one.

use std::time::Duration;

/// How often and how patiently to retry (`--retry-times`, `--retry-delay`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub times: u32,
    /// A fixed delay between attempts (`--retry-delay`); `None` means exponential backoff
    /// starting at [`RetryPolicy::base`].
    pub delay: Option<Duration>,
    /// The first backoff step when no fixed delay is set.
    pub base: Duration,
    /// The longest wait, also the cap on a server's `Retry-After`.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            times: 3,
            delay: None,
            base: Duration::from_millis(500),
            max: Duration::from_mins(1),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            times: 0,
            ..Self::default()
        }
    }

    /// The wait before retry number `attempt` (0-based), honouring `retry_after` from the
    /// server when it gave one.
    pub fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = self
            .delay
            .unwrap_or_else(|| self.base.saturating_mul(1u32 << attempt.min(16)));
        retry_after.unwrap_or(backoff).min(self.max)
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let now = chrono::Utc::now();
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_retry_after_wins_and_everything_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.wait(0, None), Duration::from_millis(500));
        assert_eq!(p.wait(2, None), Duration::from_secs(2));
        assert_eq!(p.wait(20, None), Duration::from_mins(1));
        assert_eq!(
            p.wait(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.wait(0, Some(Duration::from_hours(1))),
            Duration::from_mins(1)
        );
        let fixed = RetryPolicy {
            delay: Some(Duration::from_secs(1)),
            ..p
        };
        assert_eq!(fixed.wait(5, None), Duration::from_secs(1));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let d = parse_retry_after(&later).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
