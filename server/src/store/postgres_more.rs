//! [`AccessStore`], [`EvidenceStore`] and [`SealStore`] for [`PostgresStore`].

use super::KeyPurpose;
use super::access::{AccessStore, CredentialKind, CredentialRecord, PurgeCounts, TicketRecord};
use super::evidence::{
    ChallengeRecord, EvidenceRecord, EvidenceStore, SignatureSummary, SigningPolicy,
};
use super::postgres::{AUDIT_COLUMNS, Fail, append, audit_from_row, int, rows, uint};
use super::seals::{SealKeyKind, SealRecord, SealStore};
use super::{PostgresStore, StoreError};
use crate::audit::{AuditEntry, AuditEvent};
use postgres::Row;

fn corrupt(what: String) -> Fail {
    Fail::Store(StoreError::Backend(what))
}

const CREDENTIAL_COLUMNS: &str =
    "credential_id, name, kind, fingerprint, roles, created_ms, revoked_ms";

fn credential_from_row(r: &Row) -> Result<CredentialRecord, Fail> {
    let kind: String = r.try_get(2)?;
    let roles: String = r.try_get(4)?;
    Ok(CredentialRecord {
        credential_id: r.try_get(0)?,
        name: r.try_get(1)?,
        kind: CredentialKind::parse(&kind)
            .ok_or_else(|| corrupt(format!("unknown credential kind {kind:?}")))?,
        fingerprint: r.try_get(3)?,
        roles: roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        created_ms: uint(r.try_get(5)?),
        revoked_ms: r.try_get::<_, Option<i64>>(6)?.map(uint),
    })
}

const TICKET_COLUMNS: &str = "ticket_id, secret_hash, user_id, certificate_name, id_binding, \
    issued_by, issued_ms, expires_ms, used_ms, key_id, purpose";

fn ticket_from_row(r: &Row) -> Result<TicketRecord, Fail> {
    Ok(TicketRecord {
        ticket_id: r.try_get(0)?,
        secret_hash: r.try_get(1)?,
        user_id: r.try_get(2)?,
        certificate_name: r.try_get(3)?,
        id_binding: r.try_get(4)?,
        issued_by: r.try_get(5)?,
        issued_ms: uint(r.try_get(6)?),
        expires_ms: uint(r.try_get(7)?),
        used_ms: r.try_get::<_, Option<i64>>(8)?.map(uint),
        key_id: r.try_get(9)?,
        purpose: {
            let purpose: String = r.try_get(10)?;
            KeyPurpose::parse(&purpose)
                .ok_or_else(|| corrupt(format!("unknown ticket key purpose {purpose:?}")))?
        },
    })
}

