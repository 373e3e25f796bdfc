//! The co-signing client: enrollment, certificate, PDF signing, key status.
//!
//! Every method is `async` (a Kotlin `suspend fun`, a Swift `async` function). Cancellation is
//! the platform's: cancelling the coroutine or `Task` drops the Rust future at its next
//! suspension point. Before the co-signing request is answered, nothing was signed and nothing
//! is written; once the answer is in, the output file is written in the same step, so a
//! cancelled `signPdf` leaves either the whole signed file or none. The server may still have
//! counted a PIN attempt or recorded a signature for a request that was already sent.
//!
//! Methods block their calling thread while they read or write files and call the
//! [`SecureBlobStore`](crate::share_store::SecureBlobStore): call them off the main thread (the
//! Kotlin and Swift façades do).

use crate::capture::evidence_head;
use crate::device_keys::DeviceKeys;
use crate::errors::{HookError, InksealError, poisoned};
use crate::pdf::{PadesLevel, PdfSignOptions, now_unix, read_pdf};
use crate::share_store::ShareStorage;
use crate::transport::{ForeignTransport, HttpTransport};
use inkseal_cosign::HexPoint;
use inkseal_sdk::{ClientConfig, CosignClient, Pin};
use std::sync::Arc;

/// Told how far a long operation got.
///
/// Called on the thread running the operation. Throwing `HookError.Cancelled` stops the
/// operation with `InksealError.Cancelled` (a "cancel" button); throwing anything else stops it
/// with `InksealError.Hook`. Either way no output is written.
#[uniffi::export(with_foreign)]
pub trait ProgressListener: Send + Sync {
    /// `stage` is one of `reading`, `signing`, `writing`, `done`; `fraction` grows from 0 to 1.
    fn on_progress(&self, stage: String, fraction: f64) -> Result<(), HookError>;
}

/// A finished enrollment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrollmentInfo {
    /// The key id to sign with (chosen by the server).
    pub key_id: String,
    /// The user the key belongs to (the institution's id, from the ticket).
    pub user_id: String,
    /// The name the institution asserted for the key's certificate.
    pub certificate_name: String,
    /// The joint public key, SEC1, hex: compressed for an SM2 key, uncompressed for a
    /// two-party P-256 key (as [`KeyStatusInfo::public_key_hex`] shows each).
    pub public_key_hex: String,
}

/// An SDK enrollment as the bindings show it: SM2 ([`inkseal_sdk::Enrollment`]) and, with the
/// feature `p256-cosign`, two-party P-256 ([`inkseal_sdk::P256Enrollment`]).
pub(crate) trait IntoEnrollmentInfo {
    /// Key id, user id, certificate name and the SEC1 encoding of the joint public key.
    fn into_parts(self) -> (String, String, String, Vec<u8>);
}

impl IntoEnrollmentInfo for inkseal_sdk::Enrollment {
    fn into_parts(self) -> (String, String, String, Vec<u8>) {
        let sec1 = HexPoint::from_public_key(&self.public_key).0;
        (self.key_id, self.user_id, self.certificate_name, sec1)
    }
}

#[cfg(feature = "p256-cosign")]
impl IntoEnrollmentInfo for inkseal_sdk::P256Enrollment {
    fn into_parts(self) -> (String, String, String, Vec<u8>) {
        use inkseal_cosign::sm2::elliptic_curve::sec1::ToSec1Point as _;
        let sec1 = self.public_key.to_sec1_point(false).as_bytes().to_vec();
        (self.key_id, self.user_id, self.certificate_name, sec1)
    }
}

/// The bindings' view of an SDK enrollment, for every kind of key.
pub(crate) fn enrollment_info(e: impl IntoEnrollmentInfo) -> EnrollmentInfo {
    let (key_id, user_id, certificate_name, sec1) = e.into_parts();
    EnrollmentInfo {
        key_id,
        user_id,
        certificate_name,
        public_key_hex: hex::encode(sec1),
    }
}

