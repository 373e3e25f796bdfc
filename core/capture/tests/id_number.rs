//! GB 11643-1999 ID numbers.

#![allow(clippy::unwrap_used)]

use inkseal_capture::id_number::{IdNumber, Sex, check_character};
use inkseal_capture::{Date, IdNumberError};
use proptest::prelude::*;

fn today() -> Date {
    Date::new(2025, 6, 1).unwrap()
}

/// 17 digits plus their check character.
fn with_check(first17: &str) -> String {
    format!("{first17}{}", check_character(first17).unwrap())
}

#[test]
fn valid_numbers_parse_with_their_parts() {
    let n = IdNumber::parse(&with_check("44030419851130542"), today()).unwrap();
    assert_eq!(n.region, "440304");
    assert_eq!(n.birth_date, Date::new(1985, 11, 30).unwrap());
    assert_eq!(n.sequence, 542);
    assert_eq!(n.sex, Sex::Female, "4 is even");
    let m = IdNumber::parse(&with_check("11010119900307123"), today()).unwrap();
    assert_eq!(m.sex, Sex::Male, "3 is odd");
    assert_eq!(m.sequence, 123);
}

#[test]
fn lower_case_x_is_accepted_and_normalised() {
    let n = IdNumber::parse("11010519491231002x", today()).unwrap();
    assert_eq!(n.as_str(), "11010519491231002X");
    let upper = IdNumber::parse("11010519491231002X", today()).unwrap();
    assert_eq!(n, upper);
}

#[test]
fn a_wrong_check_character_names_the_expected_one() {
    assert_eq!(
        IdNumber::parse("110105194912310021", today()),
        Err(IdNumberError::BadCheckDigit {
            expected: 'X',
            found: '1'
        })
    );
    let good = with_check("11010119900307123");
    let last = good.chars().last().unwrap();
    let wrong = if last == '0' { '1' } else { '0' };
    let bad = format!("{}{wrong}", &good[..17]);
    assert_eq!(
        IdNumber::parse(&bad, today()),
        Err(IdNumberError::BadCheckDigit {
            expected: last,
            found: wrong
        })
    );
}

#[test]
fn impossible_birth_dates_are_refused() {
    // 1999-02-30 does not exist; 2000-02-29 does; 1900-02-29 does not.
    assert!(matches!(
        IdNumber::parse(&with_check("11010119990230123"), today()),
        Err(IdNumberError::BadBirthDate(_))
    ));
    assert!(IdNumber::parse(&with_check("11010120000229123"), today()).is_ok());
    assert!(matches!(
        IdNumber::parse(&with_check("11010119000229123"), today()),
        Err(IdNumberError::BadBirthDate(_))
    ));
    assert!(matches!(
        IdNumber::parse(&with_check("11010119991301123"), today()),
        Err(IdNumberError::BadBirthDate(_))
    ));
    assert!(matches!(
        IdNumber::parse(&with_check("11010118991231123"), today()),
        Err(IdNumberError::BadBirthDate(_))
    ));
}

#[test]
fn a_birth_date_after_today_is_refused() {
    let n = with_check("11010120250602123");
    assert!(matches!(
        IdNumber::parse(&n, today()),
        Err(IdNumberError::BadBirthDate(_))
    ));
    // Born today is fine.
    assert!(IdNumber::parse(&with_check("11010120250601123"), today()).is_ok());
    // And the same number is fine a day later.
    assert!(IdNumber::parse(&n, Date::new(2025, 6, 2).unwrap()).is_ok());
}

#[test]
fn unknown_province_codes_are_refused() {
    for first17 in [
        "01010119900307123",
        "99010119900307123",
        "20010119900307123",
        "39010119900307123",
        "84010119900307123",
    ] {
        assert_eq!(
            IdNumber::parse(&with_check(first17), today()),
            Err(IdNumberError::BadRegion {
                code: first17[..2].to_string()
            }),
            "{first17}"
        );
    }
    for ok in [
        "65010119900307123",
        "81000019900307123",
        "71000019900307123",
    ] {
        assert!(IdNumber::parse(&with_check(ok), today()).is_ok(), "{ok}");
    }
}

#[test]
fn length_and_character_errors() {
    assert_eq!(
        IdNumber::parse("1101051949123100", today()),
        Err(IdNumberError::WrongLength { len: 16 })
    );
    assert_eq!(
        IdNumber::parse("", today()),
        Err(IdNumberError::WrongLength { len: 0 })
    );
    assert_eq!(
        IdNumber::parse(" 11010519491231002X", today()),
        Err(IdNumberError::WrongLength { len: 19 })
    );
    // 17 characters but one of them is 2 bytes: not 18 ASCII characters.
    assert!(matches!(
        IdNumber::parse("1101051949123100二", today()),
        Err(IdNumberError::WrongLength { .. })
    ));
    assert_eq!(
        IdNumber::parse("11010519491A31002X", today()),
        Err(IdNumberError::NotDigits { position: 12 })
    );
    assert_eq!(
        IdNumber::parse("11010519491231002Y", today()),
        Err(IdNumberError::NotDigits { position: 18 })
    );
    assert_eq!(
        IdNumber::parse("X10105194912310021", today()),
        Err(IdNumberError::NotDigits { position: 1 })
    );
}

fn valid_first17() -> impl Strategy<Value = String> {
    let provinces = prop::sample::select(vec![11u32, 12, 31, 32, 44, 50, 53, 65, 81]);
    (
        provinces,
        0u32..10_000,
        1900u32..2025,
        1u32..=12,
        1u32..=28,
        0u32..1000,
    )
        .prop_map(|(p, area, y, m, d, seq)| format!("{p:02}{area:04}{y:04}{m:02}{d:02}{seq:03}"))
}

proptest! {
    #[test]
    fn generated_numbers_parse_and_round_trip(first17 in valid_first17()) {
        let s = with_check(&first17);
        let n = IdNumber::parse(&s, today()).unwrap();
        prop_assert_eq!(n.as_str(), s.as_str());
        prop_assert_eq!(&n.region, &first17[..6]);
        prop_assert_eq!(n.birth_date.compact(), &first17[6..14]);
        let odd = (first17.as_bytes()[16] - b'0') % 2 == 1;
        prop_assert_eq!(n.sex, if odd { Sex::Male } else { Sex::Female });
    }

    /// MOD 11-2 detects every single-character substitution.
    #[test]
    fn any_single_substitution_is_detected(first17 in valid_first17(), pos in 0usize..18, digit in 0u8..11) {
        let s = with_check(&first17);
        let replacement = if digit == 10 { b'X' } else { b'0' + digit };
        prop_assume!(s.as_bytes()[pos] != replacement);
        prop_assume!(pos == 17 || replacement != b'X');
        let mut bytes = s.into_bytes();
        bytes[pos] = replacement;
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(IdNumber::parse(&changed, today()).is_err(), "{}", changed);
    }

    /// Swapping two different adjacent digits is detected too.
    #[test]
    fn adjacent_transpositions_are_detected(first17 in valid_first17(), pos in 0usize..16) {
        let s = with_check(&first17);
        let b = s.as_bytes();
        prop_assume!(b[pos] != b[pos + 1]);
        let mut bytes = b.to_vec();
        bytes.swap(pos, pos + 1);
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(IdNumber::parse(&changed, today()).is_err(), "{}", changed);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,24}") {
        let _ = IdNumber::parse(&s, today());
    }
}
