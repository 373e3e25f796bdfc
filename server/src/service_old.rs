//! The server's business logic, independent of HTTP: enroll, certify, co-sign, status.
//!
//! Everything here is synchronous and is called from blocking tasks. A share is unsealed only
//! inside [`CosignService::sign`], after the PIN check, and is wiped when the step ends.

use crate::audit::{AuditEvent, AuditKind};
use crate::ca::CertificateAuthority;
use crate::error::ServiceError;
use crate::liveness::vendor::LivenessVendor;
use crate::pin;
use crate::store::{KeyRecord, NewSignature, Recorded, SigningPolicy, Store};
use crate::vault::{ShareVault, associated_data};
use inkseal_cosign::api::{
    CertificateRequest, CertificateResponse, CosignRequest, CosignResponse, EnrollRequest,
    EnrollResponse, KeyStatus, valid_idempotency_key,
};
use inkseal_cosign::{CosignError, ServerKeyShare, valid_id};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Largest accepted CSR, in hex digits.
const MAX_CSR_HEX: usize = 32 * 1024;

/// Tunable rules.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Consecutive wrong PINs that lock a key (the 5th by default).
    pub max_pin_failures: u32,
    /// Validity of issued certificates.
    pub certificate_validity_days: u32,
    /// Signing policy of keys without their own (see [`CosignService::set_signing_policy`]).
    pub signing: SigningPolicy,
    /// Lifetime of a liveness challenge, seconds (2 minutes by default).
    pub challenge_ttl_secs: u64,
    /// Actions a liveness challenge asks for (0: silent liveness); 2 by default.
    pub liveness_actions: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_pin_failures: 5,
            certificate_validity_days: 365,
            signing: SigningPolicy::default(),
            challenge_ttl_secs: 120,
            liveness_actions: 2,
        }
    }
}

/// The co-signing service.
#[derive(Clone)]
pub struct CosignService {
    pub(crate) store: Arc<dyn Store>,
    vault: Arc<dyn ShareVault>,
    ca: Arc<dyn CertificateAuthority>,
    pub(crate) policy: Policy,
    pub(crate) vendors: Vec<Arc<dyn LivenessVendor>>,
}

fn share_aad(user_id: &str, key_id: &str, public_key: &[u8]) -> Vec<u8> {
    associated_data(
        "inkseal/share/v1",
        &[user_id.as_bytes(), key_id.as_bytes(), public_key],
    )
}

fn pin_aad(user_id: &str, key_id: &str, public_key: &[u8]) -> Vec<u8> {
    associated_data(
        "inkseal/pin/v1",
        &[user_id.as_bytes(), key_id.as_bytes(), public_key],
    )
}

fn protocol(e: CosignError) -> ServiceError {
    ServiceError::BadRequest(e.to_string())
}

fn valid_user_id(u: &str) -> bool {
    (1..=128).contains(&u.chars().count()) && !u.chars().any(char::is_control)
}

impl CosignService {
    /// Assemble the service.
    pub fn new(
        store: Arc<dyn Store>,
        vault: Arc<dyn ShareVault>,
        ca: Arc<dyn CertificateAuthority>,
        policy: Policy,
    ) -> Self {
        CosignService {
            store,
            vault,
            ca,
            policy,
            vendors: Vec::new(),
        }
    }

    /// Accept liveness results judged by `vendor` (by its name).
    pub fn with_vendor(mut self, vendor: Arc<dyn LivenessVendor>) -> Self {
        self.vendors.retain(|v| v.name() != vendor.name());
        self.vendors.push(vendor);
        self
    }

    /// The store (for audit export and tests).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The CA certificate (DER).
    pub fn ca_certificate(&self) -> &[u8] {
        self.ca.ca_certificate()
    }

