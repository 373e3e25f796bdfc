//! The audit log as operators see it: pages of entries, signed checkpoints, verification.
//!
//! The server signs a checkpoint of the chain's head with the vault's audit key every few
//! seconds while entries arrive (see `lib.rs`'s housekeeping task) and at shutdown; an
//! operator route and `inkseal audit verify` check the whole chain against them.

use super::Context;
use crate::audit::{AuditEntry, Checkpoint, LogVerification, LogVerifier};
use crate::error::ServiceError;
use crate::store::{StoreError, now_ms};

/// Entries read per page while verifying.
const VERIFY_PAGE: u32 = 10_000;

/// The audit log (see the module documentation).
pub struct AuditLog<'a> {
    pub(crate) ctx: &'a Context,
}

impl AuditLog<'_> {
    /// Entries with `seq >= from`, at most `limit` (capped at 10,000).
    pub fn entries(&self, from: u64, limit: u32) -> Result<Vec<AuditEntry>, ServiceError> {
        Ok(self.ctx.store.audit_entries(from, limit.min(10_000))?)
    }

    /// The key checkpoints are signed with (SEC1 uncompressed, hex): publish it, pin it.
    pub fn public_key_hex(&self) -> Result<String, ServiceError> {
        let key = self.ctx.vault.audit_public_key()?;
        Ok(hex::encode(key.to_sec1_point(false).as_bytes()))
    }

    /// Sign a checkpoint of the current head unless the last checkpoint already covers it.
    /// Returns the new checkpoint, if one was made.
    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, ServiceError> {
        let Some((seq, head)) = self.ctx.store.audit_head()? else {
            return Ok(None);
        };
        if self
            .ctx
            .store
            .checkpoints()?
            .last()
            .is_some_and(|c| c.seq >= seq)
        {
            return Ok(None);
        }
        let at_ms = now_ms();
        let signature = self
            .ctx
            .vault
            .sign_audit(&Checkpoint::signed_bytes(seq, &head, at_ms))?;
        let checkpoint = Checkpoint {
            seq,
            head_hash: hex::encode(head),
            at_ms,
            signature_hex: hex::encode(signature.to_bytes()),
        };
        match self.ctx.store.insert_checkpoint(&checkpoint) {
            // Another replica (or a concurrent call) signed the same head first.
            Err(StoreError::Conflict) => Ok(None),
            other => other.map(|()| Some(checkpoint)).map_err(Into::into),
        }
    }

    /// Check the whole chain and every checkpoint against the vault's audit key.
    pub fn verify(&self) -> Result<LogVerification, ServiceError> {
        let key = self.ctx.vault.audit_public_key()?;
        let checkpoints = self.ctx.store.checkpoints()?;
        let mut verifier = LogVerifier::new(&checkpoints, &key);
        let mut from = 1;
        loop {
            let page = self.ctx.store.audit_entries(from, VERIFY_PAGE)?;
            let Some(last) = page.last() else { break };
            from = last.seq + 1;
            verifier.feed(&page);
            if page.len() < VERIFY_PAGE as usize {
                break;
            }
        }
        Ok(verifier.finish())
    }
}
