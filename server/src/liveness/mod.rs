//! Liveness challenges, evidence verdicts and the signing policy that consumes them.
//!
//! 1. [`CosignService::issue_challenge`]: a random nonce and action order, a short expiry,
//!    stored and audited.
//! 2. [`CosignService::submit_evidence`]: the challenge is consumed (single use, even when the
//!    check fails), must be this key's and unexpired by the server's clock; the manifest must
//!    verify and record exactly the submitted artefacts and the issued challenge; the server
//!    re-checks frame quality and the ID card itself, then asks the vendor adapter. The verdict
//!    and the manifest are stored append-only and audited, passed or not.
//! 3. [`CosignService::check_signing_policy`] (inside every co-signing request): a key whose
//!    policy requires liveness is co-signed only with the head of a passed manifest of this key,
//!    received less than `max_evidence_age_secs` ago. Refusals are typed and audited.

pub mod vendor;

use crate::audit::{AuditEvent, AuditKind};
use crate::error::ServiceError;
use crate::service::CosignService;
use crate::store::{ChallengeRecord, EvidenceRecord, SigningPolicy, Taken, now_ms};
use inkseal_capture::challenge::{LivenessAction, LivenessChallenge, NONCE_LEN};
use inkseal_capture::date::{CHINA_STANDARD_TIME_OFFSET_MINUTES, Date};
use inkseal_capture::id_card::check_id_card;
use inkseal_capture::id_number::mask_id_number;
use inkseal_capture::quality::check_image;
use inkseal_capture::submission::EvidenceSubmission;
use inkseal_cosign::api::EvidenceReceipt;
use serde_json::json;

/// Every action a challenge may ask for.
const ALL_ACTIONS: [LivenessAction; 5] = [
    LivenessAction::Blink,
    LivenessAction::TurnLeft,
    LivenessAction::TurnRight,
    LivenessAction::Nod,
    LivenessAction::OpenMouth,
];

fn random_bytes<const N: usize>() -> Result<[u8; N], ServiceError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(b)
}

/// `count` distinct actions in a uniformly random order (Fisher-Yates on random bytes).
fn random_actions(count: usize) -> Result<Vec<LivenessAction>, ServiceError> {
    let mut actions = ALL_ACTIONS;
    let random: [u8; 16] = random_bytes()?;
    for i in (1..actions.len()).rev() {
        // 16 bits per draw keeps the modulo bias below 1e-4.
        let r = u16::from_le_bytes([random[2 * i], random[2 * i + 1]]) as usize;
        actions.swap(i, r % (i + 1));
    }
    Ok(actions[..count.min(actions.len())].to_vec())
}

impl CosignService {
    /// Issue a one-time liveness challenge for `key_id`.
    pub fn issue_challenge(&self, key_id: &str) -> Result<LivenessChallenge, ServiceError> {
        let key = self.key(key_id)?;
        if key.locked {
            return Err(ServiceError::Locked);
        }
        let id: [u8; 16] = random_bytes()?;
        let nonce: [u8; NONCE_LEN] = random_bytes()?;
        let challenge = LivenessChallenge::new(
            format!("lc-{}", hex::encode(id)),
            &nonce,
            random_actions(self.policy.liveness_actions)?,
            inkseal_capture::quality::QualityThresholds::face(),
            now_ms(),
            self.policy.challenge_ttl_secs.saturating_mul(1000),
        )
        .map_err(|e| ServiceError::Internal(format!("challenge: {e}")))?;
        let record = ChallengeRecord {
            challenge_id: challenge.challenge_id.clone(),
            key_id: key_id.to_owned(),
            challenge_json: serde_json::to_string(&challenge)
                .map_err(|e| ServiceError::Internal(e.to_string()))?,
            expires_ms: challenge.expires_at_ms,
        };
        let audit = AuditEvent::new(
            AuditKind::ChallengeIssued,
            key_id,
            json!({
                "challenge_id": challenge.challenge_id,
                "mode": challenge.mode.as_str(),
                "actions": challenge.actions.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "expires_at_ms": challenge.expires_at_ms,
            }),
        );
        self.store.insert_challenge(&record, &audit)?;
        Ok(challenge)
    }

