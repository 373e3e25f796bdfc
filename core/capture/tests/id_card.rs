//! ID-card fields and photos.

#![allow(clippy::unwrap_used)]

use inkseal_capture::id_card::{IdCardCaptureError, check_id_card_capture};
use inkseal_capture::quality::QualityThresholds;
use inkseal_capture::samples::{
    box_blur_rgb, encode_jpeg, id_card_back_jpeg, id_card_front_jpeg, sample_id_card_fields,
};
use inkseal_capture::{
    CaptureError, Date, IdCardError, IdCardFields, IdNumberError, QualityError, RecoveryAction,
    Sex, ValidUntil, check_id_card,
};

fn d(y: u32, m: u32, day: u32) -> Date {
    Date::new(y, m, day).unwrap()
}

fn today() -> Date {
    d(2025, 6, 1)
}

#[test]
fn the_sample_card_is_valid() {
    let f = sample_id_card_fields();
    let r = check_id_card(&f, today()).unwrap();
    assert_eq!(r.id_number.birth_date, d(1990, 3, 7));
    assert_eq!(r.id_number.sex, Sex::Male);
    assert_eq!(r.valid_until, ValidUntil::Date(d(2040, 5, 1)));
    assert_eq!(
        r.days_until_expiry,
        Some(d(2040, 5, 1).days_since_epoch() - today().days_since_epoch())
    );
}

#[test]
fn an_expired_card_is_refused_and_the_last_day_is_still_valid() {
    let mut f = sample_id_card_fields();
    f.valid_from = d(2005, 5, 31);
    f.valid_until = ValidUntil::Date(d(2025, 5, 31));
    let e = check_id_card(&f, today()).unwrap_err();
    assert_eq!(
        e,
        IdCardError::Expired {
            valid_until: d(2025, 5, 31),
            today: today()
        }
    );
    assert_eq!(
        CaptureError::from(e).action(),
        RecoveryAction::UseValidIdCard
    );
    f.valid_until = ValidUntil::Date(today());
    assert_eq!(
        check_id_card(&f, today()).unwrap().days_until_expiry,
        Some(0)
    );
}

#[test]
fn a_long_term_card_never_expires() {
    let mut f = sample_id_card_fields();
    f.valid_from = d(2010, 1, 1);
    f.valid_until = ValidUntil::LongTerm;
    let r = check_id_card(&f, d(2090, 1, 1)).unwrap();
    assert_eq!(r.valid_until, ValidUntil::LongTerm);
    assert_eq!(r.days_until_expiry, None);
}

#[test]
fn validity_period_rules() {
    let mut f = sample_id_card_fields();
    f.valid_from = d(2025, 6, 2);
    assert!(matches!(
        check_id_card(&f, today()),
        Err(IdCardError::NotYetValid { .. })
    ));
    let mut f = sample_id_card_fields();
    f.valid_until = ValidUntil::Date(f.valid_from);
    assert!(matches!(
        check_id_card(&f, today()),
        Err(IdCardError::BadValidityPeriod { .. })
    ));
}

#[test]
fn fields_must_agree_with_the_number() {
    let mut f = sample_id_card_fields();
    f.birth_date = Some(d(1990, 3, 8));
    assert_eq!(
        check_id_card(&f, today()),
        Err(IdCardError::BirthDateMismatch {
            card: d(1990, 3, 8),
            number: d(1990, 3, 7)
        })
    );
    let mut f = sample_id_card_fields();
    f.sex = Some(Sex::Female);
    assert_eq!(check_id_card(&f, today()), Err(IdCardError::SexMismatch));
    // Unread sex and birth date are not a mismatch.
    let mut f = sample_id_card_fields();
    f.sex = None;
    f.birth_date = None;
    assert!(check_id_card(&f, today()).is_ok());
}

#[test]
fn names_and_numbers_are_checked() {
    for name in ["", "   ", "张\u{0}三"] {
        let mut f = sample_id_card_fields();
        f.name = name.into();
        assert_eq!(
            check_id_card(&f, today()),
            Err(IdCardError::BadName),
            "{name:?}"
        );
    }
    let mut f = sample_id_card_fields();
    f.name = "阿".repeat(65);
    assert_eq!(check_id_card(&f, today()), Err(IdCardError::BadName));
    let mut f = sample_id_card_fields();
    f.address = "路".repeat(257);
    assert_eq!(
        check_id_card(&f, today()),
        Err(IdCardError::BadField { field: "address" })
    );
    let mut f = sample_id_card_fields();
    f.id_number
        .replace_range(17..18, if f.id_number.ends_with('0') { "1" } else { "0" });
    let e = check_id_card(&f, today()).unwrap_err();
    assert!(matches!(
        e,
        IdCardError::IdNumber(IdNumberError::BadCheckDigit { .. })
    ));
    assert_eq!(CaptureError::from(e).action(), RecoveryAction::RetakeIdCard);
}

