//! Times on the pages: Unix milliseconds from authd shown as UTC to the
//! minute ("2026-12-05 05:12 UTC"), formatted by `humantime`, and hours
//! since the epoch as the hour they start.

use std::time::{Duration, UNIX_EPOCH};

/// `ms` since the epoch as "YYYY-MM-DD HH:MM UTC".
pub fn utc(ms: u64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(ms);
    let text = humantime::format_rfc3339_seconds(at).to_string();
    // "2026-12-05T05:12:33Z" → "2026-12-05 05:12 UTC"
    match text.get(..16) {
        Some(minute) => format!("{} UTC", minute.replacen('T', " ", 1)),
        None => text,
    }
}

/// The hour `hour` (hours since the epoch) as "YYYY-MM-DD HH:00 UTC".
pub fn hour(hour: u64) -> String {
    utc(hour.saturating_mul(3_600_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_minutes() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_764_911_553_000), "2025-12-05 05:12 UTC");
        assert_eq!(hour(490_253), "2025-12-05 05:00 UTC");
    }
}
