//! Operator credentials: who may use `/v1/admin/`, and with which roles.
//!
//! The institution's backend authenticates with an **API key**
//! (`Authorization: Bearer op-<id>.<secret>`; the server keeps only SHA-256 of the secret, which
//! is 256 random bits, so a stolen database gives nothing to replay) or with a **TLS client
//! certificate** (the server keeps SHA-256 of the certificate; the TLS layer has already checked
//! it chains to the configured operator CA). Each credential carries roles; a route names the
//! one role it needs.

use super::{Context, random_bytes};
use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::error::ServiceError;
use crate::store::{CredentialKind, CredentialRecord, StoreError, now_ms};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What an operator credential may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Issue enrollment tickets.
    #[serde(rename = "enroll")]
    Enroll,
    /// Read and verify the audit log.
    #[serde(rename = "audit:read")]
    AuditRead,
    /// Export evidence packages (personal data).
    #[serde(rename = "evidence:read")]
    EvidenceRead,
    /// Set a key's signing policy.
    #[serde(rename = "policy:write")]
    PolicyWrite,
    /// Read a key's status.
    #[serde(rename = "keys:read")]
    KeysRead,
    /// Unlock and revoke keys.
    #[serde(rename = "keys:manage")]
    KeysManage,
    /// Create, list and revoke operator credentials.
    #[serde(rename = "credentials:manage")]
    CredentialsManage,
    /// Create and disable the institution's seals.
    #[serde(rename = "seal:manage")]
    SealManage,
    /// Sign with the institution's seals (sign-hash).
    #[serde(rename = "seal:use")]
    SealUse,
    /// Open envelopes with the institution's encryption keys (the plaintext is answered).
    #[serde(rename = "envelope:open")]
    EnvelopeOpen,
    /// Issue certificate-login challenges.
    #[serde(rename = "login:issue")]
    LoginIssue,
    /// Verify login assertions (and so consume their challenges).
    #[serde(rename = "login:verify")]
    LoginVerify,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 12] = [
        Role::Enroll,
        Role::AuditRead,
        Role::EvidenceRead,
        Role::PolicyWrite,
        Role::KeysRead,
        Role::KeysManage,
        Role::CredentialsManage,
        Role::SealManage,
        Role::SealUse,
        Role::EnvelopeOpen,
        Role::LoginIssue,
        Role::LoginVerify,
    ];

    /// The stable name (`enroll`, `audit:read`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Enroll => "enroll",
            Role::AuditRead => "audit:read",
            Role::EvidenceRead => "evidence:read",
            Role::PolicyWrite => "policy:write",
            Role::KeysRead => "keys:read",
            Role::KeysManage => "keys:manage",
            Role::CredentialsManage => "credentials:manage",
            Role::SealManage => "seal:manage",
            Role::SealUse => "seal:use",
            Role::EnvelopeOpen => "envelope:open",
            Role::LoginIssue => "login:issue",
            Role::LoginVerify => "login:verify",
        }
    }

    /// From the stable name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// An authenticated operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    /// Credential id.
    pub credential_id: String,
    /// Its name.
    pub name: String,
    /// Its roles.
    pub roles: Vec<Role>,
}

impl Operator {
    /// The caller this operator is, at `address`.
    pub fn caller(&self, address: Option<std::net::IpAddr>) -> Caller {
        Caller {
            actor: crate::audit::Actor::Operator(self.credential_id.clone()),
            address,
        }
    }
}

/// A credential as listed (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialInfo {
    /// Credential id.
    pub credential_id: String,
    /// Name.
    pub name: String,
    /// `api_key` or `client_certificate`.
    pub kind: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// SHA-256 of the client certificate (hex), for certificate credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_sha256: Option<String>,
    /// Creation time (unix ms).
    pub created_ms: u64,
    /// Revocation time (unix ms), if revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_ms: Option<u64>,
}

/// A new credential: its info and, for an API key, the key itself (shown once, never stored).
#[derive(Clone, Serialize, Deserialize)]
pub struct NewCredential {
    /// What was stored.
    pub credential: CredentialInfo,
    /// The API key to give the backend (`op-<id>.<secret>`): shown only now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

impl std::fmt::Debug for NewCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCredential")
            .field("credential", &self.credential)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How a new credential authenticates.
#[derive(Clone, Debug)]
pub enum CredentialSecret {
    /// Make a fresh API key.
    ApiKey,
    /// This TLS client certificate (DER).
    ClientCertificate(Vec<u8>),
}

/// Operator credentials (see the module documentation).
pub struct Operators<'a> {
    pub(crate) ctx: &'a Context,
}

fn info(c: &CredentialRecord) -> CredentialInfo {
    CredentialInfo {
        credential_id: c.credential_id.clone(),
        name: c.name.clone(),
        kind: c.kind.as_str().into(),
        roles: c.roles.iter().filter_map(|r| Role::parse(r)).collect(),
        certificate_sha256: (c.kind == CredentialKind::ClientCertificate)
            .then(|| hex::encode(&c.fingerprint)),
        created_ms: c.created_ms,
        revoked_ms: c.revoked_ms,
    }
}

fn operator(c: &CredentialRecord) -> Operator {
    Operator {
        credential_id: c.credential_id.clone(),
        name: c.name.clone(),
        roles: c.roles.iter().filter_map(|r| Role::parse(r)).collect(),
    }
}

