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
    if !(0..=9999).contains(&t.year()) {
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        );
    }
    // Digits written in place: every described resource carries a time or two, and the
    // formatting machinery costs more than the rest of the field.
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut value: u32| {
        for slot in out[at..at + width].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, t.year() as u32);
    put(5, 2, t.month() as u32);
    put(8, 2, t.day() as u32);
    put(11, 2, t.hour() as u32);
    put(14, 2, t.minute() as u32);
    put(17, 2, t.second() as u32);
    put(20, 3, t.millisecond() as u32);
    String::from_utf8(out.to_vec()).expect("ASCII digits")
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
        assert_eq!(iso(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        assert_eq!(iso(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn parses_what_clients_send() {
        assert_eq!(parse_iso("2030-01-01T00:00:00Z"), Some(1_893_456_000_000));
        assert_eq!(parse_iso("2030-01-01T00:00:00.000000Z"), Some(1_893_456_000_000));
        assert_eq!(parse_iso("not a date"), None);
    }
}
