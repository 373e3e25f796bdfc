//! The Chinese citizen identity number (公民身份号码), GB 11643-1999.
//!
//! Layout of the 18 characters:
//!
//! | positions | meaning |
//! | --- | --- |
//! | 1-6 | address (region) code of the first registration, GB/T 2260; the first two digits are the province |
//! | 7-14 | birth date `YYYYMMDD` |
//! | 15-17 | sequence code; the 17th digit is odd for men and even for women |
//! | 18 | check character, ISO 7064 MOD 11-2 over the first 17 digits: weights `7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2`, the weighted sum mod 11 indexes `"10X98765432"` |
//!
//! [`IdNumber::parse`] checks all of it: length, digits, check character, a province-level
//! code (the list below, which also admits the `81`/`82`/`83` codes of residence permits for
//! Hong Kong, Macao and Taiwan residents), a real calendar birth date not before 1900 and not
//! after `today`. A lower-case `x` is accepted and normalised to `X`.

use crate::date::Date;
use crate::error::IdNumberError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Weights of the first 17 digits (2^(18-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each weighted-sum remainder 0..=10.
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// Province-level codes (first two digits) of GB/T 2260, plus 71 (Taiwan) and the 81/82/83 of
/// residence permits.
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, // north
    21, 22, 23, // north-east
    31, 32, 33, 34, 35, 36, 37, // east
    41, 42, 43, 44, 45, 46, // central and south
    50, 51, 52, 53, 54, // south-west
    61, 62, 63, 64, 65, // north-west
    71, // Taiwan
    81, 82, 83, // Hong Kong, Macao, Taiwan residents' residence permits
];

/// Sex, as encoded in the 17th digit of the number and printed on the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// 男 (odd 17th digit). Also read from `"男"` in JSON.
    #[serde(alias = "男")]
    Male,
    /// 女 (even 17th digit). Also read from `"女"` in JSON.
    #[serde(alias = "女")]
    Female,
}

impl Sex {
    /// The character printed on the card.
    pub fn as_chinese(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// A checked ID number and what it encodes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber {
    number: String,
    /// The 6-digit region code of first registration.
    pub region: String,
    /// The birth date.
    pub birth_date: Date,
    /// The 3-digit sequence code (positions 15-17), 0-999.
    pub sequence: u16,
    /// The sex encoded by the 17th digit.
    pub sex: Sex,
}

/// The check character (`0`-`9` or `X`) for 17 digits; `None` if `first17` is not 17 ASCII digits.
pub fn check_character(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(char::from(CHECK_CHARS[(sum % 11) as usize]))
}

impl IdNumber {
    /// Parse and check a number; `today` bounds the birth date.
    pub fn parse(text: &str, today: Date) -> Result<IdNumber, IdNumberError> {
        let len = text.chars().count();
        if len != 18 || text.len() != 18 {
            return Err(IdNumberError::WrongLength { len });
        }
        let b = text.as_bytes();
        if let Some(i) = b[..17].iter().position(|c| !c.is_ascii_digit()) {
            return Err(IdNumberError::NotDigits { position: i + 1 });
        }
        let found = match b[17] {
            c @ b'0'..=b'9' => char::from(c),
            b'X' | b'x' => 'X',
            _ => return Err(IdNumberError::NotDigits { position: 18 }),
        };
        let first17 = &text[..17];
        let expected = check_character(first17).ok_or(IdNumberError::NotDigits { position: 1 })?;
        if expected != found {
            return Err(IdNumberError::BadCheckDigit { expected, found });
        }
        let province = (b[0] - b'0') * 10 + (b[1] - b'0');
        if !(1..=8).contains(&(b[0] - b'0')) || !PROVINCES.contains(&province) {
            return Err(IdNumberError::BadRegion {
                code: text[..2].to_string(),
            });
        }
        let birth_date =
            Date::parse(&text[6..14]).map_err(|e| IdNumberError::BadBirthDate(e.to_string()))?;
        if birth_date.year() < 1900 {
            return Err(IdNumberError::BadBirthDate("before 1900".into()));
        }
        if birth_date > today {
            return Err(IdNumberError::BadBirthDate(format!(
                "after today ({today})"
            )));
        }
        let sequence = text[14..17]
            .bytes()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
        let sex = if (b[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        };
        let mut number = first17.to_string();
        number.push(found);
        Ok(IdNumber {
            region: text[..6].to_string(),
            number,
            birth_date,
            sequence,
            sex,
        })
    }

    /// The normalised 18 characters (upper-case `X`).
    pub fn as_str(&self) -> &str {
        &self.number
    }

    /// The number with the birth date and sequence hidden (`110101********123X` style: region,
    /// then eight stars, then the last four), for logs and screens.
    pub fn masked(&self) -> String {
        mask_id_number(&self.number)
    }
}

/// Hide all but the first 6 and last 4 characters of an ID number (or of any text of 10 or more
/// characters; shorter texts are hidden completely).
pub fn mask_id_number(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < 6 || i >= n - 4 { *c } else { '*' })
        .collect()
}

impl fmt::Debug for IdNumber {
    /// Masked: an ID number is personal data and must not end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::new(2025, 6, 1).expect("date")
    }

    #[test]
    fn check_character_matches_the_standard_example() {
        // The worked example of GB 11643-1999 appendix: 11010519491231002X.
        assert_eq!(check_character("11010519491231002"), Some('X'));
        assert_eq!(check_character("1101051949123100"), None);
        assert_eq!(check_character("1101051949123100a"), None);
    }

    #[test]
    fn parses_the_standard_example() {
        let n = IdNumber::parse("11010519491231002x", today()).expect("valid");
        assert_eq!(n.as_str(), "11010519491231002X");
        assert_eq!(n.region, "110105");
        assert_eq!(n.birth_date, Date::new(1949, 12, 31).expect("date"));
        assert_eq!(n.sequence, 2);
        assert_eq!(n.sex, Sex::Female);
        assert_eq!(n.masked(), "110105********002X");
        assert!(!format!("{n:?}").contains("19491231"));
    }
}
