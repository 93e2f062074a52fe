//! Time as EC2 shows it: milliseconds since the epoch inside, ISO 8601 with
//! milliseconds (`2026-11-26T21:42:49.000Z`) on the wire.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Fixed-width `YYYY-MM-DDTHH:MM:SS.mmmZ`, so that string order is time order.
pub fn iso(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses an RFC 3339 / ISO 8601 timestamp as clients send it (0-9 fraction digits).
pub fn parse_iso(value: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(value, &Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_is_fixed_width_with_millis() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_764_193_369_042), "2025-11-26T21:42:49.042Z");
    }

    #[test]
    fn parses_what_clients_send() {
        assert_eq!(parse_iso("2030-01-01T00:00:00Z"), Some(1_893_456_000_000));
        assert_eq!(parse_iso("2030-01-01T00:00:00.000000Z"), Some(1_893_456_000_000));
        assert_eq!(parse_iso("not a date"), None);
    }
}
