//! The deterministic test vendor's liveness package: what the file-based hook
//! ([`crate::file_hooks::FileHooks`]) produces and what the server's test-vendor adapter checks.
//!
//! A real liveness vendor (Tencent FaceID / 腾讯云慧眼, FaceTec, Alibaba Cloud, iProov, ...) ships
//! an SDK whose result package is opaque to the phone and is verified by calling the vendor's
//! server API with the package (and usually the nonce). On the inkseal server that is the job
//! of a vendor adapter behind the server's adapter trait; the phone only forwards the package.
//! This module is the stand-in used by tests, the demo and the desktop sample: it does no face
//! analysis at all, it only proves the binding the real vendors provide (package ↔ challenge
//! nonce ↔ exact frames ↔ actions in order), deterministically.
//!
//! The package is the JSON of [`TestVendorPackage`] (snake_case field names, at most
//! [`MAX_PACKAGE_BYTES`]):
//!
//! ```json
//! {"vendor":"inkseal-test-vendor","challenge_id":"...","nonce_hex":"<64 hex>",
//!  "actions_performed":["blink","turn_left"],"frame_sha256_hex":["<64 hex>", ...],
//!  "verdict_hint":"live"}
//! ```
//!
//! `verdict_hint` lets a test simulate a vendor that says "spoof": [`check`] accepts only
//! `"live"`.

use crate::challenge::{LivenessAction, LivenessChallenge};
use crate::digest::sha256;
use crate::error::VendorCheckError;
use serde::{Deserialize, Serialize};

/// The `vendor` field of every test package, and the vendor name the file hooks report.
pub const TEST_VENDOR_NAME: &str = "inkseal-test-vendor";
/// The only verdict [`check`] accepts.
pub const VERDICT_LIVE: &str = "live";
/// Largest package [`check`] parses: 64 KiB.
pub const MAX_PACKAGE_BYTES: usize = 64 * 1024;

/// The test vendor's package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestVendorPackage {
    /// Always [`TEST_VENDOR_NAME`].
    pub vendor: String,
    /// The challenge answered.
    pub challenge_id: String,
    /// The challenge's nonce.
    pub nonce_hex: String,
    /// The actions performed, in order.
    pub actions_performed: Vec<LivenessAction>,
    /// SHA-256 of each frame, in order, lower-case hex.
    pub frame_sha256_hex: Vec<String>,
    /// `"live"`, or anything else to simulate a refusal.
    pub verdict_hint: String,
}

/// The package for `challenge` and `frames` with verdict `live`, as JSON bytes.
pub fn make<F: AsRef<[u8]>>(challenge: &LivenessChallenge, frames: &[F]) -> Vec<u8> {
    make_with_verdict(challenge, frames, VERDICT_LIVE)
}

/// The package with a chosen verdict hint, as JSON bytes.
pub fn make_with_verdict<F: AsRef<[u8]>>(
    challenge: &LivenessChallenge,
    frames: &[F],
    verdict_hint: &str,
) -> Vec<u8> {
    let package = TestVendorPackage {
        vendor: TEST_VENDOR_NAME.to_string(),
        challenge_id: challenge.challenge_id.clone(),
        nonce_hex: challenge.nonce_hex.clone(),
        actions_performed: challenge.actions.clone(),
        frame_sha256_hex: frames
            .iter()
            .map(|f| hex::encode(sha256(f.as_ref())))
            .collect(),
        verdict_hint: verdict_hint.to_string(),
    };
    // Serialising strings and enums cannot fail.
    serde_json::to_vec(&package).unwrap_or_default()
}

/// Parse a package (size-limited).
pub fn parse(package: &[u8]) -> Result<TestVendorPackage, VendorCheckError> {
    if package.len() > MAX_PACKAGE_BYTES {
        return Err(VendorCheckError::TooLarge {
            len: package.len(),
            max: MAX_PACKAGE_BYTES,
        });
    }
    serde_json::from_slice(package).map_err(|e| VendorCheckError::Malformed(e.to_string()))
}

/// What the server's test-vendor adapter runs: the package is the test vendor's, answers this
/// challenge (id and nonce), lists the challenge's actions in the challenge's order, lists the
/// SHA-256 of exactly the submitted frames in order, and its verdict is `live`.
pub fn check<F: AsRef<[u8]>>(
    package: &[u8],
    challenge: &LivenessChallenge,
    frames: &[F],
) -> Result<TestVendorPackage, VendorCheckError> {
    let p = parse(package)?;
    if p.vendor != TEST_VENDOR_NAME {
        return Err(VendorCheckError::WrongVendor(p.vendor));
    }
    if p.challenge_id != challenge.challenge_id {
        return Err(VendorCheckError::ChallengeIdMismatch);
    }
    if p.nonce_hex != challenge.nonce_hex {
        return Err(VendorCheckError::NonceMismatch);
    }
    if p.actions_performed != challenge.actions {
        return Err(VendorCheckError::ActionsMismatch);
    }
    if p.frame_sha256_hex.len() != frames.len() {
        return Err(VendorCheckError::FrameCountMismatch {
            listed: p.frame_sha256_hex.len(),
            submitted: frames.len(),
        });
    }
    for (index, (listed, frame)) in p.frame_sha256_hex.iter().zip(frames).enumerate() {
        if *listed != hex::encode(sha256(frame.as_ref())) {
            return Err(VendorCheckError::FrameMismatch { index });
        }
    }
    if p.verdict_hint != VERDICT_LIVE {
        return Err(VendorCheckError::NotLive(p.verdict_hint));
    }
    Ok(p)
}