impl AccessStore for PostgresStore {
    fn insert_credential(
        &self,
        credential: &CredentialRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO operator_credentials ({CREDENTIAL_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, NULL)"
                ),
                &[
                    &credential.credential_id,
                    &credential.name,
                    &credential.kind.as_str(),
                    &credential.fingerprint,
                    &credential.roles.join(","),
                    &int(credential.created_ms),
                ],
            )?;
            Ok(())
        })
    }

    fn get_credential(&self, credential_id: &str) -> Result<Option<CredentialRecord>, StoreError> {
        self.read(|c| {
            c.query_opt(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM operator_credentials
                     WHERE credential_id = $1"
                ),
                &[&credential_id],
            )?
            .map(|r| credential_from_row(&r))
            .transpose()
        })
    }

    fn credential_for_certificate(
        &self,
        fingerprint: &[u8],
    ) -> Result<Option<CredentialRecord>, StoreError> {
        self.read(|c| {
            c.query_opt(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM operator_credentials
                     WHERE fingerprint = $1 AND kind = 'client_certificate'
                       AND revoked_ms IS NULL"
                ),
                &[&fingerprint],
            )?
            .map(|r| credential_from_row(&r))
            .transpose()
        })
    }

    fn list_credentials(&self) -> Result<Vec<CredentialRecord>, StoreError> {
        self.read(|c| {
            rows(
                c.query(
                    &format!(
                        "SELECT {CREDENTIAL_COLUMNS} FROM operator_credentials
                         ORDER BY created_ms, credential_id"
                    ),
                    &[],
                )?,
                credential_from_row,
            )
        })
    }

    fn revoke_credential(
        &self,
        credential_id: &str,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE operator_credentials SET revoked_ms = $2
                 WHERE credential_id = $1 AND revoked_ms IS NULL",
                &[&credential_id, &int(now_ms)],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound.into());
            }
            Ok(())
        })
    }

    fn insert_ticket(&self, ticket: &TicketRecord, audit: &AuditEvent) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO tickets ({TICKET_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9)"
                ),
                &[
                    &ticket.ticket_id,
                    &ticket.secret_hash,
                    &ticket.user_id,
                    &ticket.certificate_name,
                    &ticket.id_binding,
                    &ticket.issued_by,
                    &int(ticket.issued_ms),
                    &int(ticket.expires_ms),
                    &ticket.purpose.as_str(),
                ],
            )?;
            Ok(())
        })
    }

    fn get_ticket(&self, ticket_id: &str) -> Result<Option<TicketRecord>, StoreError> {
        self.read(|c| {
            c.query_opt(
                &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE ticket_id = $1"),
                &[&ticket_id],
            )?
            .map(|r| ticket_from_row(&r))
            .transpose()
        })
    }

    fn remember_nonce(
        &self,
        signer: &str,
        nonce: &str,
        _created_ms: u64,
        expires_ms: u64,
    ) -> Result<bool, StoreError> {
        // Shared by every replica: a nonce seen by one is a replay at all of them. An expired
        // row still counts until purged (the time window refuses such a request anyway).
        self.read(|c| {
            Ok(c.execute(
                "INSERT INTO request_nonces (signer, nonce, expires_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (signer, nonce) DO NOTHING",
                &[&signer, &nonce, &int(expires_ms)],
            )? == 1)
        })
    }

    fn purge(
        &self,
        now_ms: u64,
        audit: &dyn Fn(PurgeCounts) -> AuditEvent,
    ) -> Result<PurgeCounts, StoreError> {
        self.transact(|tx| {
            let nonces = tx.execute(
                "DELETE FROM request_nonces WHERE expires_ms < $1",
                &[&int(now_ms)],
            )?;
            let challenges = tx.execute(
                "DELETE FROM liveness_challenges WHERE expires_ms < $1
                   AND NOT EXISTS (SELECT 1 FROM evidence
                                   WHERE evidence.challenge_id = liveness_challenges.challenge_id)",
                &[&int(now_ms)],
            )?;
            let tickets = tx.execute(
                "DELETE FROM tickets WHERE expires_ms < $1 AND used_ms IS NULL",
                &[&int(now_ms)],
            )?;
            let login_challenges = tx.execute(
                "DELETE FROM login_challenges WHERE expires_ms < $1",
                &[&int(now_ms)],
            )?;
            let p256_sessions = tx.execute(
                "UPDATE p256_sign_sessions SET sealed_state = NULL, sealed_reply = NULL
                 WHERE expires_ms < $1 AND sealed_state IS NOT NULL",
                &[&int(now_ms)],
            )?;
            let p256_keygens = tx.execute(
                "DELETE FROM p256_keygens WHERE expires_ms < $1",
                &[&int(now_ms)],
            )?;
            let counts = PurgeCounts {
                nonces,
                challenges,
                tickets,
                login_challenges,
                p256_sessions,
                p256_keygens,
            };
            // Nonces expire all the time; only removing challenges or tickets is worth an entry.
            if counts.challenges > 0
                || counts.tickets > 0
                || counts.login_challenges > 0
                || counts.p256_sessions > 0
                || counts.p256_keygens > 0
            {
                append(tx, &audit(counts))?;
            }
            Ok(counts)
        })
    }
}

const EVIDENCE_COLUMNS: &str = "challenge_id, key_id, manifest_head, manifest_json, passed, \
    reason, vendor_name, vendor_reference, id_number_masked, received_ms, document_digests";