    /// Judge an evidence submission for `key_id` (see the module documentation). A failed
    /// liveness check is a receipt with `passed: false`, not an error; errors are malformed,
    /// inconsistent or replayed submissions.
    pub fn submit_evidence(
        &self,
        key_id: &str,
        submission: &EvidenceSubmission,
    ) -> Result<EvidenceReceipt, ServiceError> {
        let key = self.key(key_id)?;
        if key.locked {
            return Err(ServiceError::Locked);
        }
        let record = match self.store.take_challenge(&submission.challenge_id)? {
            Taken::Fresh(record) => record,
            Taken::AlreadyUsed => {
                // A retried submission (same manifest) gets the verdict it already has.
                if let Some(done) = self.store.find_evidence(key_id, &submission.head_hex())? {
                    if done.challenge_id == submission.challenge_id {
                        return self.receipt(key_id, done);
                    }
                }
                return Err(self.refuse_challenge(key_id, "the challenge was already used"));
            }
            Taken::Unknown => return Err(self.refuse_challenge(key_id, "unknown challenge")),
        };
        if record.key_id != key_id {
            return Err(self.refuse_challenge(key_id, "the challenge belongs to another key"));
        }
        let now = now_ms();
        if now > record.expires_ms {
            return Err(self.refuse_challenge(key_id, "the challenge has expired"));
        }
        let challenge: LivenessChallenge = serde_json::from_str(&record.challenge_json)
            .map_err(|e| ServiceError::Internal(format!("stored challenge: {e}")))?;
        submission
            .check_consistency()
            .and_then(|()| submission.check_challenge(&challenge))
            .map_err(|e| ServiceError::BadRequest(format!("evidence rejected: {e}")))?;
        let frames = submission
            .frames()
            .map_err(|e| ServiceError::BadRequest(e.to_string()))?;
        let package = submission
            .vendor_package()
            .map_err(|e| ServiceError::BadRequest(e.to_string()))?;

        let (passed, reason) = self.judge(&challenge, submission, &package, &frames, now)?;
        let head = submission.head_hex();
        let evidence = EvidenceRecord {
            challenge_id: challenge.challenge_id.clone(),
            key_id: key_id.to_owned(),
            manifest_head: head.clone(),
            manifest_json: serde_json::to_string(&submission.manifest)
                .map_err(|e| ServiceError::Internal(e.to_string()))?,
            passed,
            reason: reason.clone(),
            vendor_name: submission.liveness.vendor_name.clone(),
            vendor_reference: submission.liveness.vendor_reference.clone(),
            id_number_masked: submission
                .id_card
                .as_ref()
                .map(|c| mask_id_number(&c.id_number)),
            received_ms: now,
        };
        let kind = if passed {
            AuditKind::EvidenceAccepted
        } else {
            AuditKind::EvidenceRejected
        };
        let audit = AuditEvent::new(
            kind,
            key_id,
            json!({
                "challenge_id": challenge.challenge_id,
                "manifest_head": head,
                "vendor": evidence.vendor_name,
                "vendor_reference": evidence.vendor_reference,
                "reason": reason,
            }),
        );
        match self.store.insert_evidence(&evidence, &audit) {
            Err(crate::store::StoreError::Conflict) => {
                return Err(ServiceError::Conflict(
                    "this manifest was already submitted".into(),
                ));
            }
            other => other?,
        }
        self.receipt(key_id, evidence)
    }

    fn receipt(
        &self,
        key_id: &str,
        evidence: EvidenceRecord,
    ) -> Result<EvidenceReceipt, ServiceError> {
        let policy = self.signing_policy(key_id)?;
        Ok(EvidenceReceipt {
            challenge_id: evidence.challenge_id,
            manifest_head: evidence.manifest_head,
            passed: evidence.passed,
            reason: evidence.reason,
            valid_until_ms: evidence
                .received_ms
                .saturating_add(policy.max_evidence_age_secs.saturating_mul(1000)),
        })
    }