/// A certificate issued for a joint key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CertificateInfo {
    /// The user's certificate, DER.
    pub certificate_der: Vec<u8>,
    /// The issuing CA's certificate, DER.
    pub ca_certificate_der: Vec<u8>,
}

/// The server's view of a key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KeyStatusInfo {
    /// Key id.
    pub key_id: String,
    /// The user the key belongs to.
    pub user_id: String,
    /// The joint public key, SEC1 compressed, hex.
    pub public_key_hex: String,
    /// Consecutive wrong PINs so far.
    pub pin_failures: u32,
    /// Whether the key is locked.
    pub locked: bool,
    /// Whether the key is revoked.
    pub revoked: bool,
    /// Whether a certificate was issued.
    pub has_certificate: bool,
}

/// Why a user revokes a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RevokeReason {
    /// The phone or the PIN is compromised (lost, stolen).
    KeyCompromise,
    /// Replaced by a new enrollment.
    Superseded,
    /// The key is no longer needed.
    CessationOfOperation,
    /// No reason given.
    Unspecified,
}

impl From<RevokeReason> for inkseal_sdk::RevocationReason {
    fn from(r: RevokeReason) -> Self {
        match r {
            RevokeReason::KeyCompromise => inkseal_sdk::RevocationReason::KeyCompromise,
            RevokeReason::Superseded => inkseal_sdk::RevocationReason::Superseded,
            RevokeReason::CessationOfOperation => {
                inkseal_sdk::RevocationReason::CessationOfOperation
            }
            RevokeReason::Unspecified => inkseal_sdk::RevocationReason::Unspecified,
        }
    }
}

/// Talks to the co-signing server for one device. Holds the device shares' store and the
/// device keys; share values and private keys never leave Rust or the platform key store.
#[derive(uniffi::Object)]
pub struct InksealClient {
    pub(crate) inner: CosignClient,
}

impl std::fmt::Debug for InksealClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

/// The server reports public keys uncompressed; the bindings always show them compressed,
/// as enrollment does.
fn compressed_hex(public_key_hex: String) -> String {
    hex::decode(&public_key_hex)
        .ok()
        .and_then(|bytes| HexPoint(bytes).point("public key").ok())
        .map(|key| hex::encode(HexPoint::from_public_key(&key).0))
        .unwrap_or(public_key_hex)
}

