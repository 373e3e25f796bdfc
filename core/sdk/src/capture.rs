//! Capture with the server: ask for a liveness challenge, let the app's hooks (camera, vendor
//! SDK, ID-card scanner) do the capture, check what came back, bind the document, and submit
//! the evidence. The server's verdict decides; its receipt carries the manifest head that the
//! signing request must present (see [`CosignClient::sign_pdf_with_evidence`]).

use std::sync::Arc;

use inkseal_capture::challenge::LivenessChallenge;
use inkseal_capture::date::{CHINA_STANDARD_TIME_OFFSET_MINUTES, Date};
use inkseal_capture::digest::DigestAlgorithm;
use inkseal_capture::hooks::{FaceLivenessHook, IdCardHook, IntentRecordingHook};
use inkseal_capture::id_card::IdCardReport;
use inkseal_capture::manifest::EvidenceManifest;
use inkseal_capture::session::{CaptureConfig, CaptureHooks, CaptureSession};
use inkseal_capture::submission::EvidenceSubmission;
use inkseal_capture::{CaptureError, RecoveryAction};
use inkseal_cosign::api::EvidenceReceipt;

use crate::{CosignClient, SdkError};

/// The app's capture hooks (shared, so the capture can run on a blocking thread).
#[derive(Clone)]
pub struct CaptureHookSet {
    /// ID-card capture; required when [`CaptureRequest::require_id_card`] is set.
    pub id_card: Option<Arc<dyn IdCardHook>>,
    /// Face liveness.
    pub liveness: Arc<dyn FaceLivenessHook>,
    /// Intent recording; required when [`CaptureRequest::intent_statement`] is set.
    pub intent: Option<Arc<dyn IntentRecordingHook>>,
}

/// What to capture.
#[derive(Clone, Debug)]
pub struct CaptureRequest {
    /// Capture and check the ID card before the face.
    pub require_id_card: bool,
    /// A statement the signer reads aloud on camera (insurance dual recording).
    pub intent_statement: Option<String>,
    /// The documents about to be signed, as the SM3 digests the server will see: for a PDF,
    /// [`PreparedPdf::document_digest`](crate::PreparedPdf::document_digest); for a raw
    /// message, its SM3. Under a liveness policy the evidence signs only these.
    pub documents: Vec<[u8; 32]>,
}

impl Default for CaptureRequest {
    /// ID card and face; no intent recording; no document (identity proofing).
    fn default() -> Self {
        CaptureRequest {
            require_id_card: true,
            intent_statement: None,
            documents: Vec::new(),
        }
    }
}

/// Evidence the server accepted.
#[derive(Clone, Debug)]
pub struct VerifiedEvidence {
    /// The manifest head: pass it to the signing call.
    pub head: [u8; 32],
    /// The server's receipt (verdict, validity).
    pub receipt: EvidenceReceipt,
    /// The manifest as submitted.
    pub manifest: EvidenceManifest,
    /// The phone's ID-card check, if the card was captured.
    pub id_card: Option<IdCardReport>,
}

/// A capture failure as the app should see it, with the capture crate's recovery action.
fn capture_error(e: CaptureError) -> SdkError {
    match e.action() {
        RecoveryAction::None => SdkError::Cancelled,
        RecoveryAction::Abort => SdkError::InvalidInput(e.to_string()),
        action => SdkError::CaptureRejected {
            reason: e.to_string(),
            action,
        },
    }
}

impl CosignClient {
    /// A one-time liveness challenge from the server for `key_id`.
    pub async fn liveness_challenge(&self, key_id: &str) -> Result<LivenessChallenge, SdkError> {
        self.send_as(
            key_id,
            "POST",
            &format!("/v1/keys/{key_id}/liveness/challenge"),
            Some(&serde_json::json!({})),
        )
        .await
    }

    /// Submits evidence; the answer is the server's verdict (a failed check is a receipt with
    /// `passed: false`).
    pub async fn submit_evidence(
        &self,
        key_id: &str,
        submission: &EvidenceSubmission,
    ) -> Result<EvidenceReceipt, SdkError> {
        self.send_as(
            key_id,
            "POST",
            &format!("/v1/keys/{key_id}/evidence"),
            Some(submission),
        )
        .await
    }

    /// The whole capture: challenge, hooks (run on a blocking thread: they may wait for the
    /// camera UI), local checks, document binding, submission. Returns only evidence the
    /// server passed; a failed verdict is [`SdkError::CaptureRejected`] with the server's
    /// reason.
    pub async fn capture_evidence(
        &self,
        key_id: &str,
        hooks: CaptureHookSet,
        request: CaptureRequest,
    ) -> Result<VerifiedEvidence, SdkError> {
        let challenge = self.liveness_challenge(key_id).await?;
        let outcome = tokio::task::spawn_blocking(move || {
            let now = inkseal_capture::session::Clock::System.now_ms();
            let mut config = CaptureConfig::new(
                DigestAlgorithm::Sm3,
                Date::from_unix_ms(now, CHINA_STANDARD_TIME_OFFSET_MINUTES),
            );
            config.require_id_card = request.require_id_card;
            config.intent_statement = request.intent_statement;
            let set = CaptureHooks {
                id_card: hooks.id_card.as_deref(),
                liveness: hooks.liveness.as_ref(),
                intent: hooks.intent.as_deref(),
            };
            let mut outcome = CaptureSession::run(config, challenge, set)?;
            for digest in &request.documents {
                outcome.bind_document(DigestAlgorithm::Sm3, *digest, now)?;
            }
            Ok::<_, CaptureError>(outcome)
        })
        .await
        .map_err(|e| SdkError::InvalidInput(format!("capture task failed: {e}")))?
        .map_err(capture_error)?;
        let receipt = self.submit_evidence(key_id, &outcome.submission).await?;
        let head_hex = outcome.head_hex();
        if receipt.manifest_head != head_hex {
            return Err(SdkError::ServerMisbehaved(
                "the receipt names another manifest".into(),
            ));
        }
        if !receipt.passed {
            return Err(SdkError::CaptureRejected {
                reason: receipt.reason,
                action: RecoveryAction::RetakeFace,
            });
        }
        let mut head = [0u8; 32];
        hex::decode_to_slice(&head_hex, &mut head)
            .map_err(|_| SdkError::InvalidInput("manifest head is not hex".into()))?;
        Ok(VerifiedEvidence {
            head,
            receipt,
            manifest: outcome.manifest,
            id_card: outcome.id_card,
        })
    }
}