fn evidence_from_row(r: &Row) -> Result<EvidenceRecord, Fail> {
    let digests: String = r.try_get(10)?;
    Ok(EvidenceRecord {
        challenge_id: r.try_get(0)?,
        key_id: r.try_get(1)?,
        manifest_head: r.try_get(2)?,
        manifest_json: r.try_get(3)?,
        passed: r.try_get(4)?,
        reason: r.try_get(5)?,
        vendor_name: r.try_get(6)?,
        vendor_reference: r.try_get(7)?,
        id_number_masked: r.try_get(8)?,
        received_ms: uint(r.try_get(9)?),
        document_digests: serde_json::from_str(&digests)
            .map_err(|e| corrupt(format!("evidence document digests: {e}")))?,
    })
}

const SIGNATURE_COLUMNS: &str =
    "idempotency_key, e, message_kind, document_digest, evidence_head, created_ms";

fn signature_from_row(r: &Row) -> Result<SignatureSummary, Fail> {
    Ok(SignatureSummary {
        idempotency_key: r.try_get(0)?,
        e: r.try_get(1)?,
        message_kind: r.try_get(2)?,
        document_digest: hex::encode(r.try_get::<_, Vec<u8>>(3)?),
        evidence_head: r.try_get(4)?,
        created_ms: uint(r.try_get(5)?),
    })
}

fn challenge_from_row(r: &Row) -> Result<ChallengeRecord, Fail> {
    Ok(ChallengeRecord {
        challenge_id: r.try_get(0)?,
        key_id: r.try_get(1)?,
        challenge_json: r.try_get(2)?,
        expires_ms: uint(r.try_get(3)?),
    })
}

