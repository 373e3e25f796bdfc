//! The inkseal SDK façade: what an app (through the bindings) or a desktop tool calls.
//!
//! * [`CosignClient`] enrolls a user's split key with an enrollment ticket the institution
//!   issued, registering a [`DeviceKeyStore`] key that signs every later request; obtains the
//!   key's certificate (the CSR is itself co-signed, proving possession); signs messages and
//!   PDFs in one round trip each, verifying every signature before returning it; changes the
//!   PIN and revokes the key.
//! * [`CosignClient::capture_evidence`] drives face liveness and ID-card capture through the
//!   app's hooks against a one-time server challenge; the server's verdict decides, and the
//!   returned manifest head binds the evidence to the signing request.
//! * [`InkPad`] records a handwritten signature (batched points, live smoothing), checks its
//!   quality and seals its biometric record to the institution for [`CosignClient::sign_pdf`].
//! * [`decrypt`]: an encryption key opens digital envelopes addressed to its certificate with
//!   the server ([`CosignClient::open_envelope`], two-party SM2 decryption of the content key;
//!   all of the plaintext or nothing).
//! * [`ShareStore`] is where the phone's share d1 lives between runs: [`FileShareStore`] for
//!   desktop and tests; Android Keystore and Apple Keychain stores come with the bindings.
//!
//! * [`seal`] (feature `seal-client`): the institution's backend seals PDFs through the
//!   server's sealing service ([`seal::SealClient`], [`seal::RemoteSeal`]).
//!
//! Nothing here stores or derives anything from the PIN: it goes to the server, which alone can
//! check it and which counts failures, so a stolen phone gives a thief no offline PIN test.

mod capture;
mod client;
pub mod decrypt;
mod device_key;
mod error;
mod ink_pad;
pub mod login;
#[cfg(feature = "p256-cosign")]
mod p256;
mod pdf;
#[cfg(feature = "seal-client")]
pub mod seal;
mod share_store;
mod tls;
pub mod transaction;
mod transport;

pub use capture::{CaptureHookSet, CaptureRequest, VerifiedEvidence};
pub use client::{ClientConfig, CosignClient, Enrollment};
pub use device_key::{DeviceKeyInfo, DeviceKeyStore, FileDeviceKeyStore};
pub use error::SdkError;
pub use ink_pad::{Handwriting, InkPad, SealedHandwriting};
pub use inkseal_capture::RecoveryAction;
pub use inkseal_cosign::api::Pin;
pub use inkseal_cosign::api::{
    AttestationFormat, DeviceAttestation, KeyPurpose, PinPolicy, RevocationReason,
};
#[cfg(feature = "p256-cosign")]
pub use p256::P256Enrollment;
pub use pdf::{LongTermLevel, PreparedPdf};
pub use share_store::{FileShareStore, ShareStore, StoredShare};
pub use transport::{HttpRequest, HttpResponse, MAX_RESPONSE_BYTES, Transport, TransportError};
