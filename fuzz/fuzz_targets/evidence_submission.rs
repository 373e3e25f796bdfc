//! Everything the server parses from a phone's evidence: the submission body and its
//! consistency check, a bare manifest, the test vendor's package, the challenge, ID-card fields
//! and ID numbers.
#![no_main]

use inkseal_capture::id_card::check_id_card;
use inkseal_capture::{
    Date, EvidenceManifest, EvidenceSubmission, IdCardFields, IdNumber, LivenessChallenge,
    test_vendor,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let today = Date::new(2025, 6, 1).expect("date");
    if let Ok(s) = EvidenceSubmission::from_json(data) {
        let consistent = s.check_consistency();
        let _ = s.head_hex();
        if consistent.is_ok() {
            // A consistent submission must also survive the steps after it.
            let frames = s
                .frames()
                .expect("frames decoded during the consistency check");
            let package = s
                .vendor_package()
                .expect("package decoded during the check");
            assert_eq!(s.manifest.verify(), Ok(()));
            let json = s.to_json();
            if let Ok(json) = json {
                let back = EvidenceSubmission::from_json(&json).expect("own output parses");
                assert_eq!(back, s);
            }
            let _ = test_vendor::parse(&package);
            let _ = frames.len();
        }
        if let Some(fields) = &s.id_card {
            let _ = check_id_card(fields, today);
            let _ = fields.canonical_bytes();
        }
    }
    if let Ok(m) = EvidenceManifest::from_json(data) {
        // from_json verified it: the head is the last entry's hash or the genesis value.
        assert_eq!(m.verify(), Ok(()));
        let _ = m.head_hex();
        let _ = m.verify_artefact(0, data);
    }
    let _ = test_vendor::parse(data);
    if let Ok(c) = serde_json::from_slice::<LivenessChallenge>(data) {
        let _ = c.validate(1_750_000_000_000);
        let _ = c.canonical_bytes();
        let _ = c.nonce();
    }
    if let Ok(f) = serde_json::from_slice::<IdCardFields>(data) {
        let _ = check_id_card(&f, today);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = IdNumber::parse(text, today);
        let _ = Date::parse(text);
    }
});
