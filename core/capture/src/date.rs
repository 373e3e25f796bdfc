//! A plain calendar date (proleptic Gregorian), as printed on ID cards.
//!
//! On the wire a [`Date`] is the string `"YYYY-MM-DD"`. Parsing accepts `YYYYMMDD` (as inside
//! an ID number), `YYYY-MM-DD` and `YYYY.MM.DD` (as printed on the card's validity line), and
//! refuses dates that do not exist (`1999-02-30`, `2023-02-29`).

use crate::error::DateError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// China Standard Time, minutes east of UTC: the zone of "today" for ID-card validity.
pub const CHINA_STANDARD_TIME_OFFSET_MINUTES: i32 = 8 * 60;

/// A calendar date. Ordering is chronological.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    // Field order matters: the derived ordering compares year, then month, then day.
    year: u16,
    month: u8,
    day: u8,
}

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: u32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1-12) of `year`; 0 for a month out of range.
pub fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A date, if it exists (years 1-9999).
    pub fn new(year: u32, month: u32, day: u32) -> Result<Date, DateError> {
        if !(1..=9999).contains(&year) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::NoSuchDate { year, month, day });
        }
        // The range checks above make these conversions lossless.
        Ok(Date {
            year: year as u16,
            month: month as u8,
            day: day as u8,
        })
    }

    /// Parse `YYYYMMDD`, `YYYY-MM-DD` or `YYYY.MM.DD`.
    pub fn parse(text: &str) -> Result<Date, DateError> {
        let b = text.as_bytes();
        let digits: [u8; 8] = match b.len() {
            8 => [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]],
            10 if b[4] == b[7] && (b[4] == b'-' || b[4] == b'.') => {
                [b[0], b[1], b[2], b[3], b[5], b[6], b[8], b[9]]
            }
            _ => return Err(DateError::BadFormat),
        };
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(DateError::BadFormat);
        }
        let n = |r: std::ops::Range<usize>| {
            digits[r]
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
        };
        Date::new(n(0..4), n(4..6), n(6..8))
    }

    /// The date at `unix_ms` milliseconds after 1970-01-01T00:00Z, in a zone `utc_offset_minutes`
    /// east of UTC (China Standard Time: [`CHINA_STANDARD_TIME_OFFSET_MINUTES`]). This is how the
    /// app gets "today" for the card-validity check.
    pub fn from_unix_ms(unix_ms: u64, utc_offset_minutes: i32) -> Date {
        let local_ms = i128::from(unix_ms) + i128::from(utc_offset_minutes) * 60_000;
        let days = local_ms.div_euclid(86_400_000);
        // Clamp to the years Date can hold; 1970 +/- 8000 years covers every u64 that matters.
        let days = days.clamp(-719_162, 2_932_896) as i64;
        Date::from_days_since_epoch(days)
    }

    /// Days since 1970-01-01 (negative before). Inverse of `from_days_since_epoch`.
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn from_days_since_epoch(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: year.clamp(1, 9999) as u16,
            month: month as u8,
            day: day as u8,
        }
    }

    /// The year.
    pub fn year(self) -> u32 {
        u32::from(self.year)
    }

    /// The month, 1-12.
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }

    /// The day of the month, 1-31.
    pub fn day(self) -> u32 {
        u32::from(self.day)
    }

    /// `YYYYMMDD`, as inside an ID number.
    pub fn compact(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for Date {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl std::str::FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Date::parse(s)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_three_forms_and_refuses_impossible_dates() {
        let d = Date::new(2024, 2, 29).expect("leap day");
        assert_eq!(Date::parse("20240229"), Ok(d));
        assert_eq!(Date::parse("2024-02-29"), Ok(d));
        assert_eq!(Date::parse("2024.02.29"), Ok(d));
        assert!(matches!(
            Date::parse("20230229"),
            Err(DateError::NoSuchDate { .. })
        ));
        assert!(Date::parse("19000229").is_err(), "1900 is not a leap year");
        assert!(Date::parse("20000229").is_ok(), "2000 is a leap year");
        assert_eq!(Date::parse("2024-02.29"), Err(DateError::BadFormat));
        assert_eq!(Date::parse("2024/02/29"), Err(DateError::BadFormat));
        assert_eq!(Date::parse("2024021"), Err(DateError::BadFormat));
        assert_eq!(Date::parse("2024-1-01"), Err(DateError::BadFormat));
        assert!(Date::parse("20241301").is_err());
        assert!(Date::parse("20240100").is_err());
        assert!(Date::parse("00000101").is_err());
        assert_eq!(Date::parse("+0240229"), Err(DateError::BadFormat));
    }

    #[test]
    fn ordering_is_chronological() {
        let a = Date::new(2023, 12, 31).expect("date");
        let b = Date::new(2024, 1, 1).expect("date");
        let c = Date::new(2024, 1, 2).expect("date");
        assert!(a < b && b < c);
    }

    #[test]
    fn unix_conversion_round_trips_and_honours_the_offset() {
        assert_eq!(Date::from_unix_ms(0, 0).to_string(), "1970-01-01");
        // 2024-02-29T20:00Z is already 2024-03-01 in Beijing.
        let ms = (Date::new(2024, 2, 29).expect("date").days_since_epoch() as u64) * 86_400_000
            + 20 * 3_600_000;
        assert_eq!(Date::from_unix_ms(ms, 0).to_string(), "2024-02-29");
        assert_eq!(Date::from_unix_ms(ms, 480).to_string(), "2024-03-01");
        for days in [-719_162i64, -1, 0, 59, 11_016, 19_782, 2_932_896] {
            let d = Date::from_days_since_epoch(days);
            assert_eq!(d.days_since_epoch(), days, "{d}");
        }
    }

    #[test]
    fn serde_uses_iso_text() {
        let d = Date::new(1990, 3, 7).expect("date");
        assert_eq!(serde_json::to_string(&d).expect("json"), "\"1990-03-07\"");
        let back: Date = serde_json::from_str("\"1990.03.07\"").expect("parse");
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Date>("\"1990-02-30\"").is_err());
    }
}