/// The uniform refusal of an operator credential.
fn unauthenticated() -> ServiceError {
    ServiceError::Unauthenticated("operator credential missing, unknown or revoked".into())
}

impl Operators<'_> {
    /// Create a credential (the first one is made with `inkseal admin` against the data
    /// directory; later ones by an operator with `credentials:manage`).
    pub fn create(
        &self,
        name: &str,
        roles: &[Role],
        secret: CredentialSecret,
        caller: &Caller,
    ) -> Result<NewCredential, ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(ServiceError::BadRequest(
                "a credential name has 1 to 100 printable characters".into(),
            ));
        }
        if roles.is_empty() {
            return Err(ServiceError::BadRequest(
                "a credential needs at least one role".into(),
            ));
        }
        let mut roles = roles.to_vec();
        roles.sort_by_key(|r| r.as_str());
        roles.dedup();
        let id = format!("op-{}", hex::encode(random_bytes::<8>()?));
        let (kind, fingerprint, api_key) = match secret {
            CredentialSecret::ApiKey => {
                let secret: [u8; 32] = random_bytes()?;
                let key = format!("{id}.{}", hex::encode(secret));
                (
                    CredentialKind::ApiKey,
                    Sha256::digest(secret).to_vec(),
                    Some(key),
                )
            }
            CredentialSecret::ClientCertificate(der) => {
                inkseal_pki::certificate_serial(&der).map_err(|e| {
                    ServiceError::BadRequest(format!("client certificate unreadable: {e}"))
                })?;
                (
                    CredentialKind::ClientCertificate,
                    Sha256::digest(&der).to_vec(),
                    None,
                )
            }
        };
        let record = CredentialRecord {
            credential_id: id.clone(),
            name: name.to_owned(),
            kind,
            fingerprint,
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            created_ms: now_ms(),
            revoked_ms: None,
        };
        let audit = AuditEvent::global(
            AuditKind::CredentialCreated,
            json!({
                "credential_id": id,
                "name": record.name,
                "kind": kind.as_str(),
                "roles": record.roles,
            }),
        )
        .by(caller);
        match self.ctx.store.insert_credential(&record, &audit) {
            Err(StoreError::Conflict) => {
                return Err(ServiceError::Conflict(
                    "this client certificate already has a credential".into(),
                ));
            }
            other => other?,
        }
        Ok(NewCredential {
            credential: info(&record),
            api_key,
        })
    }

    /// Every credential.
    pub fn list(&self) -> Result<Vec<CredentialInfo>, ServiceError> {
        Ok(self
            .ctx
            .store
            .list_credentials()?
            .iter()
            .map(info)
            .collect())
    }

    /// Revoke a credential: it never authenticates again.
    pub fn revoke(&self, credential_id: &str, caller: &Caller) -> Result<(), ServiceError> {
        let audit = AuditEvent::global(
            AuditKind::CredentialRevoked,
            json!({ "credential_id": credential_id }),
        )
        .by(caller);
        match self
            .ctx
            .store
            .revoke_credential(credential_id, now_ms(), &audit)
        {
            Err(StoreError::NotFound) => Err(ServiceError::NotFound(
                "no such unrevoked credential".into(),
            )),
            other => Ok(other?),
        }
    }

    /// The operator behind an API key (`op-<id>.<secret hex>`), compared in constant time.
    pub fn authenticate_api_key(&self, token: &str) -> Result<Operator, ServiceError> {
        let (id, secret_hex) = token.split_once('.').ok_or_else(unauthenticated)?;
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        if secret_hex.len() != 64
            || hex::decode_to_slice(secret_hex, secret.as_mut_slice()).is_err()
        {
            return Err(unauthenticated());
        }
        let presented = Sha256::digest(secret.as_slice());
        let record = if inkseal_cosign::valid_id(id) {
            self.ctx.store.get_credential(id)?
        } else {
            None
        };
        // Compare against something even for an unknown id, so both take the same time.
        let stored = record
            .as_ref()
            .filter(|c| c.kind == CredentialKind::ApiKey && c.revoked_ms.is_none())
            .map(|c| c.fingerprint.clone())
            .unwrap_or_else(|| vec![0u8; 32]);
        let equal = bool::from(presented.as_slice().ct_eq(&stored));
        match record {
            Some(c) if equal && c.kind == CredentialKind::ApiKey && c.revoked_ms.is_none() => {
                Ok(operator(&c))
            }
            _ => Err(unauthenticated()),
        }
    }

    /// The operator behind a TLS client certificate (already verified against the operator
    /// CA by the TLS layer).
    pub fn authenticate_certificate(&self, der: &[u8]) -> Result<Operator, ServiceError> {
        let fingerprint = Sha256::digest(der);
        self.ctx
            .store
            .credential_for_certificate(&fingerprint)?
            .map(|c| operator(&c))
            .ok_or_else(unauthenticated)
    }

    /// Refuse (typed, audited) an operator without `role`.
    pub fn require(
        &self,
        operator: &Operator,
        role: Role,
        caller: &Caller,
    ) -> Result<(), ServiceError> {
        if operator.roles.contains(&role) {
            return Ok(());
        }
        self.ctx.store.append_audit(
            &AuditEvent::global(
                AuditKind::Refused,
                json!({ "reason": "missing role", "role": role.as_str() }),
            )
            .by(caller),
        )?;
        Err(ServiceError::Forbidden(format!(
            "this credential lacks the role {}",
            role.as_str()
        )))
    }
}
