//! The deterministic test vendor's package.

#![allow(clippy::unwrap_used)]

use inkseal_capture::test_vendor::{self, MAX_PACKAGE_BYTES, TEST_VENDOR_NAME, TestVendorPackage};
use inkseal_capture::{LivenessAction, LivenessChallenge, QualityThresholds, VendorCheckError};

fn challenge(nonce: u8) -> LivenessChallenge {
    LivenessChallenge::new(
        "chal-42",
        &[nonce; 32],
        vec![
            LivenessAction::Blink,
            LivenessAction::TurnLeft,
            LivenessAction::Nod,
        ],
        QualityThresholds::face(),
        1_000,
        60_000,
    )
    .unwrap()
}

fn frames() -> Vec<Vec<u8>> {
    vec![
        b"frame-a".to_vec(),
        b"frame-b".to_vec(),
        b"frame-c".to_vec(),
    ]
}

fn edit(package: &[u8], f: impl FnOnce(&mut TestVendorPackage)) -> Vec<u8> {
    let mut p = test_vendor::parse(package).unwrap();
    f(&mut p);
    serde_json::to_vec(&p).unwrap()
}

#[test]
fn a_package_made_for_the_challenge_and_frames_is_accepted() {
    let c = challenge(1);
    let package = test_vendor::make(&c, &frames());
    let p = test_vendor::check(&package, &c, &frames()).unwrap();
    assert_eq!(p.vendor, TEST_VENDOR_NAME);
    assert_eq!(p.nonce_hex, c.nonce_hex);
    assert_eq!(p.frame_sha256_hex.len(), 3);
    let text = String::from_utf8(package).unwrap();
    assert!(
        text.contains("\"actions_performed\":[\"blink\",\"turn_left\",\"nod\"]"),
        "{text}"
    );
}

#[test]
fn another_challenges_nonce_is_refused() {
    let package = test_vendor::make(&challenge(1), &frames());
    assert_eq!(
        test_vendor::check(&package, &challenge(2), &frames()),
        Err(VendorCheckError::NonceMismatch)
    );
    let mut other = challenge(1);
    other.challenge_id = "chal-43".into();
    assert_eq!(
        test_vendor::check(&package, &other, &frames()),
        Err(VendorCheckError::ChallengeIdMismatch)
    );
}

#[test]
fn actions_in_the_wrong_order_or_missing_are_refused() {
    let c = challenge(1);
    let package = test_vendor::make(&c, &frames());
    let reordered = edit(&package, |p| p.actions_performed.swap(0, 1));
    assert_eq!(
        test_vendor::check(&reordered, &c, &frames()),
        Err(VendorCheckError::ActionsMismatch)
    );
    let missing = edit(&package, |p| {
        p.actions_performed.pop();
    });
    assert_eq!(
        test_vendor::check(&missing, &c, &frames()),
        Err(VendorCheckError::ActionsMismatch)
    );
}

#[test]
fn swapped_replaced_missing_or_extra_frames_are_refused() {
    let c = challenge(1);
    let package = test_vendor::make(&c, &frames());
    let mut swapped = frames();
    swapped.swap(1, 2);
    assert_eq!(
        test_vendor::check(&package, &c, &swapped),
        Err(VendorCheckError::FrameMismatch { index: 1 })
    );
    let mut replaced = frames();
    replaced[2] = b"a photo of a photo".to_vec();
    assert_eq!(
        test_vendor::check(&package, &c, &replaced),
        Err(VendorCheckError::FrameMismatch { index: 2 })
    );
    assert_eq!(
        test_vendor::check(&package, &c, &frames()[..2]),
        Err(VendorCheckError::FrameCountMismatch {
            listed: 3,
            submitted: 2
        })
    );
    let mut extra = frames();
    extra.push(b"frame-d".to_vec());
    assert!(matches!(
        test_vendor::check(&package, &c, &extra),
        Err(VendorCheckError::FrameCountMismatch { .. })
    ));
}

#[test]
fn a_spoof_verdict_another_vendor_and_bad_bytes_are_refused() {
    let c = challenge(1);
    let spoof = test_vendor::make_with_verdict(&c, &frames(), "spoof");
    assert_eq!(
        test_vendor::check(&spoof, &c, &frames()),
        Err(VendorCheckError::NotLive("spoof".into()))
    );
    let package = test_vendor::make(&c, &frames());
    let other = edit(&package, |p| p.vendor = "acme".into());
    assert_eq!(
        test_vendor::check(&other, &c, &frames()),
        Err(VendorCheckError::WrongVendor("acme".into()))
    );
    assert!(matches!(
        test_vendor::check(b"{not json", &c, &frames()),
        Err(VendorCheckError::Malformed(_))
    ));
    let mut big = package.clone();
    big.resize(MAX_PACKAGE_BYTES + 1, b' ');
    assert!(matches!(
        test_vendor::check(&big, &c, &frames()),
        Err(VendorCheckError::TooLarge { .. })
    ));
    let text = String::from_utf8(package).unwrap();
    let extra_field = text.replacen('{', "{\"score\":0.99,", 1);
    assert!(matches!(
        test_vendor::check(extra_field.as_bytes(), &c, &frames()),
        Err(VendorCheckError::Malformed(_))
    ));
}

#[test]
fn a_silent_challenge_expects_no_actions() {
    let silent =
        LivenessChallenge::new("s-1", &[3; 32], vec![], QualityThresholds::face(), 0, 1000)
            .unwrap();
    let package = test_vendor::make(&silent, &frames());
    assert!(test_vendor::check(&package, &silent, &frames()).is_ok());
    let with_action = edit(&package, |p| {
        p.actions_performed.push(LivenessAction::Blink)
    });
    assert_eq!(
        test_vendor::check(&with_action, &silent, &frames()),
        Err(VendorCheckError::ActionsMismatch)
    );
}
