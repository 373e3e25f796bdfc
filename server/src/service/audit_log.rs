//! The audit log as operators see it: pages of entries, signed checkpoints, verification.
//!
//! The server signs a checkpoint of every lane's head with the vault's audit key every few
//! seconds while entries arrive (see `lib.rs`'s housekeeping task) and at shutdown; an
//! operator route and `inkseal audit verify` check every lane against them.

use super::Context;
use crate::audit::{AuditEntry, Checkpoint, LaneHead, LogVerification, LogVerifier};
use crate::error::ServiceError;
use crate::store::{StoreError, now_ms};

/// Entries read per page while verifying.
const VERIFY_PAGE: u32 = 10_000;

/// The audit log (see the module documentation).
pub struct AuditLog<'a> {
    pub(crate) ctx: &'a Context,
}

impl AuditLog<'_> {
    /// Entries of lane `lane` with `seq >= from`, at most `limit` (capped at 10,000). Without
    /// a lane, the log's only lane (`main` on SQLite, and on a PostgreSQL log no replica of
    /// this version has written to yet); a log of several lanes needs one named, since
    /// sequence numbers count per lane.
    pub fn entries(
        &self,
        lane: Option<&str>,
        from: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, ServiceError> {
        let lane = match lane {
            Some(lane) => lane.to_owned(),
            None => {
                let heads = self.ctx.store.audit_heads()?;
                match heads.as_slice() {
                    [] => crate::audit::MAIN_LANE.to_owned(),
                    [only] => only.lane.clone(),
                    several => {
                        return Err(ServiceError::BadRequest(format!(
                            "the log has {} lanes (one per replica connection; sequence \
                             numbers count per lane): name one with ?lane=, \
                             GET /v1/admin/audit/lanes lists them",
                            several.len()
                        )));
                    }
                }
            }
        };
        Ok(self
            .ctx
            .store
            .audit_entries(&lane, from, limit.min(10_000))?)
    }

    /// Every lane and its head, sorted by lane name.
    pub fn lanes(&self) -> Result<Vec<LaneHead>, ServiceError> {
        Ok(self.ctx.store.audit_heads()?)
    }

    /// The key checkpoints are signed with (SEC1 uncompressed, hex): publish it, pin it.
    pub fn public_key_hex(&self) -> Result<String, ServiceError> {
        let key = self.ctx.vault.audit_public_key()?;
        Ok(hex::encode(key.to_sec1_point(false).as_bytes()))
    }

    /// Sign a checkpoint of every lane's current head unless the last checkpoint already
    /// covers them (v1 while the log is the one lane `main`, else over every lane). Returns
    /// the new checkpoint, if one was made.
    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, ServiceError> {
        let heads = self.ctx.store.audit_heads()?;
        if heads.is_empty() {
            return Ok(None);
        }
        if self
            .ctx
            .store
            .last_checkpoint()?
            .is_some_and(|c| c.covers(&heads))
        {
            return Ok(None);
        }
        let at_ms = now_ms();
        let format = Checkpoint::format_for(&heads);
        let bytes = Checkpoint::signed_bytes(format, &heads, at_ms)
            .map_err(|e| ServiceError::Internal(format!("audit checkpoint: {e}")))?;
        let signature = self.ctx.vault.sign_audit(&bytes)?;
        let checkpoint = Checkpoint {
            format,
            heads,
            at_ms,
            signature_hex: hex::encode(signature.to_bytes()),
        };
        match self.ctx.store.insert_checkpoint(&checkpoint) {
            // Another replica (or a concurrent call) signed the same heads first.
            Err(StoreError::Conflict) => Ok(None),
            other => other.map(|()| Some(checkpoint)).map_err(Into::into),
        }
    }

    /// Check every lane and every checkpoint against the vault's audit key.
    pub fn verify(&self) -> Result<LogVerification, ServiceError> {
        let key = self.ctx.vault.audit_public_key()?;
        let checkpoints = self.ctx.store.checkpoints()?;
        let mut verifier = LogVerifier::new(&checkpoints, &key);
        for head in self.ctx.store.audit_heads()? {
            let mut from = 1;
            loop {
                let page = self
                    .ctx
                    .store
                    .audit_entries(&head.lane, from, VERIFY_PAGE)?;
                let Some(last) = page.last() else { break };
                from = last.seq + 1;
                verifier.feed(&page);
                if page.len() < VERIFY_PAGE as usize {
                    break;
                }
            }
        }
        Ok(verifier.finish())
    }
}