pub(crate) fn report(
    progress: &Option<Arc<dyn ProgressListener>>,
    stage: &str,
    fraction: f64,
) -> Result<(), InksealError> {
    match progress {
        Some(listener) => Ok(listener.on_progress(stage.to_owned(), fraction)?),
        None => Ok(()),
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl InksealClient {
    /// A client for the server at `server_url` (`https://...`; `http://` for tests on
    /// loopback), keeping device shares in `share_storage` and device keys in `device_keys`.
    /// With `pinned_server_certs_pem`, only those certificates are trusted for HTTPS
    /// (certificate pinning); otherwise the system's roots are.
    ///
    /// With `transport`, requests go through the app's own HTTP stack instead (pin
    /// certificates there).
    #[uniffi::constructor(default(pinned_server_certs_pem = None, transport = None))]
    pub fn new(
        server_url: String,
        share_storage: ShareStorage,
        device_keys: DeviceKeys,
        pinned_server_certs_pem: Option<Vec<String>>,
        transport: Option<Arc<dyn HttpTransport>>,
    ) -> Result<Arc<Self>, InksealError> {
        let mut config = ClientConfig::new(server_url);
        config.trusted_server_certs_pem = pinned_server_certs_pem
            .unwrap_or_default()
            .into_iter()
            .map(String::into_bytes)
            .collect();
        let store = share_storage.into_store()?;
        let mut inner = CosignClient::new(config, store, device_keys.into_store()?)?;
        if let Some(t) = transport {
            inner = inner.with_transport(Arc::new(ForeignTransport(t)));
        }
        Ok(Arc::new(InksealClient { inner }))
    }

    /// Creates a split key with the one-time enrollment `ticket` the institution issued
    /// (`et-...`), protected by `pin`, and keeps the device share. A new device key is made in
    /// the device key store; it signs every later request about the key. Nothing on the
    /// device is derived from the PIN.
    pub async fn enroll(
        &self,
        ticket: String,
        pin: String,
    ) -> Result<EnrollmentInfo, InksealError> {
        let pin = Pin::new(pin);
        let ticket = zeroize::Zeroizing::new(ticket);
        let e = self.inner.enroll(&ticket, &pin).await?;
        Ok(enrollment_info(e))
    }

    /// Obtains a certificate for the key: the certificate request is co-signed (one PIN use)
    /// and the issued certificate is checked and kept with the share. When the key's policy
    /// requires liveness, pass the head of fresh identity-proofing evidence
    /// (`EvidenceInfo.headHex`).
    #[uniffi::method(default(evidence_head_hex = None))]
    pub async fn request_certificate(
        &self,
        key_id: String,
        pin: String,
        evidence_head_hex: Option<String>,
    ) -> Result<CertificateInfo, InksealError> {
        let pin = Pin::new(pin);
        let head = evidence_head(evidence_head_hex.as_deref())?;
        let (certificate_der, ca_certificate_der) =
            self.inner.request_certificate(&key_id, &pin, head).await?;
        Ok(CertificateInfo {
            certificate_der,
            ca_certificate_der,
        })
    }

    /// Builds the signature revision of the PDF at `input_path` (no network): its
    /// `documentDigestHex` is what a liveness capture must bind when the key's policy requires
    /// liveness; then [`InksealClient::sign_prepared_pdf`] co-signs it.
    pub fn prepare_pdf(
        &self,
        key_id: String,
        input_path: String,
        options: PdfSignOptions,
    ) -> Result<Arc<PreparedPdf>, InksealError> {
        let input = read_pdf(&input_path)?;
        let prepared =
            self.inner
                .prepare_pdf(&key_id, &input, &options.to_sign_options(now_unix()))?;
        Ok(Arc::new(PreparedPdf::new(input, prepared, options.level())))
    }

    /// Co-signs a prepared PDF (one round trip, the signature verified before it is
    /// embedded) and writes the signed file to `output_path` atomically. `evidence_head_hex`:
    /// the head of evidence that bound this document's digest. A prepared PDF signs once.
    #[uniffi::method(default(evidence_head_hex = None, progress = None))]
    pub async fn sign_prepared_pdf(
        &self,
        pin: String,
        prepared: Arc<PreparedPdf>,
        output_path: String,
        evidence_head_hex: Option<String>,
        progress: Option<Arc<dyn ProgressListener>>,
    ) -> Result<(), InksealError> {
        let pin = Pin::new(pin);
        let head = evidence_head(evidence_head_hex.as_deref())?;
        report(&progress, "signing", 0.2)?;
        let current = prepared.current()?;
        let input = &current.input;
        let long_term = match current.level {
            PadesLevel::Basic | PadesLevel::TimeStamped => None,
            PadesLevel::LongTerm => Some(inkseal_sdk::LongTermLevel::LongTerm),
            PadesLevel::LongTermArchive => Some(inkseal_sdk::LongTermLevel::Archive),
        };
        let tail = match long_term {
            None => {
                self.inner
                    .sign_prepared_pdf(&pin, &current.prepared, head)
                    .await?
            }
            Some(level) => {
                self.inner
                    .sign_prepared_pdf_long_term(&pin, &current.prepared, input, head, level)
                    .await?
            }
        };
        // From here to the end there is no suspension point: the write is not interrupted.
        report(&progress, "writing", 0.8)?;
        inkseal_fs::write_atomically(
            std::path::Path::new(&output_path),
            &[input, &tail],
            inkseal_fs::Visibility::Default,
        )
        .map_err(|e| InksealError::Storage {
            detail: format!("{output_path}: {e}"),
        })?;
        prepared.consume()?;
        report(&progress, "done", 1.0)?;
        Ok(())
    }

    /// Signs the PDF at `input_path` as the key's user (PAdES, SM2, one co-signing round
    /// trip, the signature verified before it is embedded) and writes the signed file to
    /// `output_path` atomically: a failure or a cancellation never leaves a partial file.
    /// `output_path` may equal `input_path`. The key needs a certificate. For keys whose
    /// policy requires liveness, use `preparePdf`, capture with its digest, then
    /// `signPreparedPdf`.
    #[uniffi::method(default(progress = None))]
    pub async fn sign_pdf(
        &self,
        key_id: String,
        pin: String,
        input_path: String,
        output_path: String,
        options: PdfSignOptions,
        progress: Option<Arc<dyn ProgressListener>>,
    ) -> Result<(), InksealError> {
        report(&progress, "reading", 0.0)?;
        let head = options.evidence_head_hex.clone();
        let prepared = self.prepare_pdf(key_id, input_path, options)?;
        self.sign_prepared_pdf(pin, prepared, output_path, head, progress)
            .await
    }

    /// The server's view of a key (lock state, PIN failures, revocation, certificate).
    pub async fn status(&self, key_id: String) -> Result<KeyStatusInfo, InksealError> {
        let s = self.inner.status(&key_id).await?;
        Ok(KeyStatusInfo {
            key_id: s.key_id,
            user_id: s.user_id,
            public_key_hex: compressed_hex(s.public_key_hex),
            pin_failures: s.pin_failures,
            locked: s.locked,
            revoked: s.revoked,
            has_certificate: s.has_certificate,
        })
    }

    /// Changes the PIN: the old one counts as a PIN attempt, the new one must meet the PIN
    /// policy (`InksealError.PinRejected` names the rule it breaks).
    pub async fn change_pin(
        &self,
        key_id: String,
        old_pin: String,
        new_pin: String,
    ) -> Result<(), InksealError> {
        Ok(self
            .inner
            .change_pin(&key_id, &Pin::new(old_pin), &Pin::new(new_pin))
            .await?)
    }

    /// Revokes the key (PIN required): it never signs again and its certificate is listed in
    /// the CA's CRL. The share and the device key are forgotten on this device.
    pub async fn revoke(
        &self,
        key_id: String,
        pin: String,
        reason: RevokeReason,
    ) -> Result<(), InksealError> {
        Ok(self
            .inner
            .revoke(&key_id, &Pin::new(pin), reason.into())
            .await?)
    }

    /// Forgets a key on this device (its share and device key); the server keeps it until it
    /// is revoked.
    pub fn forget(&self, key_id: String) -> Result<(), InksealError> {
        Ok(self.inner.forget(&key_id)?)
    }

    /// The certificate (DER) issued to a key held on this device, if any.
    pub fn certificate(&self, key_id: String) -> Result<Option<Vec<u8>>, InksealError> {
        Ok(self.inner.certificate(&key_id)?)
    }
}

/// A PDF signature revision built by `preparePdf`, waiting for its co-signature. It signs
/// once: after a signed file was written, a second `signPreparedPdf` with it fails; after a
/// refusal (a wrong PIN, evidence required) it can be signed again, so the user does not
/// prove liveness again for the same document.
#[derive(uniffi::Object)]
pub struct PreparedPdf {
    digest_hex: String,
    state: std::sync::Mutex<Option<Arc<PreparedParts>>>,
}

/// The input PDF, the prepared signature and the level asked for of a [`PreparedPdf`].
struct PreparedParts {
    input: Vec<u8>,
    prepared: inkseal_sdk::PreparedPdf,
    level: PadesLevel,
}

impl std::fmt::Debug for PreparedPdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedPdf")
            .field("document_digest_hex", &self.digest_hex)
            .finish_non_exhaustive()
    }
}

