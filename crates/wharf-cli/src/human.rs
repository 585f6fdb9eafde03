//! Human-readable sizes and ages, as podman and buildah print them.

/// Decimal units, like `docker images` and `buildah images` (`1.5 MB`, `348 MB`).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    #[allow(clippy::cast_precision_loss)] // display only: three significant digits
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if v < 10.0 {
        format!("{:.1} {}", (v * 10.0).floor() / 10.0, UNITS[unit])
    } else {
        format!("{:.0} {}", v.floor(), UNITS[unit])
    }
}

/// "2 hours ago", from an RFC 3339 time; the input itself when it does not parse.
pub fn age(rfc3339: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(rfc3339) else {
        return rfc3339.to_owned();
    };
    let secs = (now - t.with_timezone(&chrono::Utc)).num_seconds();
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match secs {
        s if s < 1 => "Less than a second ago".to_owned(),
        s if s < 60 => plural(s, "second"),
        s if s < 3600 => plural(s / 60, "minute"),
        s if s < 86_400 => plural(s / 3600, "hour"),
        s if s < 86_400 * 14 => plural(s / 86_400, "day"),
        s if s < 86_400 * 60 => plural(s / (86_400 * 7), "week"),
        s if s < 86_400 * 365 * 2 => plural(s / (86_400 * 30), "month"),
        s => plural(s / (86_400 * 365), "year"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_500_000), "1.5 MB");
        assert_eq!(size(364_700_000), "364 MB");
    }

    #[test]
    fn ages() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-02T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(age("2026-01-01T23:59:30Z", now), "30 seconds ago");
        assert_eq!(age("2026-01-01T22:00:00Z", now), "2 hours ago");
        assert_eq!(age("2025-12-31T00:00:00Z", now), "2 days ago");
        assert_eq!(age("bogus", now), "bogus");
    }
}