    /// Two-party key generation; stores d2 and the PIN verifier sealed.
    pub fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, ServiceError> {
        if !valid_user_id(&req.user_id) {
            return Err(ServiceError::BadRequest(
                "user_id must be 1-128 characters without control characters".into(),
            ));
        }
        if !req.pin.is_acceptable() {
            return Err(ServiceError::BadRequest(
                "PIN must be 6-32 characters without control characters".into(),
            ));
        }
        let key_id = req.keygen.enrollment_id.clone();
        if self.store.get_key(&key_id)?.is_some() {
            return Err(ServiceError::Conflict("enrollment id already used".into()));
        }
        let (share, response) = ServerKeyShare::keygen(&req.keygen).map_err(protocol)?;
        // Stored uncompressed so that restoring the share needs no square root.
        let public_key = share.public_key().to_sec1_bytes().to_vec();
        let sealed_share = self.vault.seal(
            &share_aad(&req.user_id, &key_id, &public_key),
            share.sealable_bytes().as_slice(),
        )?;
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let verifier = pin::verifier(&salt, &key_id, &req.pin);
        let sealed_pin = self.vault.seal(
            &pin_aad(&req.user_id, &key_id, &public_key),
            verifier.as_slice(),
        )?;
        let record = KeyRecord {
            key_id: key_id.clone(),
            user_id: req.user_id.clone(),
            public_key: public_key.clone(),
            sealed_share,
            sealed_pin,
            pin_salt: salt.to_vec(),
            pin_failures: 0,
            locked: false,
            certificate: None,
        };
        let audit = AuditEvent::new(
            AuditKind::Enrolled,
            &key_id,
            json!({ "user_id": req.user_id, "public_key": hex::encode(&public_key) }),
        );
        match self.store.insert_key(&record, &audit) {
            Err(crate::store::StoreError::Conflict) => {
                Err(ServiceError::Conflict("enrollment id already used".into()))
            }
            other => other.map_err(ServiceError::from),
        }?;
        Ok(EnrollResponse {
            key_id,
            keygen: response,
        })
    }

    pub(crate) fn key(&self, key_id: &str) -> Result<KeyRecord, ServiceError> {
        if !valid_id(key_id) {
            return Err(ServiceError::UnknownKey);
        }
        self.store.get_key(key_id)?.ok_or(ServiceError::UnknownKey)
    }

    /// Check the PIN, counting failures; a locked key is refused even with the right PIN.
    fn authorise(
        &self,
        key: &KeyRecord,
        pin: &inkseal_cosign::api::Pin,
    ) -> Result<(), ServiceError> {
        if key.locked {
            self.store.append_audit(&AuditEvent::new(
                AuditKind::Refused,
                &key.key_id,
                json!({ "reason": "locked" }),
            ))?;
            return Err(ServiceError::Locked);
        }
        let expected = self.vault.open(
            &pin_aad(&key.user_id, &key.key_id, &key.public_key),
            &key.sealed_pin,
        )?;
        if pin::matches(&expected, &key.pin_salt, &key.key_id, pin) {
            if key.pin_failures > 0 {
                self.store.reset_pin_failures(&key.key_id)?;
            }
            return Ok(());
        }
        let failure = self
            .store
            .record_pin_failure(&key.key_id, self.policy.max_pin_failures)?;
        if failure.locked {
            Err(ServiceError::Locked)
        } else {
            Err(ServiceError::WrongPin {
                attempts_left: self
                    .policy
                    .max_pin_failures
                    .saturating_sub(failure.failures),
            })
        }
    }

    /// One co-signing round (idempotent per idempotency key).
    pub fn sign(&self, key_id: &str, req: &CosignRequest) -> Result<CosignResponse, ServiceError> {
        if req.sign.key_id != key_id {
            return Err(ServiceError::BadRequest(
                "key id in the path and in the message differ".into(),
            ));
        }
        if !valid_idempotency_key(&req.idempotency_key) {
            return Err(ServiceError::BadRequest(
                "idempotency_key must be 8-64 characters of [A-Za-z0-9_-]".into(),
            ));
        }
        if let Some(head) = &req.evidence_head {
            if head.len() != 64 || hex::decode(head).is_err() {
                return Err(ServiceError::BadRequest(
                    "evidence_head must be 64 hex digits".into(),
                ));
            }
        }
        let key = self.key(key_id)?;
        self.authorise(&key, &req.pin)?;
        let request_hash = request_hash(req);
        if let Some(done) = self.store.find_signature(key_id, &req.idempotency_key)? {
            return replay(done, &request_hash);
        }
        self.check_signing_policy(key_id, req.evidence_head.as_deref())?;
        let share_bytes = self.vault.open(
            &share_aad(&key.user_id, &key.key_id, &key.public_key),
            &key.sealed_share,
        )?;
        let secret: Zeroizing<[u8; 64]> = Zeroizing::new(
            share_bytes
                .as_slice()
                .try_into()
                .map_err(|_| ServiceError::Internal("sealed share has wrong length".into()))?,
        );
        drop(share_bytes);
        let share = ServerKeyShare::from_sealable(&secret, &key.public_key)
            .map_err(|e| ServiceError::Internal(format!("stored share: {e}")))?;
        drop(secret);
        let response = CosignResponse {
            sign: share.cosign(&req.sign).map_err(protocol)?,
        };
        drop(share);
        let response_json =
            serde_json::to_string(&response).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let record = NewSignature {
            key_id: key_id.to_owned(),
            idempotency_key: req.idempotency_key.clone(),
            request_hash: request_hash.clone(),
            response: response_json,
            e: req.sign.e.0.to_vec(),
            evidence_head: req.evidence_head.clone(),
        };
        let audit = AuditEvent::new(
            AuditKind::Signed,
            key_id,
            json!({
                "e": hex::encode(req.sign.e.0),
                "idempotency_key": req.idempotency_key,
                "evidence_head": req.evidence_head,
            }),
        );
        match self.store.record_signature(&record, &audit)? {
            Recorded::Inserted => Ok(response),
            // A concurrent twin won the race: its answer is the one; ours is dropped unsent.
            Recorded::Existing(done) => replay(done, &request_hash),
        }
    }

