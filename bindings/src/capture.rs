//! Identity evidence: face liveness and ID-card capture through the app's hooks.
//!
//! The app (or a vendor SDK: Tencent FaceID, Alibaba, FaceTec...) does the camera work in a
//! [`FaceLivenessHook`] and an [`IdCardHook`]; the core asks the server for a one-time
//! challenge, checks every picture and the card's fields, hashes everything into the evidence
//! manifest, binds the document about to be signed, and submits. The server's verdict decides;
//! the returned [`EvidenceInfo::head_hex`] goes into `PdfSignOptions.evidenceHeadHex` (and into
//! `requestCertificate` when the key's policy requires liveness for every signature).
//!
//! The hooks are called on a background thread and may block while the camera UI runs.

use crate::client::InksealClient;
use crate::errors::{HookError, InksealError};
#[cfg(feature = "sample-capture")]
use inkseal_capture::FileHooks;
use inkseal_capture::IdCardFields;
use inkseal_capture::challenge::LivenessChallenge;
use inkseal_capture::hooks::{
    CapturedFrame, FaceLivenessHook as CoreLivenessHook, HookError as CoreHookError, IdCardCapture,
    IdCardHook as CoreIdCardHook, LivenessCapture,
};
use inkseal_sdk::{CaptureHookSet, CaptureRequest, VerifiedEvidence};
use std::sync::Arc;

/// Largest `fields_json` an ID-card hook may return.
const MAX_FIELDS_JSON: usize = 64 * 1024;

/// The server's one-time liveness challenge, as the camera hook needs it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LivenessChallengeInfo {
    /// The challenge's id (also the evidence session's id).
    pub challenge_id: String,
    /// 32 random bytes from the server, hex: the vendor package must bind them.
    pub nonce_hex: String,
    /// The actions to ask for, in order: `blink`, `turn_left`, `turn_right`, `nod`,
    /// `open_mouth` (empty for silent liveness).
    pub actions: Vec<String>,
    /// When the challenge expires (Unix milliseconds, server clock).
    pub expires_at_ms: u64,
}

/// What a face-liveness hook returns.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LivenessCaptureResult {
    /// The frames (JPEG or PNG) the vendor package refers to, in capture order (1 to 16).
    pub frames: Vec<Vec<u8>>,
    /// The liveness vendor's name (the server picks its adapter by it).
    pub vendor_name: String,
    /// The vendor's reference of this capture.
    pub vendor_reference: String,
    /// The vendor SDK's result package, judged by the server.
    pub vendor_package: Vec<u8>,
}

/// What an ID-card hook returns.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IdCardCaptureResult {
    /// Photo of the card's front (portrait side), JPEG or PNG.
    pub front: Vec<u8>,
    /// Photo of the card's back (national emblem side), JPEG or PNG.
    pub back: Vec<u8>,
    /// The fields read from the card, JSON (`name`, `sex`, `ethnicity`, `birth_date`,
    /// `address`, `id_number`, `issuing_authority`, `valid_from`, `valid_until`; see
    /// `inkseal_capture::IdCardFields`).
    pub fields_json: String,
}

/// Evidence the server judged.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EvidenceInfo {
    /// The documents (SM3 digests, hex) this evidence may sign.
    pub document_digests_hex: Vec<String>,
    /// The evidence manifest's head: put it in `PdfSignOptions.evidenceHeadHex`.
    pub head_hex: String,
    /// The server's verdict (always true: a failed verdict is `InksealError.CaptureRejected`).
    pub passed: bool,
    /// Why, in the server's words.
    pub reason: String,
    /// Until when (Unix milliseconds, server clock) the evidence satisfies the signing policy.
    pub valid_until_ms: u64,
    /// The ID number with its middle masked, when the card was captured.
    pub id_number_masked: Option<String>,
}

impl From<VerifiedEvidence> for EvidenceInfo {
    fn from(e: VerifiedEvidence) -> Self {
        EvidenceInfo {
            document_digests_hex: e.receipt.document_digests.clone(),
            head_hex: hex::encode(e.head),
            passed: e.receipt.passed,
            reason: e.receipt.reason,
            valid_until_ms: e.receipt.valid_until_ms,
            id_number_masked: e.id_card.map(|c| c.id_number.masked()),
        }
    }
}

