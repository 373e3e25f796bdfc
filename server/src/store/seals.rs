//! Storage of the institution's seals (e-seal keys and their organisation certificates).
//!
//! A seal row is never deleted (a trigger refuses it): disabling sets `disabled_ms`, and the
//! seal's certificate stays answerable by the OCSP responder, so documents sealed before stay
//! valid. Signing is recorded only in the audit log, one entry per document, appended in the
//! transaction that re-checks the seal is still enabled.

use super::KeyPurpose;
use super::StoreError;
use crate::audit::AuditEvent;

/// How a seal's private key is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealKeyKind {
    /// Generated and used inside the PKCS#11 token; `key_ref` is its label. Never leaves it.
    Token,
    /// Generated in the server process and stored sealed by the vault (`sealed_key`); unsealed
    /// only to sign, wiped after.
    VaultSealed,
}

impl SealKeyKind {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            SealKeyKind::Token => "token",
            SealKeyKind::VaultSealed => "vault_sealed",
        }
    }

    /// From the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "token" => Some(SealKeyKind::Token),
            "vault_sealed" => Some(SealKeyKind::VaultSealed),
            _ => None,
        }
    }
}

/// A seal as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealRecord {
    /// Seal id (`s-` and 128 random bits, hex), chosen by the server.
    pub seal_id: String,
    /// The institution's registered name (the certificate's `O`).
    pub institution: String,
    /// Its unified social credit code (the certificate's organizationIdentifier).
    pub credit_code: String,
    /// The seal's purpose, e.g. 合同专用章 (the certificate's `CN`).
    pub purpose: String,
    /// `ecdsa-p256` or `sm2`.
    pub algorithm: String,
    /// How the private key is held.
    pub key_kind: SealKeyKind,
    /// The token label of a [`SealKeyKind::Token`] key; empty otherwise.
    pub key_ref: String,
    /// The private key (PKCS#8) sealed by the vault, for [`SealKeyKind::VaultSealed`].
    pub sealed_key: Option<Vec<u8>>,
    /// The public key, SEC1 uncompressed.
    pub public_key: Vec<u8>,
    /// The organisation certificate (DER).
    pub certificate: Vec<u8>,
    /// The root that issued it (DER).
    pub issuer_certificate: Vec<u8>,
    /// The certificate's serial number (big-endian magnitude).
    pub serial: Vec<u8>,
    /// What the key does: sign (a seal, sign-hash) or agree keys and decrypt (the
    /// institution's encryption key, open-envelope). A key never does both.
    pub key_purpose: KeyPurpose,
    /// Creation time (unix ms).
    pub created_ms: u64,
    /// When it was disabled (unix ms), if it was.
    pub disabled_ms: Option<u64>,
}

/// Storage of seals; part of every [`Store`](super::Store).
pub trait SealStore {
    /// Store a new seal with its audit entry.
    fn insert_seal(&self, seal: &SealRecord, audit: &AuditEvent) -> Result<(), StoreError>;
    /// A seal by id (disabled ones too).
    fn get_seal(&self, seal_id: &str) -> Result<Option<SealRecord>, StoreError>;
    /// Every seal, oldest first.
    fn list_seals(&self) -> Result<Vec<SealRecord>, StoreError>;
    /// The seal whose certificate has serial `serial`, for the OCSP responder.
    fn seal_by_serial(&self, serial: &[u8]) -> Result<Option<SealRecord>, StoreError>;
    /// Disable a seal, audited. `NotFound` if unknown or already disabled.
    fn disable_seal(
        &self,
        seal_id: &str,
        now_ms: u64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Append one audit entry per sealed document, in one durable transaction that first
    /// checks the seal is still enabled (`NotFound` otherwise, and nothing is written).
    fn record_seal_uses(&self, seal_id: &str, audit: &[AuditEvent]) -> Result<(), StoreError>;
}