#[test]
fn json_uses_snake_case_and_card_spellings() {
    let f = sample_id_card_fields();
    let json = serde_json::to_string(&f).unwrap();
    assert!(json.contains("\"valid_until\":\"2040-05-01\""), "{json}");
    assert!(json.contains("\"sex\":\"male\""), "{json}");
    assert!(json.contains("\"issuing_authority\""), "{json}");
    assert_eq!(serde_json::from_str::<IdCardFields>(&json).unwrap(), f);

    let ocr = r#"{"name":"李四","sex":"女","ethnicity":"回","birth_date":"19700101",
        "address":"","id_number":"11010119700101002X","issuing_authority":"",
        "valid_from":"2016.01.01","valid_until":"长期"}"#;
    let g: IdCardFields = serde_json::from_str(ocr).unwrap();
    assert_eq!(g.sex, Some(Sex::Female));
    assert_eq!(g.valid_until, ValidUntil::LongTerm);
    assert_eq!(g.valid_from, d(2016, 1, 1));
    let out = serde_json::to_string(&g).unwrap();
    assert!(out.contains("\"valid_until\":\"长期\""), "{out}");

    assert!(serde_json::from_str::<IdCardFields>(&ocr.replace("长期", "永久")).is_err());
    assert!(serde_json::from_str::<IdCardFields>(&ocr.replace("\"name\"", "\"nom\"")).is_err());
}

#[test]
fn debug_hides_personal_data() {
    let f = sample_id_card_fields();
    let dbg = format!("{f:?}");
    assert!(!dbg.contains(&f.id_number), "{dbg}");
    assert!(!dbg.contains("张三"), "{dbg}");
    assert!(!dbg.contains("示例路"), "{dbg}");
    assert!(!dbg.contains("1990"), "{dbg}");
}

#[test]
fn canonical_bytes_change_with_every_field() {
    let base = sample_id_card_fields().canonical_bytes();
    let changes: Vec<fn(&mut IdCardFields)> = vec![
        |f| f.name.push('x'),
        |f| f.sex = None,
        |f| f.ethnicity.clear(),
        |f| f.birth_date = None,
        |f| f.address.push('x'),
        |f| f.id_number.replace_range(0..1, "2"),
        |f| f.issuing_authority.push('x'),
        |f| f.valid_from = Date::new(2020, 5, 2).unwrap(),
        |f| f.valid_until = ValidUntil::LongTerm,
    ];
    for (i, change) in changes.iter().enumerate() {
        let mut f = sample_id_card_fields();
        change(&mut f);
        assert_ne!(f.canonical_bytes(), base, "change {i}");
    }
    // Moving text between adjacent fields changes the encoding (length prefixes).
    let mut a = sample_id_card_fields();
    a.ethnicity = "汉北".into();
    a.address = "京市东城区示例路1号".into();
    let mut b = sample_id_card_fields();
    b.ethnicity = "汉".into();
    b.birth_date = None;
    a.birth_date = None;
    b.address = "北京市东城区示例路1号".into();
    assert_ne!(a.canonical_bytes(), b.canonical_bytes());
}

#[test]
fn card_photos_are_checked_before_the_fields() {
    let f = sample_id_card_fields();
    let front = id_card_front_jpeg(&f, 1).unwrap();
    let back = id_card_back_jpeg(&f, 2).unwrap();
    let t = QualityThresholds::id_card();
    let r = check_id_card_capture(&front, &back, &f, &t, today()).unwrap();
    assert!(r.front.as_ref().unwrap().sharpness > 100.0);
    assert!(r.back.is_some());

    let decoded = image::load_from_memory(&back).unwrap().to_rgb8();
    let (w, h) = decoded.dimensions();
    let blurred = encode_jpeg(&box_blur_rgb(decoded.as_raw(), w, h, 4), w, h, 90).unwrap();
    let e = check_id_card_capture(&front, &blurred, &f, &t, today()).unwrap_err();
    assert!(
        matches!(e, IdCardCaptureError::Back(QualityError::Blurred { .. })),
        "{e:?}"
    );
    assert_eq!(CaptureError::from(e).action(), RecoveryAction::RetakeIdCard);

    let mut expired = f.clone();
    expired.valid_until = ValidUntil::Date(d(2024, 1, 1));
    assert!(matches!(
        check_id_card_capture(&front, &back, &expired, &t, today()),
        Err(IdCardCaptureError::Fields(IdCardError::Expired { .. }))
    ));
}