/// Face liveness, implemented by the app or a vendor SDK.
#[uniffi::export(with_foreign)]
pub trait FaceLivenessHook: Send + Sync {
    /// Shows the challenge's actions, films the user, runs the vendor's liveness SDK with the
    /// challenge's nonce, and returns the frames and the vendor package. Throw
    /// `HookError.Cancelled` when the user cancels.
    fn capture(&self, challenge: LivenessChallengeInfo)
    -> Result<LivenessCaptureResult, HookError>;
}

/// ID-card capture, implemented by the app or a vendor SDK (photos + OCR).
#[uniffi::export(with_foreign)]
pub trait IdCardHook: Send + Sync {
    /// Photographs both sides of the card and reads its fields. Throw `HookError.Cancelled`
    /// when the user cancels.
    fn capture(&self) -> Result<IdCardCaptureResult, HookError>;
}

fn core_hook_error(e: HookError) -> CoreHookError {
    match e {
        HookError::Cancelled => CoreHookError::Cancelled,
        e @ (HookError::Failed { .. } | HookError::Unexpected { .. }) => {
            CoreHookError::Failed(e.to_string())
        }
    }
}

/// A foreign liveness hook seen as the core's.
struct ForeignLiveness(Arc<dyn FaceLivenessHook>);

impl CoreLivenessHook for ForeignLiveness {
    fn capture(&self, challenge: &LivenessChallenge) -> Result<LivenessCapture, CoreHookError> {
        let info = LivenessChallengeInfo {
            challenge_id: challenge.challenge_id.clone(),
            nonce_hex: challenge.nonce_hex.clone(),
            actions: challenge
                .actions
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            expires_at_ms: challenge.expires_at_ms,
        };
        let result = self.0.capture(info).map_err(core_hook_error)?;
        let at_ms = inkseal_capture::Clock::System.now_ms();
        Ok(LivenessCapture {
            frames: result
                .frames
                .into_iter()
                .map(|image| CapturedFrame {
                    image,
                    face_box: None,
                    at_ms,
                })
                .collect(),
            vendor_name: result.vendor_name,
            vendor_reference: result.vendor_reference,
            vendor_package: result.vendor_package,
            events: Vec::new(),
        })
    }
}

/// A foreign ID-card hook seen as the core's.
struct ForeignIdCard(Arc<dyn IdCardHook>);

impl CoreIdCardHook for ForeignIdCard {
    fn capture(&self) -> Result<IdCardCapture, CoreHookError> {
        let result = self.0.capture().map_err(core_hook_error)?;
        if result.fields_json.len() > MAX_FIELDS_JSON {
            return Err(CoreHookError::Failed(format!(
                "ID-card fields JSON longer than {MAX_FIELDS_JSON} bytes"
            )));
        }
        let fields: IdCardFields = serde_json::from_str(&result.fields_json)
            .map_err(|e| CoreHookError::Failed(format!("ID-card fields JSON: {e}")))?;
        Ok(IdCardCapture {
            front: result.front,
            back: result.back,
            fields,
        })
    }
}

/// The document digests a capture binds, from their hex form.
fn documents(digests_hex: &[String]) -> Result<Vec<[u8; 32]>, InksealError> {
    digests_hex
        .iter()
        .map(|h| {
            let mut d = [0u8; 32];
            hex::decode_to_slice(h, &mut d)
                .map(|()| d)
                .map_err(|_| InksealError::InvalidInput {
                    detail: "a document digest is 64 hex digits (PreparedPdf.documentDigestHex)"
                        .into(),
                })
        })
        .collect()
}

