//! The inkseal SDK for Kotlin and Swift, through UniFFI: the only crate that depends on uniffi.
//!
//! Thin by design (shared/design.md, section 2): each export converts its arguments, calls
//! `inkseal-sdk` (or `inkseal-pdf`'s verifier, `inkseal-ink`), and converts the result.
//!
//! * [`client::InksealClient`]: enroll, request a certificate, sign a PDF, key status (async).
//! * [`envelope`]: an encryption key enrolled, and digital envelopes opened with it and the
//!   server (two-party SM2 decryption).
//! * [`capture`]: face liveness and ID-card capture through the app's hooks, judged by the
//!   server; the evidence head goes into the signing options.
//! * [`ink::InkPad`] → [`ink::Handwriting`] → [`ink::SealedInk`]: the signature pad.
//! * [`pdf::verify_pdf`]: the verdict on every signature of a PDF.
//! * [`share_store`]: where device shares live, wrapped by a [`share_store::PlatformKey`]
//!   (Android Keystore through JNI, the Apple Keychain) before the app's
//!   [`share_store::SecureBlobStore`] sees them: secrets never cross the FFI as values.
//! * [`transport::HttpTransport`]: the app's own HTTP stack in place of reqwest.
//! * [`logging::set_logger`]: the SDK's `tracing` events to the app's logger.
//! * [`errors::InksealError`]: the one error, saying what the app should do.
//!
//! No function panics across the FFI on purpose: there is no `unwrap`/`expect` outside tests,
//! and a poisoned lock is an error. The generated Kotlin and Swift live in
//! `android/inkseal/src/main/kotlin/generated` and `ios/Sources/InksealFFI`
//! (`scripts/bindings.sh generate`).

uniffi::setup_scaffolding!();

pub mod capture;
pub mod client;
pub mod device_keys;
pub mod envelope;
pub mod errors;
pub mod ink;
pub mod keystore;
pub mod logging;
pub mod login;
pub mod pdf;
#[cfg(all(
    test,
    not(feature = "sample-capture"),
    not(feature = "file-device-keys")
))]
mod production_build;
pub mod share_store;
pub mod transaction;
pub mod transport;