    /// Verify a CSR co-signed by the joint key and issue its certificate.
    pub fn certify(
        &self,
        key_id: &str,
        req: &CertificateRequest,
    ) -> Result<CertificateResponse, ServiceError> {
        let key = self.key(key_id)?;
        if key.locked {
            return Err(ServiceError::Locked);
        }
        if req.csr_der_hex.len() > MAX_CSR_HEX {
            return Err(ServiceError::BadRequest("CSR too large".into()));
        }
        let der = hex::decode(&req.csr_der_hex)
            .map_err(|_| ServiceError::BadRequest("csr_der_hex is not hex".into()))?;
        let csr = inkseal_pki::verify_csr(&der)
            .map_err(|e| ServiceError::BadRequest(format!("CSR rejected: {e}")))?;
        if *csr.public_key.to_sec1_bytes() != key.public_key[..] {
            return Err(ServiceError::BadRequest(
                "the CSR's key is not this enrollment's joint key".into(),
            ));
        }
        if csr.common_name != key.user_id {
            return Err(ServiceError::BadRequest(
                "the CSR's common name must be the enrolled user id".into(),
            ));
        }
        let cert = self.ca.issue(&csr).map_err(ServiceError::Internal)?;
        let fingerprint = hex::encode(Sha256::digest(&cert));
        self.store.set_certificate(
            key_id,
            &cert,
            &AuditEvent::new(
                AuditKind::CertificateIssued,
                key_id,
                json!({ "sha256": fingerprint }),
            ),
        )?;
        Ok(CertificateResponse {
            certificate_der_hex: hex::encode(&cert),
            ca_certificate_der_hex: hex::encode(self.ca.ca_certificate()),
        })
    }

    /// The issued certificate, if any.
    pub fn certificate(&self, key_id: &str) -> Result<CertificateResponse, ServiceError> {
        let key = self.key(key_id)?;
        let cert = key
            .certificate
            .ok_or_else(|| ServiceError::BadRequest("no certificate issued yet".into()))?;
        Ok(CertificateResponse {
            certificate_der_hex: hex::encode(cert),
            ca_certificate_der_hex: hex::encode(self.ca.ca_certificate()),
        })
    }

    /// Public facts about a key.
    pub fn status(&self, key_id: &str) -> Result<KeyStatus, ServiceError> {
        let key = self.key(key_id)?;
        Ok(KeyStatus {
            key_id: key.key_id,
            user_id: key.user_id,
            public_key_hex: hex::encode(&key.public_key),
            pin_failures: key.pin_failures,
            locked: key.locked,
            has_certificate: key.certificate.is_some(),
        })
    }
}

/// SHA-256 of everything in the request except the PIN.
fn request_hash(req: &CosignRequest) -> Vec<u8> {
    let canonical = json!({
        "idempotency_key": req.idempotency_key,
        "evidence_head": req.evidence_head,
        "sign": req.sign,
    });
    Sha256::digest(canonical.to_string().as_bytes()).to_vec()
}

fn replay(
    done: crate::store::StoredSignature,
    request_hash: &[u8],
) -> Result<CosignResponse, ServiceError> {
    if done.request_hash != request_hash {
        return Err(ServiceError::Conflict(
            "idempotency key already used for a different request".into(),
        ));
    }
    serde_json::from_str(&done.response).map_err(|e| ServiceError::Internal(e.to_string()))
}