/// Writes a complete, valid sample capture folder (synthetic face frames, both sides of a
/// fictitious ID card and its fields) for [`InksealClient::capture_evidence_from_folder`]:
/// demos, desktop samples and tests. The server's test liveness vendor accepts its captures.
///
/// Only in builds with the `sample-capture` feature (the default; the production mobile
/// library is built without it and answers `InvalidInput`): the synthetic images and the JPEG
/// encoder they need have no place on a phone.
#[uniffi::export]
pub fn write_sample_capture_folder(folder: String) -> Result<(), InksealError> {
    #[cfg(feature = "sample-capture")]
    {
        FileHooks::write_sample(std::path::Path::new(&folder)).map_err(|e| InksealError::Storage {
            detail: format!("{folder}: {e}"),
        })
    }
    #[cfg(not(feature = "sample-capture"))]
    {
        Err(InksealError::InvalidInput {
            detail: format!(
                "this library was built without sample captures (feature sample-capture); \
                 cannot write {folder}"
            ),
        })
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl InksealClient {
    /// Runs the capture with the app's hooks: a server challenge, the ID card (when `id_card`
    /// is given), face liveness, local checks, the documents about to be signed
    /// (`document_digests_hex`: each `PreparedPdf.documentDigestHex`) bound into the
    /// manifest, and the server's verdict. A failed check or verdict is
    /// `InksealError.CaptureRejected` with the reason to show and the action to take.
    #[uniffi::method(default(id_card = None, document_digests_hex = []))]
    pub async fn capture_evidence(
        &self,
        key_id: String,
        liveness: Arc<dyn FaceLivenessHook>,
        id_card: Option<Arc<dyn IdCardHook>>,
        document_digests_hex: Vec<String>,
    ) -> Result<EvidenceInfo, InksealError> {
        let hooks = CaptureHookSet {
            id_card: id_card.map(|h| Arc::new(ForeignIdCard(h)) as Arc<dyn CoreIdCardHook>),
            liveness: Arc::new(ForeignLiveness(liveness)),
            intent: None,
        };
        let require_id_card = hooks.id_card.is_some();
        self.run_capture(key_id, hooks, require_id_card, &document_digests_hex)
            .await
    }

    /// [`InksealClient::capture_evidence`] with file-based hooks reading `folder` (see
    /// [`write_sample_capture_folder`]): for demos, desktop samples and tests. Like the sample
    /// writer, only in builds with the `sample-capture` feature (not the production mobile
    /// library, which answers `InvalidInput`: a phone captures with its camera hooks).
    #[uniffi::method(default(require_id_card = true, document_digests_hex = []))]
    pub async fn capture_evidence_from_folder(
        &self,
        key_id: String,
        folder: String,
        require_id_card: bool,
        document_digests_hex: Vec<String>,
    ) -> Result<EvidenceInfo, InksealError> {
        #[cfg(feature = "sample-capture")]
        {
            let files = Arc::new(FileHooks::new(&folder));
            let hooks = CaptureHookSet {
                id_card: Some(files.clone()),
                liveness: files,
                intent: None,
            };
            self.run_capture(key_id, hooks, require_id_card, &document_digests_hex)
                .await
        }
        #[cfg(not(feature = "sample-capture"))]
        {
            let _ = (key_id, require_id_card, document_digests_hex);
            Err(InksealError::InvalidInput {
                detail: format!(
                    "this library was built without file-based capture (feature \
                     sample-capture); cannot read {folder}"
                ),
            })
        }
    }
}

impl InksealClient {
    async fn run_capture(
        &self,
        key_id: String,
        hooks: CaptureHookSet,
        require_id_card: bool,
        document_digests_hex: &[String],
    ) -> Result<EvidenceInfo, InksealError> {
        let request = CaptureRequest {
            require_id_card,
            intent_statement: None,
            documents: documents(document_digests_hex)?,
        };
        Ok(self
            .inner
            .capture_evidence(&key_id, hooks, request)
            .await?
            .into())
    }
}

/// The 32-byte manifest head from its hex form.
pub(crate) fn evidence_head(head_hex: Option<&str>) -> Result<Option<[u8; 32]>, InksealError> {
    head_hex
        .map(|h| {
            let mut head = [0u8; 32];
            hex::decode_to_slice(h, &mut head)
                .map(|()| head)
                .map_err(|_| InksealError::InvalidInput {
                    detail: "an evidence head is 64 hex digits (EvidenceInfo.headHex)".into(),
                })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::CaptureAction;
    use crate::pdf::{PdfSignOptions, SignaturePlacement, verify_pdf};
    use crate::share_store::ShareStorage;

    /// Reads the sample folder like a camera would, optionally spoiling the vendor package.
    struct Camera {
        folder: std::path::PathBuf,
        spoil: bool,
        throw: Option<HookError>,
    }

    impl FaceLivenessHook for Camera {
        fn capture(
            &self,
            challenge: LivenessChallengeInfo,
        ) -> Result<LivenessCaptureResult, HookError> {
            if let Some(e) = &self.throw {
                return Err(e.clone());
            }
            let mut frames = Vec::new();
            let mut names: Vec<_> = std::fs::read_dir(self.folder.join("face"))
                .expect("face folder")
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
                .collect();
            names.sort();
            for n in names {
                frames.push(std::fs::read(n).expect("frame"));
            }
            let core: LivenessChallenge = LivenessChallenge::new(
                challenge.challenge_id.clone(),
                &{
                    let mut n = [0u8; 32];
                    hex::decode_to_slice(&challenge.nonce_hex, &mut n).expect("nonce");
                    n
                },
                challenge
                    .actions
                    .iter()
                    .map(|a| serde_json::from_value(serde_json::json!(a)).expect("action"))
                    .collect(),
                inkseal_capture::QualityThresholds::face(),
                0,
                1,
            )
            .expect("challenge");
            let mut package = inkseal_capture::test_vendor::make(&core, &frames);
            if self.spoil {
                package = inkseal_capture::test_vendor::make_with_verdict(&core, &frames, "spoof");
            }
            Ok(LivenessCaptureResult {
                frames,
                vendor_name: inkseal_capture::test_vendor::TEST_VENDOR_NAME.into(),
                vendor_reference: "camera-1".into(),
                vendor_package: package,
            })
        }
    }

    struct Card(std::path::PathBuf);

    impl IdCardHook for Card {
        fn capture(&self) -> Result<IdCardCaptureResult, HookError> {
            Ok(IdCardCaptureResult {
                front: std::fs::read(self.0.join("id_front.jpg")).expect("front"),
                back: std::fs::read(self.0.join("id_back.jpg")).expect("back"),
                fields_json: std::fs::read_to_string(self.0.join("id_fields.json"))
                    .expect("fields"),
            })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn evidence_through_foreign_hooks_opens_a_liveness_policy() {
        let dir = tempfile::tempdir().expect("dir");
        let mut config = inkseal_server::ServerConfig::new(dir.path().join("server"));
        config.listen = ([127, 0, 0, 1], 0).into();
        config.policy.signing.require_liveness = true;
        config.insecure.test_liveness_vendor = true;
        let server = inkseal_server::start(config).await.expect("server");
        let device = dir.path().join("device").display().to_string();
        let client = InksealClient::new(
            server.url(),
            ShareStorage::Directory {
                path: device.clone(),
            },
            crate::device_keys::DeviceKeys::Directory { path: device },
            None,
            None,
        )
        .expect("client");
        let pin = "135790".to_string();
        let key = client
            .enroll(
                crate::client::tests::ticket(&server, "insured-7"),
                pin.clone(),
            )
            .await
            .expect("enroll")
            .key_id;
        let folder = dir.path().join("capture");
        write_sample_capture_folder(folder.display().to_string()).expect("sample");
        let camera = |spoil, throw| {
            Arc::new(Camera {
                folder: folder.clone(),
                spoil,
                throw,
            })
        };

        // No evidence, no certificate.
        assert!(matches!(
            client
                .request_certificate(key.clone(), pin.clone(), None)
                .await,
            Err(InksealError::EvidenceRequired { .. })
        ));
        // A spoofed capture is judged by the server and refused with its reason.
        let err = client
            .capture_evidence(key.clone(), camera(true, None), None, vec![])
            .await
            .expect_err("spoof");
        assert!(
            matches!(&err, InksealError::CaptureRejected { reason, action: CaptureAction::RetakeFace }
                if reason.contains("spoof")),
            "{err:?}"
        );
        // A hook that throws is a typed error; a cancelling one is Cancelled.
        let err = client
            .capture_evidence(
                key.clone(),
                camera(
                    false,
                    Some(HookError::Unexpected {
                        reason: "java.lang.IllegalStateException: camera busy".into(),
                    }),
                ),
                None,
                vec![],
            )
            .await
            .expect_err("thrown");
        assert!(
            matches!(&err, InksealError::CaptureRejected { reason, action: CaptureAction::Retry }
                if reason.contains("camera busy")),
            "{err:?}"
        );
        assert_eq!(
            client
                .capture_evidence(
                    key.clone(),
                    camera(false, Some(HookError::Cancelled)),
                    None,
                    vec![]
                )
                .await,
            Err(InksealError::Cancelled)
        );
        // A good capture with the card opens the policy for the certificate.
        let contract = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/loan-contract-zh.pdf"
        );
        let evidence = client
            .capture_evidence(
                key.clone(),
                camera(false, None),
                Some(Arc::new(Card(folder.clone()))),
                vec![],
            )
            .await
            .expect("live");
        assert!(evidence.passed);
        assert!(
            evidence
                .id_number_masked
                .as_deref()
                .is_some_and(|m| m.contains('*'))
        );
        let cert = client
            .request_certificate(key.clone(), pin.clone(), Some(evidence.head_hex.clone()))
            .await
            .expect("certificate");
        let output = dir.path().join("signed.pdf");
        let options = |head: Option<String>| PdfSignOptions {
            field_name: None,
            placement: SignaturePlacement::Keyword {
                text: "借款人（签字）：".into(),
                page: Some(3),
                width: 120.0,
                height: 48.0,
            },
            reason: None,
            location: None,
            label_lines: vec![],
            label_font: None,
            handwriting: None,
            evidence_head_hex: head,
            level: None,
        };
        assert!(matches!(
            client
                .sign_pdf(
                    key.clone(),
                    pin.clone(),
                    contract.into(),
                    output.display().to_string(),
                    options(Some("zz".into())),
                    None
                )
                .await,
            Err(InksealError::InvalidInput { .. })
        ));
        // Signing: prepare, capture bound to the prepared digest (the folder hooks, the
        // desktop sample's path), co-sign with that evidence.
        let prepared = client
            .prepare_pdf(key.clone(), contract.into(), options(None))
            .expect("prepared");
        let digest = prepared.document_digest_hex();
        assert!(matches!(
            client
                .capture_evidence_from_folder(
                    key.clone(),
                    folder.display().to_string(),
                    true,
                    vec!["not hex".into()],
                )
                .await,
            Err(InksealError::InvalidInput { .. })
        ));
        let again = client
            .capture_evidence_from_folder(
                key.clone(),
                folder.display().to_string(),
                true,
                vec![digest.clone()],
            )
            .await
            .expect("folder capture");
        assert_eq!(again.document_digests_hex, [digest]);
        // The proofing evidence does not sign the contract.
        assert!(matches!(
            client
                .sign_prepared_pdf(
                    pin.clone(),
                    prepared.clone(),
                    output.display().to_string(),
                    Some(evidence.head_hex.clone()),
                    None,
                )
                .await,
            Err(InksealError::EvidenceRequired { .. })
        ));
        // The refusal left the prepared PDF usable: sign it with the evidence bound to its
        // digest, without proving liveness again.
        client
            .sign_prepared_pdf(
                pin.clone(),
                prepared.clone(),
                output.display().to_string(),
                Some(again.head_hex),
                None,
            )
            .await
            .expect("signed with evidence");
        assert!(matches!(
            client
                .sign_prepared_pdf(
                    pin.clone(),
                    prepared,
                    output.display().to_string(),
                    None,
                    None
                )
                .await,
            Err(InksealError::InvalidInput { .. })
        ));
        let ca = inkseal_pki::der_to_pem("CERTIFICATE", &cert.ca_certificate_der);
        let report = verify_pdf(output.display().to_string(), vec![ca]).expect("verify");
        assert!(report.all_valid, "{report:?}");
        server.shutdown().await.expect("shutdown");
    }
}