impl EvidenceStore for PostgresStore {
    fn insert_challenge(
        &self,
        challenge: &ChallengeRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            tx.execute(
                "INSERT INTO liveness_challenges
                     (challenge_id, key_id, challenge_json, expires_ms, issued_ms, used_ms)
                 VALUES ($1, $2, $3, $4, $5, NULL)",
                &[
                    &challenge.challenge_id,
                    &challenge.key_id,
                    &challenge.challenge_json,
                    &int(challenge.expires_ms),
                    &int(super::now_ms()),
                ],
            )?;
            Ok(())
        })
    }

    fn insert_evidence(
        &self,
        evidence: &EvidenceRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let digests = serde_json::to_string(&evidence.document_digests)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        self.write_audited(audit, |tx| {
            let taken = tx.execute(
                "UPDATE liveness_challenges SET used_ms = $3
                 WHERE challenge_id = $1 AND key_id = $2 AND used_ms IS NULL",
                &[
                    &evidence.challenge_id,
                    &evidence.key_id,
                    &int(evidence.received_ms),
                ],
            )?;
            if taken != 1 {
                return Err(StoreError::Conflict.into());
            }
            tx.execute(
                &format!(
                    "INSERT INTO evidence ({EVIDENCE_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ),
                &[
                    &evidence.challenge_id,
                    &evidence.key_id,
                    &evidence.manifest_head,
                    &evidence.manifest_json,
                    &evidence.passed,
                    &evidence.reason,
                    &evidence.vendor_name,
                    &evidence.vendor_reference,
                    &evidence.id_number_masked,
                    &int(evidence.received_ms),
                    &digests,
                ],
            )?;
            Ok(())
        })
    }

    fn find_evidence(
        &self,
        key_id: &str,
        manifest_head: &str,
    ) -> Result<Option<EvidenceRecord>, StoreError> {
        self.read(|c| {
            c.query_opt(
                &format!(
                    "SELECT {EVIDENCE_COLUMNS} FROM evidence
                     WHERE key_id = $1 AND manifest_head = $2"
                ),
                &[&key_id, &manifest_head],
            )?
            .map(|r| evidence_from_row(&r))
            .transpose()
        })
    }

    fn get_challenge(
        &self,
        challenge_id: &str,
    ) -> Result<Option<(ChallengeRecord, bool)>, StoreError> {
        self.read(|c| {
            c.query_opt(
                "SELECT challenge_id, key_id, challenge_json, expires_ms, used_ms IS NOT NULL
                 FROM liveness_challenges WHERE challenge_id = $1",
                &[&challenge_id],
            )?
            .map(|r| Ok((challenge_from_row(&r)?, r.try_get::<_, bool>(4)?)))
            .transpose()
        })
    }

    fn open_challenges(&self, key_id: &str, now_ms: u64) -> Result<u64, StoreError> {
        self.read(|c| {
            Ok(uint(
                c.query_one(
                    "SELECT count(*) FROM liveness_challenges
                     WHERE key_id = $1 AND used_ms IS NULL AND expires_ms >= $2",
                    &[&key_id, &int(now_ms)],
                )?
                .try_get(0)?,
            ))
        })
    }

    fn get_policy(&self, key_id: &str) -> Result<Option<SigningPolicy>, StoreError> {
        self.read(|c| {
            c.query_opt(
                "SELECT require_liveness, max_evidence_age_secs, allow_batch
                 FROM signing_policies WHERE key_id = $1",
                &[&key_id],
            )?
            .map(|r| {
                Ok(SigningPolicy {
                    require_liveness: r.try_get(0)?,
                    max_evidence_age_secs: uint(r.try_get(1)?),
                    allow_batch: r.try_get(2)?,
                })
            })
            .transpose()
        })
    }

    fn set_policy(
        &self,
        key_id: &str,
        policy: &SigningPolicy,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let written = self.write_audited(audit, |tx| {
            tx.execute(
                "INSERT INTO signing_policies (key_id, require_liveness, max_evidence_age_secs,
                                               allow_batch)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (key_id) DO UPDATE SET
                     require_liveness = excluded.require_liveness,
                     max_evidence_age_secs = excluded.max_evidence_age_secs,
                     allow_batch = excluded.allow_batch",
                &[
                    &key_id,
                    &policy.require_liveness,
                    &int(policy.max_evidence_age_secs),
                    &policy.allow_batch,
                ],
            )?;
            Ok(())
        });
        match written {
            // The only constraint left is the foreign key: no such key.
            Err(StoreError::Conflict) => Err(StoreError::NotFound),
            other => other,
        }
    }

    fn signatures_of(&self, key_id: &str, limit: u32) -> Result<Vec<SignatureSummary>, StoreError> {
        self.read(|c| {
            rows(
                c.query(
                    &format!(
                        "SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE key_id = $1
                         ORDER BY created_ms DESC, idempotency_key LIMIT $2"
                    ),
                    &[&key_id, &i64::from(limit)],
                )?,
                signature_from_row,
            )
        })
    }

    fn get_signature(
        &self,
        key_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<SignatureSummary>, StoreError> {
        self.read(|c| {
            c.query_opt(
                &format!(
                    "SELECT {SIGNATURE_COLUMNS} FROM signatures
                     WHERE key_id = $1 AND idempotency_key = $2"
                ),
                &[&key_id, &idempotency_key],
            )?
            .map(|r| signature_from_row(&r))
            .transpose()
        })
    }

    fn audit_entries_for_key(
        &self,
        key_id: &str,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|c| {
            rows(
                c.query(
                    &format!(
                        "SELECT {AUDIT_COLUMNS} FROM audit WHERE key_id = $1
                         ORDER BY at_ms, lane, seq LIMIT $2"
                    ),
                    &[&key_id, &i64::from(limit)],
                )?,
                audit_from_row,
            )
        })
    }
}

const SEAL_COLUMNS: &str = "seal_id, institution, credit_code, purpose, algorithm, key_kind, \
    key_ref, sealed_key, public_key, certificate, issuer_certificate, serial, created_ms, \
    disabled_ms, key_purpose";

/// Migration 5: a seal's key either signs or agrees keys (the institution's encryption key;
/// seals made before sign), each key counts its two-party decryptions (for the lifetime cap;
/// counted from the recorded ones), and a ticket names the purpose of the key it enrolls
/// (tickets issued before enroll signing keys).
pub(super) const SEAL_PURPOSES_AND_DECRYPTION_COUNTS: &str = r#"
ALTER TABLE seals ADD COLUMN key_purpose TEXT NOT NULL DEFAULT 'signing';
ALTER TABLE keys ADD COLUMN decryptions BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN purpose TEXT NOT NULL DEFAULT 'signing';
UPDATE keys SET decryptions = (SELECT count(*) FROM decryptions d WHERE d.key_id = keys.key_id);
"#;

