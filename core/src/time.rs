//! Instants as milliseconds since the Unix epoch, formatted as RFC 3339.
//!
//! The glue reads the clock (`worker::Date::now()`); this crate only formats
//! and compares, so no date library is needed in the wasm.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The instant `ms` milliseconds after the epoch.
    #[must_use]
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the epoch.
    #[must_use]
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-12-04T17:20:23.042Z`.
    #[must_use]
    pub fn to_rfc3339(self) -> String {
        let days = self.0.div_euclid(86_400_000);
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let (h, rem) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
        let (m, rem) = (rem / 60_000, rem % 60_000);
        let (s, ms) = (rem / 1000, rem % 1000);
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not a UTC timestamp: {s:?}")))
    }
}

impl Timestamp {
    /// Parses exactly the form [`Timestamp::to_rfc3339`] writes.
    #[must_use]
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let shape_ok = text.len() == 24
            && text.get(4..5) == Some("-")
            && text.get(7..8) == Some("-")
            && text.get(10..11) == Some("T")
            && text.get(23..) == Some("Z");
        if !shape_ok {
            return None;
        }
        let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute) = (num(11..13)?, num(14..16)?);
        let (second, milli) = (num(17..19)?, num(20..23)?);
        let valid = (1..=12).contains(&month)
            && (1..=31).contains(&day)
            && hour <= 23
            && minute <= 59
            && second <= 59;
        if !valid {
            return None;
        }
        let days = days_from_civil(year, month, day);
        Some(Self(
            ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + milli,
        ))
    }
}

/// Day number (days since 1970-01-01) of a proleptic Gregorian date; the
/// inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date of a day number (days since 1970-01-01), after
/// Howard Hinnant's `civil_from_days`: exact for every `i64` day we can meet.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365
    let mp = (5 * doy + 2) / 153; // March-based month, 0..=11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn epoch() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn known_instants() {
        // date -u -d @1796404823 → Fri Dec  4 17:20:23 UTC 2026
        assert_eq!(
            Timestamp(1_796_404_823_042).to_rfc3339(),
            "2026-12-04T17:20:23.042Z"
        );
        // A leap day and the last millisecond of a year.
        assert_eq!(
            Timestamp(951_782_400_000).to_rfc3339(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp(1_704_067_199_999).to_rfc3339(),
            "2023-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn before_epoch() {
        assert_eq!(Timestamp(-1).to_rfc3339(), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn parses_what_it_writes() {
        for ms in [0, -1, 951_782_400_000, 1_704_067_199_999, 1_796_404_823_042] {
            let t = Timestamp(ms);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t));
        }
        assert_eq!(Timestamp::parse_rfc3339("2026-13-01T00:00:00.000Z"), None);
        assert_eq!(Timestamp::parse_rfc3339("2026-12-01T00:00:00Z"), None);
        assert_eq!(Timestamp::parse_rfc3339("2026-12-01 00:00:00.000Z"), None);
        assert_eq!(Timestamp::parse_rfc3339("2026-12-01T00:00:00.0éZ"), None);
        let back: Timestamp = serde_json::from_str("\"2000-02-29T00:00:00.000Z\"").unwrap();
        assert_eq!(back, Timestamp(951_782_400_000));
    }

    #[test]
    fn serializes_as_string() {
        assert_eq!(
            serde_json::to_string(&Timestamp(0)).unwrap(),
            "\"1970-01-01T00:00:00.000Z\""
        );
    }
}
