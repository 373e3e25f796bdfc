//! Liveness challenges, evidence verdicts and the signing policy that consumes them.
//!
//! 1. [`Liveness::issue_challenge`]: a random nonce and action order, a short expiry, stored
//!    and audited; a key holds at most `max_open_challenges` unanswered ones.
//! 2. [`Liveness::submit_evidence`]: the challenge must be this key's, unused and unexpired by
//!    the server's clock; the manifest must verify and record exactly the submitted artefacts
//!    and the issued challenge. Only then is the challenge consumed, together with the stored
//!    verdict (so a malformed or foreign submission consumes nothing). The server re-checks
//!    frame quality and the ID card itself (and, when the institution bound an ID number to
//!    the key, that the card is the holder's), then asks the vendor adapter. The verdict, the
//!    manifest and the documents it binds are stored append-only and audited, passed or not.
//! 3. `check_signing_policy` (inside every co-signing request): a key whose policy requires
//!    liveness is co-signed only with the head of a passed manifest of this key, received less
//!    than `max_evidence_age_secs` ago, that binds the very document being signed; the
//!    evidence signs once (or, with `allow_batch`, each bound document once). Refusals are
//!    typed and audited.

pub mod vendor;

use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::error::ServiceError;
use crate::service::Context;
use crate::store::{
    ChallengeRecord, EvidenceRecord, EvidenceUse, KeyRecord, SigningPolicy, StoreError, now_ms,
};
use inkseal_capture::challenge::{LivenessAction, LivenessChallenge, NONCE_LEN};
use inkseal_capture::date::{CHINA_STANDARD_TIME_OFFSET_MINUTES, Date};
use inkseal_capture::id_card::check_id_card;
use inkseal_capture::id_number::{IdNumber, mask_id_number};
use inkseal_capture::manifest::EvidenceKind;
use inkseal_capture::quality::check_image;
use inkseal_capture::submission::EvidenceSubmission;
use inkseal_cosign::api::EvidenceReceipt;
use inkseal_cosign::api::MessageKind;
use serde_json::json;

/// Every action a challenge may ask for.
const ALL_ACTIONS: [LivenessAction; 5] = [
    LivenessAction::Blink,
    LivenessAction::TurnLeft,
    LivenessAction::TurnRight,
    LivenessAction::Nod,
    LivenessAction::OpenMouth,
];

use crate::service::random_bytes;

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

/// Liveness challenges, evidence, signing policies (see the module documentation).
pub struct Liveness<'a> {
    pub(crate) ctx: &'a Context,
}