fn seal_from_row(r: &Row) -> Result<SealRecord, Fail> {
    let kind: String = r.try_get(5)?;
    Ok(SealRecord {
        seal_id: r.try_get(0)?,
        institution: r.try_get(1)?,
        credit_code: r.try_get(2)?,
        purpose: r.try_get(3)?,
        algorithm: r.try_get(4)?,
        key_kind: SealKeyKind::parse(&kind)
            .ok_or_else(|| corrupt(format!("unknown seal key kind {kind:?}")))?,
        key_ref: r.try_get(6)?,
        sealed_key: r.try_get(7)?,
        public_key: r.try_get(8)?,
        certificate: r.try_get(9)?,
        issuer_certificate: r.try_get(10)?,
        serial: r.try_get(11)?,
        created_ms: uint(r.try_get(12)?),
        disabled_ms: r.try_get::<_, Option<i64>>(13)?.map(uint),
        key_purpose: {
            let purpose: String = r.try_get(14)?;
            KeyPurpose::parse(&purpose)
                .ok_or_else(|| corrupt(format!("unknown seal key purpose {purpose:?}")))?
        },
    })
}

impl SealStore for PostgresStore {
    fn insert_seal(&self, seal: &SealRecord, audit: &AuditEvent) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO seals ({SEAL_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, $14)"
                ),
                &[
                    &seal.seal_id,
                    &seal.institution,
                    &seal.credit_code,
                    &seal.purpose,
                    &seal.algorithm,
                    &seal.key_kind.as_str(),
                    &seal.key_ref,
                    &seal.sealed_key,
                    &seal.public_key,
                    &seal.certificate,
                    &seal.issuer_certificate,
                    &seal.serial,
                    &int(seal.created_ms),
                    &seal.key_purpose.as_str(),
                ],
            )?;
            Ok(())
        })
    }

    fn get_seal(&self, seal_id: &str) -> Result<Option<SealRecord>, StoreError> {
        self.read(|c| {
            c.query_opt(
                &format!("SELECT {SEAL_COLUMNS} FROM seals WHERE seal_id = $1"),
                &[&seal_id],
            )?
            .map(|r| seal_from_row(&r))
            .transpose()
        })
    }

    fn list_seals(&self) -> Result<Vec<SealRecord>, StoreError> {
        self.read(|c| {
            rows(
                c.query(
                    &format!("SELECT {SEAL_COLUMNS} FROM seals ORDER BY created_ms, seal_id"),
                    &[],
                )?,
                seal_from_row,
            )
        })
    }

    fn seal_by_serial(&self, serial: &[u8]) -> Result<Option<SealRecord>, StoreError> {
        self.read(|c| {
            c.query_opt(
                &format!("SELECT {SEAL_COLUMNS} FROM seals WHERE serial = $1"),
                &[&serial],
            )?
            .map(|r| seal_from_row(&r))
            .transpose()
        })
    }

    fn disable_seal(
        &self,
        seal_id: &str,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = tx.execute(
                "UPDATE seals SET disabled_ms = $2 WHERE seal_id = $1 AND disabled_ms IS NULL",
                &[&seal_id, &int(now_ms)],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound.into());
            }
            Ok(())
        })
    }

    fn record_seal_uses(&self, seal_id: &str, audit: &[AuditEvent]) -> Result<(), StoreError> {
        self.transact(|tx| {
            // FOR SHARE: a concurrent disable waits for this batch (and this batch for it).
            let enabled = tx.query_opt(
                "SELECT 1 FROM seals WHERE seal_id = $1 AND disabled_ms IS NULL FOR SHARE",
                &[&seal_id],
            )?;
            if enabled.is_none() {
                return Err(StoreError::NotFound.into());
            }
            for event in audit {
                append(tx, event)?;
            }
            Ok(())
        })
    }
}
