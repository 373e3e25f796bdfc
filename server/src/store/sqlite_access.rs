//! [`AccessStore`] for [`SqliteStore`].

use super::access::{AccessStore, CredentialKind, CredentialRecord, PurgeCounts, TicketRecord};
use super::sqlite::{append, backend, int, sql};
use super::{SqliteStore, StoreError};
use crate::audit::AuditEvent;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// Nonces kept before a prune of the expired ones.
const NONCE_PRUNE_AT: usize = 100_000;

/// The request nonces a SQLite-backed server has seen (see `remember_nonce`).
#[derive(Debug)]
pub(super) struct NonceMemory {
    started_ms: u64,
    seen: std::collections::HashMap<(String, String), u64>,
}

impl NonceMemory {
    pub(super) fn new() -> Self {
        NonceMemory {
            // `created` has whole seconds: a request of the starting second is accepted.
            started_ms: super::sqlite::now_ms() / 1000 * 1000,
            seen: std::collections::HashMap::new(),
        }
    }
}

/// Tables for credentials and tickets (applied with the main schema).
pub(super) const ACCESS_SCHEMA: &str = r#"
CREATE TABLE operator_credentials (
    credential_id TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    fingerprint   BLOB NOT NULL UNIQUE,
    roles         TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    revoked_ms    INTEGER
);
CREATE TABLE tickets (
    ticket_id        TEXT PRIMARY KEY,
    secret_hash      BLOB NOT NULL,
    user_id          TEXT NOT NULL,
    certificate_name TEXT NOT NULL,
    id_binding       BLOB,
    issued_by        TEXT NOT NULL,
    issued_ms        INTEGER NOT NULL,
    expires_ms       INTEGER NOT NULL,
    used_ms          INTEGER,
    key_id           TEXT
);
CREATE INDEX tickets_by_expiry ON tickets (expires_ms);
"#;

const CREDENTIAL_COLUMNS: &str =
    "credential_id, name, kind, fingerprint, roles, created_ms, revoked_ms";

fn credential_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CredentialRecord> {
    let kind: String = r.get(2)?;
    let roles: String = r.get(4)?;
    Ok(CredentialRecord {
        credential_id: r.get(0)?,
        name: r.get(1)?,
        kind: CredentialKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("unknown credential kind {kind:?}").into(),
            )
        })?,
        fingerprint: r.get(3)?,
        roles: roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        created_ms: r.get::<_, i64>(5)? as u64,
        revoked_ms: r.get::<_, Option<i64>>(6)?.map(|v| v as u64),
    })
}

const TICKET_COLUMNS: &str = "ticket_id, secret_hash, user_id, certificate_name, id_binding, \
    issued_by, issued_ms, expires_ms, used_ms, key_id, purpose";

fn ticket_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TicketRecord> {
    Ok(TicketRecord {
        ticket_id: r.get(0)?,
        secret_hash: r.get(1)?,
        user_id: r.get(2)?,
        certificate_name: r.get(3)?,
        id_binding: r.get(4)?,
        issued_by: r.get(5)?,
        issued_ms: r.get::<_, i64>(6)? as u64,
        expires_ms: r.get::<_, i64>(7)? as u64,
        used_ms: r.get::<_, Option<i64>>(8)?.map(|v| v as u64),
        key_id: r.get(9)?,
        purpose: {
            let purpose: String = r.get(10)?;
            super::KeyPurpose::parse(&purpose).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    10,
                    rusqlite::types::Type::Text,
                    format!("unknown ticket key purpose {purpose:?}").into(),
                )
            })?
        },
    })
}