impl Liveness<'_> {
    /// Issue a one-time liveness challenge for an authenticated device's key (a locked key
    /// may still prove liveness, for its re-verification; a revoked one may not).
    pub fn issue_challenge(
        &self,
        key: &KeyRecord,
        caller: &Caller,
    ) -> Result<LivenessChallenge, ServiceError> {
        let ctx = self.ctx;
        if key.revoked {
            return Err(ServiceError::Revoked);
        }
        let now = now_ms();
        if ctx.store.open_challenges(&key.key_id, now)? >= ctx.policy.max_open_challenges {
            return Err(ServiceError::RateLimited {
                retry_after_secs: ctx.policy.challenge_ttl_secs.max(1),
                why: "this key already holds the most unanswered challenges allowed".into(),
            });
        }
        let id: [u8; 16] = random_bytes()?;
        let nonce: [u8; NONCE_LEN] = random_bytes()?;
        let challenge = LivenessChallenge::new(
            format!("lc-{}", hex::encode(id)),
            &nonce,
            random_actions(ctx.policy.liveness_actions)?,
            inkseal_capture::quality::QualityThresholds::face(),
            now,
            ctx.policy.challenge_ttl_secs.saturating_mul(1000),
        )
        .map_err(|e| ServiceError::Internal(format!("challenge: {e}")))?;
        let record = ChallengeRecord {
            challenge_id: challenge.challenge_id.clone(),
            key_id: key.key_id.clone(),
            challenge_json: serde_json::to_string(&challenge)
                .map_err(|e| ServiceError::Internal(e.to_string()))?,
            expires_ms: challenge.expires_at_ms,
        };
        let audit = AuditEvent::new(
            AuditKind::ChallengeIssued,
            &key.key_id,
            json!({
                "challenge_id": challenge.challenge_id,
                "mode": challenge.mode.as_str(),
                "actions": challenge.actions.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "expires_at_ms": challenge.expires_at_ms,
            }),
        )
        .by(caller);
        ctx.store.insert_challenge(&record, &audit)?;
        Ok(challenge)
    }

    /// Judge an evidence submission for an authenticated device's key (see the module
    /// documentation). A failed liveness check is a receipt with `passed: false`, not an
    /// error; errors are malformed, inconsistent or replayed submissions, which consume
    /// nothing.
    pub fn submit_evidence(
        &self,
        key: &KeyRecord,
        submission: &EvidenceSubmission,
        caller: &Caller,
    ) -> Result<EvidenceReceipt, ServiceError> {
        let ctx = self.ctx;
        let key_id = key.key_id.as_str();
        if key.revoked {
            return Err(ServiceError::Revoked);
        }
        let record = match ctx.store.get_challenge(&submission.challenge_id)? {
            None => return Err(self.refuse_challenge(key_id, "unknown challenge", caller)),
            Some((record, _)) if record.key_id != key_id => {
                return Err(self.refuse_challenge(
                    key_id,
                    "the challenge belongs to another key",
                    caller,
                ));
            }
            Some((_, true)) => {
                // A retried submission (same manifest) gets the verdict it already has.
                if let Some(done) = ctx.store.find_evidence(key_id, &submission.head_hex())? {
                    if done.challenge_id == submission.challenge_id {
                        return self.receipt(key_id, done);
                    }
                }
                return Err(self.refuse_challenge(
                    key_id,
                    "the challenge was already used",
                    caller,
                ));
            }
            Some((record, false)) => record,
        };
        let now = now_ms();
        if now > record.expires_ms {
            return Err(self.refuse_challenge(key_id, "the challenge has expired", caller));
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
        let document_digests = bound_documents(submission)?;

        let (passed, reason) = self.judge(key, &challenge, submission, &package, &frames, now)?;
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
            document_digests,
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
                "document_digests": evidence.document_digests,
                "reason": reason,
            }),
        )
        .by(caller);
        match ctx.store.insert_evidence(&evidence, &audit) {
            Err(StoreError::Conflict) => {
                return Err(self.refuse_challenge(
                    key_id,
                    "the challenge was used meanwhile",
                    caller,
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
            document_digests: evidence.document_digests,
        })
    }

    /// The server's own checks, then the vendor's verdict: `(passed, reason)`.
    fn judge(
        &self,
        key: &KeyRecord,
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
            if let Some(binding) = &key.id_binding {
                let number = IdNumber::parse(&card.id_number, today)
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default();
                if !crate::service::id_matches(&self.ctx.id_pepper, binding, &number) {
                    return Ok((
                        false,
                        "the ID card is not the one the institution enrolled this key for".into(),
                    ));
                }
            }
        }
        let name = submission.liveness.vendor_name.as_str();
        let Some(vendor) = self.ctx.vendors.iter().find(|v| v.name() == name) else {
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

    fn refuse_challenge(&self, key_id: &str, why: &str, caller: &Caller) -> ServiceError {
        let audit = AuditEvent::new(
            AuditKind::Refused,
            key_id,
            json!({ "reason": format!("evidence: {why}") }),
        )
        .by(caller);
        match self.ctx.store.append_audit(&audit) {
            Ok(()) => ServiceError::ChallengeInvalid(format!("{why}; request a new challenge")),
            Err(e) => e.into(),
        }
    }

    /// The signing policy in force for `key_id`: its own, or the server's default.
    pub fn signing_policy(&self, key_id: &str) -> Result<SigningPolicy, ServiceError> {
        self.ctx.signing_policy(key_id)
    }

    /// Give `key_id` its own signing policy (operator with `policy:write`). Audited.
    pub fn set_signing_policy(
        &self,
        key_id: &str,
        policy: SigningPolicy,
        caller: &Caller,
    ) -> Result<(), ServiceError> {
        self.ctx.key(key_id)?;
        let audit = AuditEvent::new(
            AuditKind::PolicyChanged,
            key_id,
            json!({
                "require_liveness": policy.require_liveness,
                "max_evidence_age_secs": policy.max_evidence_age_secs,
                "allow_batch": policy.allow_batch,
            }),
        )
        .by(caller);
        Ok(self.ctx.store.set_policy(key_id, &policy, &audit)?)
    }
}

/// The SM3 document digests a submission's manifest binds.
fn bound_documents(submission: &EvidenceSubmission) -> Result<Vec<String>, ServiceError> {
    submission
        .manifest
        .entries_of(EvidenceKind::DocumentDigest)
        .map(|e| {
            let algorithm = e.meta.get("document_digest_algorithm").map(String::as_str);
            if algorithm != Some("sm3") {
                return Err(ServiceError::BadRequest(
                    "documents must be bound by their SM3 digest".into(),
                ));
            }
            Ok(e.artefact_digest_hex.clone())
        })
        .collect()
}

impl Context {
    /// The signing policy in force for `key_id`: its own, or the server's default.
    pub(crate) fn signing_policy(&self, key_id: &str) -> Result<SigningPolicy, ServiceError> {
        Ok(self
            .store
            .get_policy(key_id)?
            .unwrap_or(self.policy.signing))
    }

    /// Passed evidence of `key_id` with this head, younger than the policy's age, or why not.
    fn fresh_evidence(
        &self,
        key_id: &str,
        head: &str,
        policy: &SigningPolicy,
    ) -> Result<Result<EvidenceRecord, String>, ServiceError> {
        Ok(match self.store.find_evidence(key_id, head)? {
            None => Err("the presented evidence is unknown for this key".into()),
            Some(e) if !e.passed => {
                Err(format!("the presented liveness check failed: {}", e.reason))
            }
            Some(e) => {
                let age_ms = now_ms().saturating_sub(e.received_ms);
                let max_ms = policy.max_evidence_age_secs.saturating_mul(1000);
                if age_ms > max_ms {
                    Err(format!(
                        "the liveness check is {} s old; at most {} s is accepted",
                        age_ms / 1000,
                        policy.max_evidence_age_secs
                    ))
                } else {
                    Ok(e)
                }
            }
        })
    }

    /// Refuse unless `head` names fresh passed evidence of `key_id` (an operator's unlock).
    pub(crate) fn require_fresh_evidence(
        &self,
        key_id: &str,
        head: &str,
    ) -> Result<(), ServiceError> {
        let policy = self.signing_policy(key_id)?;
        match self.fresh_evidence(key_id, head, &policy)? {
            Ok(_) => Ok(()),
            Err(why) => Err(ServiceError::EvidenceRequired(why)),
        }
    }

    /// Audit and build the refusal of a co-signing request for its evidence.
    pub(crate) fn refuse_evidence(
        &self,
        key_id: &str,
        evidence_head: Option<&str>,
        why: &str,
        caller: &Caller,
    ) -> Result<ServiceError, ServiceError> {
        self.store.append_audit(
            &AuditEvent::new(
                AuditKind::Refused,
                key_id,
                json!({ "reason": why, "evidence_head": evidence_head }),
            )
            .by(caller),
        )?;
        Ok(ServiceError::EvidenceRequired(format!(
            "{why}; run the liveness check again for this document"
        )))
    }

    /// Refuses (typed, audited) a co-signing request that the key's policy does not allow;
    /// otherwise returns the evidence use the signature takes.
    pub(crate) fn check_signing_policy(
        &self,
        key_id: &str,
        evidence_head: Option<&str>,
        kind: MessageKind,
        document_digest: &[u8; 32],
        caller: &Caller,
    ) -> Result<Option<EvidenceUse>, ServiceError> {
        let policy = self.signing_policy(key_id)?;
        if !policy.require_liveness {
            return Ok(None);
        }
        let Some(head) = evidence_head else {
            return Err(self.refuse_evidence(
                key_id,
                None,
                "this key requires a passed liveness check; none was presented",
                caller,
            )?);
        };
        let evidence = match self.fresh_evidence(key_id, head, &policy)? {
            Ok(e) => e,
            Err(why) => return Err(self.refuse_evidence(key_id, Some(head), &why, caller)?),
        };
        let document = hex::encode(document_digest);
        let slot = match kind {
            // Identity proofing before the certificate: the CSR names the key, not a document.
            MessageKind::CertificationRequest => "certification".to_owned(),
            MessageKind::CmsSignedAttributes
            | MessageKind::CmsAttachedTransaction
            | MessageKind::CmsAttachedLogin
            | MessageKind::Raw => {
                if !evidence.document_digests.contains(&document) {
                    return Err(self.refuse_evidence(
                        key_id,
                        Some(head),
                        "the presented evidence was captured for another document",
                        caller,
                    )?);
                }
                if policy.allow_batch {
                    document
                } else {
                    String::new()
                }
            }
        };
        Ok(Some(EvidenceUse {
            manifest_head: head.to_owned(),
            slot,
        }))
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