impl PreparedPdf {
    fn new(input: Vec<u8>, prepared: inkseal_sdk::PreparedPdf, level: PadesLevel) -> Self {
        PreparedPdf {
            digest_hex: hex::encode(prepared.document_digest()),
            state: std::sync::Mutex::new(Some(Arc::new(PreparedParts {
                input,
                prepared,
                level,
            }))),
        }
    }

    fn current(&self) -> Result<Arc<PreparedParts>, InksealError> {
        self.state
            .lock()
            .map_err(|_| poisoned("the prepared PDF"))?
            .clone()
            .ok_or_else(|| InksealError::InvalidInput {
                detail: "this prepared PDF was already signed: prepare it again".into(),
            })
    }

    fn consume(&self) -> Result<(), InksealError> {
        self.state
            .lock()
            .map_err(|_| poisoned("the prepared PDF"))?
            .take();
        Ok(())
    }
}

#[uniffi::export]
impl PreparedPdf {
    /// SM3 of the signed byte ranges (hex): pass it to the capture's `documentDigestsHex`.
    pub fn document_digest_hex(&self) -> String {
        self.digest_hex.clone()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ink::InkPad;
    use crate::ink::tests::{institution_pem, write_signature};
    use crate::pdf::{SignaturePlacement, verify_pdf};
    use crate::share_store::tests::{MemoryBlobs, TestWrapper};
    use crate::share_store::{PlatformKey, SecureBlobStore};
    use inkseal_ink::record::encrypt::{InstitutionSecret, Scheme};
    use std::sync::Mutex;

    #[derive(Default)]
    struct Stages(Mutex<Vec<String>>);

    impl ProgressListener for Stages {
        fn on_progress(&self, stage: String, fraction: f64) -> Result<(), HookError> {
            assert!((0.0..=1.0).contains(&fraction));
            self.0.lock().expect("lock").push(stage);
            Ok(())
        }
    }

    struct Throwing;

    impl ProgressListener for Throwing {
        fn on_progress(&self, _: String, _: f64) -> Result<(), HookError> {
            Err(HookError::Unexpected {
                reason: "kotlin.IllegalStateException: boom".into(),
            })
        }
    }

    async fn server(dir: &std::path::Path) -> inkseal_server::RunningServer {
        let mut config = inkseal_server::ServerConfig::new(dir);
        config.listen = ([127, 0, 0, 1], 0).into();
        inkseal_server::start(config).await.expect("server")
    }

    /// A ticket the server's enrollment desk issues in-process (the operator's job).
    pub(crate) fn ticket(server: &inkseal_server::RunningServer, user: &str) -> String {
        server
            .service()
            .enrollment()
            .issue_ticket(
                &inkseal_server::service::TicketOrder {
                    user_id: user.into(),
                    certificate_name: None,
                    id_number: None,
                    ttl_secs: None,
                    purpose: Default::default(),
                },
                &inkseal_server::audit::Caller::system(),
            )
            .expect("ticket")
            .ticket
    }

    /// Device keys held in memory behind the foreign trait (as a Kotlin or Swift store would).
    #[derive(Default)]
    pub(crate) struct MemoryDeviceKeys(
        Mutex<std::collections::HashMap<String, p256::ecdsa::SigningKey>>,
    );

    impl crate::device_keys::DeviceKeyStore for MemoryDeviceKeys {
        fn create(
            &self,
            alias: String,
            _challenge: Vec<u8>,
        ) -> Result<crate::device_keys::DeviceKeyInfo, HookError> {
            use p256::pkcs8::EncodePublicKey;
            let key = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).expect("key");
            let spki = key
                .verifying_key()
                .to_public_key_der()
                .expect("spki")
                .as_bytes()
                .to_vec();
            self.0.lock().expect("lock").insert(alias, key);
            Ok(crate::device_keys::DeviceKeyInfo {
                public_key_spki_der: spki,
                attestation: None,
            })
        }

        fn sign(&self, alias: String, message: Vec<u8>) -> Result<Vec<u8>, HookError> {
            use p256::ecdsa::signature::Signer;
            let keys = self.0.lock().expect("lock");
            let key = keys.get(&alias).ok_or(HookError::Failed {
                reason: format!("no key {alias}"),
            })?;
            let sig: p256::ecdsa::Signature = key.sign(&message);
            Ok(sig.to_der().as_bytes().to_vec())
        }

        fn delete(&self, alias: String) -> Result<(), HookError> {
            self.0.lock().expect("lock").remove(&alias);
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_whole_flow_through_the_bindings() {
        let dir = tempfile::tempdir().expect("dir");
        let server = server(&dir.path().join("server")).await;
        let blobs = Arc::new(MemoryBlobs::default());
        let storage = ShareStorage::Platform {
            key: PlatformKey::for_tests(Arc::new(TestWrapper([9; 32]))),
            blobs: blobs.clone(),
        };
        let device_keys = Arc::new(MemoryDeviceKeys::default());
        let client = InksealClient::new(
            server.url(),
            storage,
            DeviceKeys::Platform {
                store: device_keys.clone(),
            },
            None,
            None,
        )
        .expect("client");
        let pin = "246810".to_string();
        assert!(matches!(
            client
                .enroll(ticket(&server, "customer-42"), "123456".into())
                .await,
            Err(InksealError::PinRejected { .. })
        ));
        let ticket_text = ticket(&server, "customer-42");
        let key = client
            .enroll(ticket_text.clone(), pin.clone())
            .await
            .expect("enrolled");
        assert!(matches!(
            client.enroll(ticket_text, pin.clone()).await,
            Err(InksealError::TicketInvalid { .. })
        ));
        assert_eq!(
            device_keys.0.lock().expect("lock").len(),
            1,
            "one device key, kept"
        );
        assert_eq!(key.public_key_hex.len(), 66);
        assert!(blobs.get(key.key_id.clone()).expect("get").is_some());
        let cert = client
            .request_certificate(key.key_id.clone(), pin.clone(), None)
            .await
            .expect("certificate");
        assert_eq!(
            client.certificate(key.key_id.clone()).expect("cert"),
            Some(cert.certificate_der.clone())
        );

        let pad = InkPad::new(500.0, 200.0, 160.0).expect("pad");
        write_signature(&pad);
        let institution = InstitutionSecret::generate(Scheme::P256Ecies).expect("key");
        let sealed = pad
            .finish("test".into(), 1_790_000_000_000)
            .expect("good signature")
            .seal_for_institution(institution_pem(&institution))
            .expect("sealed");
        let input = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/loan-contract-zh.pdf"
        );
        let output = dir.path().join("signed.pdf");
        let options = PdfSignOptions {
            field_name: None,
            placement: SignaturePlacement::Keyword {
                text: "借款人（签字）：".into(),
                page: None,
                width: 120.0,
                height: 48.0,
            },
            reason: Some("借款合同签署".into()),
            location: None,
            label_lines: vec!["张三".into()],
            label_font: Some(Arc::new(crate::pdf::tests::Boxes)),
            handwriting: Some(sealed),
            evidence_head_hex: None,
            level: Some(PadesLevel::LongTermArchive),
        };
        let stages = Arc::new(Stages::default());
        client
            .sign_pdf(
                key.key_id.clone(),
                pin.clone(),
                input.into(),
                output.display().to_string(),
                options.clone(),
                Some(stages.clone()),
            )
            .await
            .expect("signed");
        assert_eq!(
            *stages.0.lock().expect("lock"),
            ["reading", "signing", "writing", "done"]
        );
        let ca_pem = inkseal_pki::der_to_pem("CERTIFICATE", &cert.ca_certificate_der);
        let report = verify_pdf(output.display().to_string(), vec![ca_pem]).expect("report");
        assert!(report.all_valid, "{report:?}");
        let sig = &report.signatures[0];
        assert_eq!(sig.ink_binding, Some(true));
        // Later revisions (the DSS, the document time-stamp) follow the signature.
        assert!(!sig.covers_whole_document && sig.trusted == Some(true));
        let stamp = sig
            .time_stamp
            .as_ref()
            .expect("B-T: a signature time-stamp");
        assert!(stamp.valid && stamp.trusted == Some(true), "{stamp:?}");

        // A throwing hook is a typed error, and no output appears.
        let never = dir.path().join("never.pdf");
        let err = client
            .sign_pdf(
                key.key_id.clone(),
                pin.clone(),
                input.into(),
                never.display().to_string(),
                options,
                Some(Arc::new(Throwing)),
            )
            .await
            .expect_err("the hook threw");
        assert!(matches!(&err, InksealError::Hook { detail } if detail.contains("boom")));
        assert!(!never.exists());

        // Wrong PINs count down; the fifth locks the key, and then even the right PIN fails.
        let mut left = Vec::new();
        for _ in 0..4 {
            match client
                .request_certificate(key.key_id.clone(), "000000".into(), None)
                .await
            {
                Err(InksealError::WrongPin { attempts_left }) => left.push(attempts_left),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(left, [4, 3, 2, 1]);
        for attempt in ["000000", pin.as_str()] {
            assert_eq!(
                client
                    .request_certificate(key.key_id.clone(), attempt.into(), None)
                    .await,
                Err(InksealError::Locked)
            );
        }
        let status = client.status(key.key_id.clone()).await.expect("status");
        assert!(status.locked && status.has_certificate);
        assert_eq!(status.public_key_hex, key.public_key_hex);
        assert!(matches!(
            client.status("nope".into()).await,
            Err(InksealError::UnknownKey { .. })
        ));
        server.shutdown().await.expect("shutdown");
    }

    #[test]
    fn bad_configuration_is_invalid_input() {
        let dir = tempfile::tempdir().expect("dir");
        let storage = || ShareStorage::Directory {
            path: dir.path().display().to_string(),
        };
        let keys = || DeviceKeys::Directory {
            path: dir.path().display().to_string(),
        };
        assert!(matches!(
            InksealClient::new("ftp://x".into(), storage(), keys(), None, None),
            Err(InksealError::InvalidInput { .. })
        ));
        assert!(
            InksealClient::new("http://127.0.0.1:1".into(), storage(), keys(), None, None).is_ok()
        );
    }
}

/// Two-party P-256 keys (feature `p256-cosign`, on by default and in the mobile library; a
/// build without it has neither method): a separate exported block, since uniffi's export
/// macro cannot leave out single methods.
#[cfg(feature = "p256-cosign")]
#[uniffi::export(async_runtime = "tokio")]
impl InksealClient {
    /// Creates a two-party P-256 split key (ECDSA with SHA-256, DKLs23; two round trips, each
    /// to any server replica) with the enrollment `ticket`, protected by `pin`; its
    /// `public_key_hex` is SEC1 uncompressed. Feature `p256-cosign`; the server must run with
    /// `--enable-unaudited-p256-cosign` (otherwise `Refused`).
    pub async fn enroll_p256(
        &self,
        ticket: String,
        pin: String,
    ) -> Result<EnrollmentInfo, InksealError> {
        let pin = Pin::new(pin);
        let ticket = zeroize::Zeroizing::new(ticket);
        let e = self.inner.enroll_p256(&ticket, &pin).await?;
        Ok(enrollment_info(e))
    }

    /// [`InksealClient::request_certificate`] for a two-party P-256 key: an ecdsa-with-SHA256
    /// certificate from the server CA's P-256 root, checked against the joint key.
    #[uniffi::method(default(evidence_head_hex = None))]
    pub async fn request_certificate_p256(
        &self,
        key_id: String,
        pin: String,
        evidence_head_hex: Option<String>,
    ) -> Result<CertificateInfo, InksealError> {
        let pin = Pin::new(pin);
        let head = evidence_head(evidence_head_hex.as_deref())?;
        let (certificate_der, ca_certificate_der) = self
            .inner
            .request_certificate_p256(&key_id, &pin, head)
            .await?;
        Ok(CertificateInfo {
            certificate_der,
            ca_certificate_der,
        })
    }
}
