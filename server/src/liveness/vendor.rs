//! Liveness vendors: the server-side half of a vendor's face-liveness product decides the
//! verdict; the phone's "passed" never counts on its own.
//!
//! A real vendor (Tencent FaceID, Alibaba, Baidu, Megvii, FaceTec, iProov...) has its own
//! package format and a server API that judges the package; an adapter implementing
//! [`LivenessVendor`] calls it. [`TestVendor`] is the deterministic vendor of the demo and the
//! tests: it accepts exactly the packages made by `inkseal_capture::test_vendor` for this
//! challenge's nonce, actions and frames. It must not be enabled in production.

use inkseal_capture::challenge::LivenessChallenge;
use inkseal_capture::test_vendor;

/// What a vendor decided about one capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VendorVerdict {
    /// Live person, this challenge, these frames.
    pub passed: bool,
    /// Why, in words (kept in the evidence record and the report).
    pub reason: String,
}

/// A liveness vendor's server-side check.
pub trait LivenessVendor: Send + Sync + std::fmt::Debug {
    /// The vendor name submissions carry in `liveness.vendor_name`.
    fn name(&self) -> &str;

    /// Judges the vendor `package` for `challenge` and the submitted `frames` (already
    /// matched against the manifest). `Err` means the vendor could not be asked (network,
    /// outage): the submission is refused without a verdict, and the challenge stays used.
    fn judge(
        &self,
        challenge: &LivenessChallenge,
        package: &[u8],
        frames: &[Vec<u8>],
    ) -> Result<VendorVerdict, String>;
}

/// The deterministic test vendor (see the module documentation).
#[derive(Clone, Copy, Debug, Default)]
pub struct TestVendor;

impl LivenessVendor for TestVendor {
    fn name(&self) -> &str {
        test_vendor::TEST_VENDOR_NAME
    }

    fn judge(
        &self,
        challenge: &LivenessChallenge,
        package: &[u8],
        frames: &[Vec<u8>],
    ) -> Result<VendorVerdict, String> {
        Ok(match test_vendor::check(package, challenge, frames) {
            Ok(_) => VendorVerdict {
                passed: true,
                reason: "live: nonce, actions and frame hashes match the challenge".into(),
            },
            Err(e) => VendorVerdict {
                passed: false,
                reason: e.to_string(),
            },
        })
    }
}