impl AccessStore for SqliteStore {
    fn insert_credential(
        &self,
        credential: &CredentialRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            sql(tx.execute(
                &format!(
                    "INSERT INTO operator_credentials ({CREDENTIAL_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)"
                ),
                params![
                    credential.credential_id,
                    credential.name,
                    credential.kind.as_str(),
                    credential.fingerprint,
                    credential.roles.join(","),
                    int(credential.created_ms)
                ],
            ))
            .map(|_| ())
        })
    }

    fn get_credential(&self, credential_id: &str) -> Result<Option<CredentialRecord>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM operator_credentials WHERE credential_id = ?1"
            ))
            .and_then(|mut st| {
                st.query_row([credential_id], credential_from_row)
                    .optional()
            })
            .map_err(backend)
        })
    }

    fn credential_for_certificate(
        &self,
        fingerprint: &[u8],
    ) -> Result<Option<CredentialRecord>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM operator_credentials
                 WHERE fingerprint = ?1 AND kind = 'client_certificate' AND revoked_ms IS NULL"
            ))
            .and_then(|mut st| st.query_row([fingerprint], credential_from_row).optional())
            .map_err(backend)
        })
    }

    fn list_credentials(&self) -> Result<Vec<CredentialRecord>, StoreError> {
        self.with(|c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM operator_credentials
                     ORDER BY created_ms, credential_id"
                ))
                .map_err(backend)?;
            let rows = st.query_map([], credential_from_row).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
    }

    fn revoke_credential(
        &self,
        credential_id: &str,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            let changed = sql(tx.execute(
                "UPDATE operator_credentials SET revoked_ms = ?2
                 WHERE credential_id = ?1 AND revoked_ms IS NULL",
                params![credential_id, int(now_ms)],
            ))?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    }

    fn insert_ticket(&self, ticket: &TicketRecord, audit: &AuditEvent) -> Result<(), StoreError> {
        self.write_audited(audit, |tx| {
            sql(tx.execute(
                &format!(
                    "INSERT INTO tickets ({TICKET_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL, ?9)"
                ),
                params![
                    ticket.ticket_id,
                    ticket.secret_hash,
                    ticket.user_id,
                    ticket.certificate_name,
                    ticket.id_binding,
                    ticket.issued_by,
                    int(ticket.issued_ms),
                    int(ticket.expires_ms),
                    ticket.purpose.as_str()
                ],
            ))
            .map(|_| ())
        })
    }

    fn get_ticket(&self, ticket_id: &str) -> Result<Option<TicketRecord>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE ticket_id = ?1"
            ))
            .and_then(|mut st| st.query_row([ticket_id], ticket_from_row).optional())
            .map_err(backend)
        })
    }

    fn remember_nonce(
        &self,
        signer: &str,
        nonce: &str,
        created_ms: u64,
        expires_ms: u64,
    ) -> Result<bool, StoreError> {
        // A SQLite database has one server process, so the nonces live in its memory: exact
        // while it runs, and no write per request. A request made before this process started
        // is refused, so a restart opens no replay window.
        let mut nonces = self
            .nonces
            .lock()
            .map_err(|_| StoreError::Backend("nonce memory poisoned".into()))?;
        if created_ms < nonces.started_ms {
            return Ok(false);
        }
        if nonces.seen.len() >= NONCE_PRUNE_AT {
            let now = super::sqlite::now_ms();
            nonces.seen.retain(|_, expires| *expires >= now);
        }
        Ok(nonces
            .seen
            .insert((signer.to_owned(), nonce.to_owned()), expires_ms)
            .is_none())
    }

    fn purge(
        &self,
        now_ms: u64,
        audit: &dyn Fn(PurgeCounts) -> AuditEvent,
    ) -> Result<PurgeCounts, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let nonces = {
                let mut memory = self
                    .nonces
                    .lock()
                    .map_err(|_| StoreError::Backend("nonce memory poisoned".into()))?;
                let before = memory.seen.len();
                memory.seen.retain(|_, expires| *expires >= now_ms);
                (before - memory.seen.len()) as u64
            };
            let challenges = tx
                .execute(
                    "DELETE FROM liveness_challenges WHERE expires_ms < ?1
                       AND NOT EXISTS (SELECT 1 FROM evidence
                                       WHERE evidence.challenge_id = liveness_challenges.challenge_id)",
                    [int(now_ms)],
                )
                .map_err(backend)? as u64;
            let tickets = tx
                .execute(
                    "DELETE FROM tickets WHERE expires_ms < ?1 AND used_ms IS NULL",
                    [int(now_ms)],
                )
                .map_err(backend)? as u64;
            let login_challenges = tx
                .execute(
                    "DELETE FROM login_challenges WHERE expires_ms < ?1",
                    [int(now_ms)],
                )
                .map_err(backend)? as u64;
            let p256_sessions = tx
                .execute(
                    "UPDATE p256_sign_sessions SET sealed_state = NULL, sealed_reply = NULL
                     WHERE expires_ms < ?1 AND sealed_state IS NOT NULL",
                    [int(now_ms)],
                )
                .map_err(backend)? as u64;
            let p256_keygens = tx
                .execute(
                    "DELETE FROM p256_keygens WHERE expires_ms < ?1",
                    [int(now_ms)],
                )
                .map_err(backend)? as u64;
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
                append(&tx, &audit(counts))?;
            }
            tx.commit().map_err(backend)?;
            Ok(counts)
        })
    }
}