    /// The server's own checks, then the vendor's verdict: `(passed, reason)`.
    fn judge(
        &self,
        challenge: &LivenessChallenge,
        submission: &EvidenceSubmission,
        package: &[u8],
        frames: &[Vec<u8>],
        now: u64,
    ) -> Result<(bool, String), ServiceError> {
        if frames.is_empty() {
            return Ok((false, "no face frames were submitted".into()));
        }
        for (i, frame) in frames.iter().enumerate() {
            if let Err(e) = check_image(frame, &challenge.thresholds, None) {
                return Ok((false, format!("face frame {i}: {e}")));
            }
        }
        if let Some(card) = &submission.id_card {
            let today = Date::from_unix_ms(now, CHINA_STANDARD_TIME_OFFSET_MINUTES);
            if let Err(e) = check_id_card(card, today) {
                return Ok((false, format!("ID card: {e}")));
            }
        }
        let name = submission.liveness.vendor_name.as_str();
        let Some(vendor) = self.vendors.iter().find(|v| v.name() == name) else {
            return Ok((
                false,
                format!("liveness vendor {name:?} is not accepted here"),
            ));
        };
        let verdict = vendor
            .judge(challenge, package, frames)
            .map_err(|e| ServiceError::Internal(format!("liveness vendor {name}: {e}")))?;
        Ok((verdict.passed, verdict.reason))
    }

    fn refuse_challenge(&self, key_id: &str, why: &str) -> ServiceError {
        let audit = AuditEvent::new(
            AuditKind::Refused,
            key_id,
            json!({ "reason": format!("evidence: {why}") }),
        );
        match self.store.append_audit(&audit) {
            Ok(()) => ServiceError::ChallengeInvalid(format!("{why}; request a new challenge")),
            Err(e) => e.into(),
        }
    }

    /// The signing policy in force for `key_id`: its own, or the server's default.
    pub fn signing_policy(&self, key_id: &str) -> Result<SigningPolicy, ServiceError> {
        Ok(self
            .store
            .get_policy(key_id)?
            .unwrap_or(self.policy.signing))
    }

    /// Give `key_id` its own signing policy (an administrative action: not exposed over the
    /// public HTTP API, which has no caller authentication yet). Audited.
    pub fn set_signing_policy(
        &self,
        key_id: &str,
        policy: SigningPolicy,
    ) -> Result<(), ServiceError> {
        self.key(key_id)?;
        let audit = AuditEvent::new(
            AuditKind::PolicyChanged,
            key_id,
            json!({
                "require_liveness": policy.require_liveness,
                "max_evidence_age_secs": policy.max_evidence_age_secs,
            }),
        );
        Ok(self.store.set_policy(key_id, &policy, &audit)?)
    }

    /// Refuses (typed, audited) a co-signing request that the key's policy does not allow.
    pub(crate) fn check_signing_policy(
        &self,
        key_id: &str,
        evidence_head: Option<&str>,
    ) -> Result<(), ServiceError> {
        let policy = self.signing_policy(key_id)?;
        if !policy.require_liveness {
            return Ok(());
        }
        let why = match evidence_head {
            None => Some("this key requires a passed liveness check; none was presented".into()),
            Some(head) => match self.store.find_evidence(key_id, head)? {
                None => Some("the presented evidence is unknown for this key".into()),
                Some(e) if !e.passed => {
                    Some(format!("the presented liveness check failed: {}", e.reason))
                }
                Some(e) => {
                    let age_ms = now_ms().saturating_sub(e.received_ms);
                    let max_ms = policy.max_evidence_age_secs.saturating_mul(1000);
                    (age_ms > max_ms).then(|| {
                        format!(
                            "the liveness check is {} s old; at most {} s is accepted",
                            age_ms / 1000,
                            policy.max_evidence_age_secs
                        )
                    })
                }
            },
        };
        let Some(why) = why else {
            return Ok(());
        };
        self.store.append_audit(&AuditEvent::new(
            AuditKind::Refused,
            key_id,
            json!({ "reason": why, "evidence_head": evidence_head }),
        ))?;
        Err(ServiceError::EvidenceRequired(format!(
            "{why}; run the liveness check again"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_distinct_and_their_order_varies() {
        let mut orders = std::collections::HashSet::new();
        for _ in 0..200 {
            let a = random_actions(3).expect("rng");
            assert_eq!(a.len(), 3);
            let distinct: std::collections::HashSet<_> = a.iter().collect();
            assert_eq!(distinct.len(), 3);
            orders.insert(a);
        }
        // 60 possible ordered triples; 200 draws see many of them.
        assert!(orders.len() > 20, "{}", orders.len());
        assert!(random_actions(0).expect("rng").is_empty());
        assert_eq!(random_actions(99).expect("rng").len(), 5);
    }
}
