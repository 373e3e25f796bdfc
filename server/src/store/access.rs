//! Storage of who may call: operator credentials, enrollment tickets, and the nonces of
//! device-signed requests (replay protection).

use super::StoreError;
use crate::audit::AuditEvent;

/// How an operator credential authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// `Authorization: Bearer <id>.<secret>`; the store keeps SHA-256 of the secret.
    ApiKey,
    /// A TLS client certificate; the store keeps SHA-256 of its DER.
    ClientCertificate,
}

impl CredentialKind {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::ApiKey => "api_key",
            CredentialKind::ClientCertificate => "client_certificate",
        }
    }

    /// From the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "api_key" => Some(CredentialKind::ApiKey),
            "client_certificate" => Some(CredentialKind::ClientCertificate),
            _ => None,
        }
    }
}

/// An operator credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRecord {
    /// Credential id (`op-` and hex).
    pub credential_id: String,
    /// A name for people ("loan backend", "audit export job").
    pub name: String,
    /// How it authenticates.
    pub kind: CredentialKind,
    /// SHA-256 of the API key's secret, or of the client certificate.
    pub fingerprint: Vec<u8>,
    /// Role names.
    pub roles: Vec<String>,
    /// When it was made (unix ms).
    pub created_ms: u64,
    /// When it was revoked, if it was.
    pub revoked_ms: Option<u64>,
}

/// An enrollment ticket as issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketRecord {
    /// The public id (`et-...`).
    pub ticket_id: String,
    /// SHA-256 of the secret half.
    pub secret_hash: Vec<u8>,
    /// The user it enrolls.
    pub user_id: String,
    /// The common name certificates will carry.
    pub certificate_name: String,
    /// Salt and keyed hash of the holder's ID number, when the operator gave it.
    pub id_binding: Option<Vec<u8>>,
    /// Who issued it (an audit actor label).
    pub issued_by: String,
    /// Issue time (unix ms).
    pub issued_ms: u64,
    /// Expiry (unix ms).
    pub expires_ms: u64,
    /// When it was used, if it was.
    pub used_ms: Option<u64>,
    /// The key it created.
    pub key_id: Option<String>,
    /// What the key it enrolls is for: the operator decides, the phone must ask for the same.
    pub purpose: super::KeyPurpose,
}

/// What a purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    /// Expired request nonces.
    pub nonces: u64,
    /// Expired challenges that no evidence answered.
    pub challenges: u64,
    /// Expired tickets nobody used.
    pub tickets: u64,
    /// Expired login challenges, used or not.
    pub login_challenges: u64,
    /// Expired two-party P-256 signing sessions whose sealed state was dropped (the row stays,
    /// so its `sign_id` is still refused).
    pub p256_sessions: u64,
    /// Expired pending two-party P-256 key generations (deleted).
    pub p256_keygens: u64,
}

impl PurgeCounts {
    /// Nothing removed.
    pub fn is_empty(&self) -> bool {
        *self == PurgeCounts::default()
    }
}

/// Storage of operator credentials, tickets and request nonces; part of every
/// [`Store`](super::Store).
pub trait AccessStore {
    /// Store a new credential and its audit entry.
    fn insert_credential(
        &self,
        credential: &CredentialRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// A credential by id (revoked ones too).
    fn get_credential(&self, credential_id: &str) -> Result<Option<CredentialRecord>, StoreError>;
    /// The unrevoked client-certificate credential with this fingerprint.
    fn credential_for_certificate(
        &self,
        fingerprint: &[u8],
    ) -> Result<Option<CredentialRecord>, StoreError>;
    /// Every credential, oldest first.
    fn list_credentials(&self) -> Result<Vec<CredentialRecord>, StoreError>;
    /// Revoke a credential, audited. `NotFound` if unknown or already revoked.
    fn revoke_credential(
        &self,
        credential_id: &str,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Store a new ticket and its audit entry.
    fn insert_ticket(&self, ticket: &TicketRecord, audit: &AuditEvent) -> Result<(), StoreError>;
    /// A ticket by id.
    fn get_ticket(&self, ticket_id: &str) -> Result<Option<TicketRecord>, StoreError>;
    /// Remember a request nonce of `signer`, made at `created_ms`, until `expires_ms`; `false`
    /// if it was seen before (a replay) or cannot be told apart from one.
    fn remember_nonce(
        &self,
        signer: &str,
        nonce: &str,
        created_ms: u64,
        expires_ms: u64,
    ) -> Result<bool, StoreError>;
    /// Delete expired nonces, expired unanswered challenges and expired unused tickets (their
    /// audit entries stay), drop the sealed state of expired P-256 signing sessions, and delete expired pending P-256
    /// key generations. `audit` is written when anything was removed.
    fn purge(
        &self,
        now_ms: u64,
        audit: &dyn Fn(PurgeCounts) -> AuditEvent,
    ) -> Result<PurgeCounts, StoreError>;
}
