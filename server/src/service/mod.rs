//! The server's business logic, independent of HTTP, split by concern.
//!
//! [`CosignService`] is a cheap handle on one shared [`Context`] (store, vault, CA, policy,
//! vendors, attestation verifiers, metrics). Each concern is its own small type borrowed from
//! it:
//!
//! | view | concern |
//! | --- | --- |
//! | [`Operators`] (`operators()`) | operator credentials: API keys, client certificates, roles |
//! | [`Enrollment`] (`enrollment()`) | enrollment tickets, two-party key generation, device keys |
//! | [`DeviceAuth`] (`device_auth()`) | checking the device signature on every phone request |
//! | [`Signing`] (`signing()`) | co-signing what a request carries, certificates, key status |
//! | [`KeyLifecycle`] (`lifecycle()`) | PIN change, operator unlock, revocation, the CRL |
//! | [`Liveness`](crate::liveness::Liveness) (`liveness()`) | challenges, evidence, signing policy |
//! | [`AuditLog`] (`audit()`) | reading the log, signed checkpoints, verification |
//! | [`Sealing`] (`sealing()`) | the institution's seals: keys, organisation certificates, sign-hash |
//! | [`InstitutionEnvelopes`] (`institution_envelopes()`) | the institution's encryption keys opening envelopes (ECDH in the token) |
//!
//! Everything here is synchronous and is called from blocking tasks. A share is unsealed only
//! inside [`Signing::sign`], after the PIN check, and is wiped when the step ends. Every call
//! that changes state takes the [`Caller`](crate::audit::Caller), which its audit entry
//! records.

mod audit_log;
mod decrypting;
mod device_auth;
mod enroll;
pub mod institution_envelopes;
mod lifecycle;
pub mod login;
mod operators;
mod p256;
mod pin;
pub(crate) mod pin_verifier;
pub mod sealing;
mod signing;

pub use audit_log::AuditLog;
pub use decrypting::Decrypting;
pub use device_auth::{DeviceAuth, DeviceRequest};
pub(crate) use enroll::id_matches;
pub use enroll::{Enrollment, IssuedTicket, TicketOrder};
pub use institution_envelopes::{InstitutionEnvelopes, OpenEnvelopeRequest, OpenEnvelopeResponse};
pub use lifecycle::{AdminRevokeRequest, KeyLifecycle, UnlockRequest};
pub use login::Login;
pub use operators::{CredentialInfo, CredentialSecret, NewCredential, Operator, Operators, Role};
pub use p256::P256Cosigning;
pub use sealing::{NewSeal, SealAlgorithm, SealInfo, Sealing, SignHashRequest, SignHashResponse};
pub use signing::Signing;

use crate::attestation::AttestationVerifier;
use crate::ca::CertificateAuthority;
use crate::error::ServiceError;
use crate::liveness::vendor::LivenessVendor;
use crate::store::{KeyRecord, SigningPolicy, Store};
use crate::vault::ShareVault;
use inkseal_cosign::api::PinPolicy;
use inkseal_cosign::valid_id;
use std::sync::Arc;

/// Tunable rules.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Wrong PINs (since the last right one) that lock a key: the 5th by default.
    pub max_pin_failures: u32,
    /// Rules for new PINs (enrollment, PIN change).
    pub pin: PinPolicy,
    /// Validity of issued certificates.
    pub certificate_validity_days: u32,
    /// Signing policy of keys without their own (operators set one per key).
    pub signing: SigningPolicy,
    /// Lifetime of a liveness challenge, seconds (2 minutes by default).
    pub challenge_ttl_secs: u64,
    /// Actions a liveness challenge asks for (0: silent liveness); 2 by default.
    pub liveness_actions: usize,
    /// Unanswered, unexpired challenges a key may hold at once (5 by default).
    pub max_open_challenges: u64,
    /// Lifetime of an enrollment ticket when the operator does not say, seconds (1 hour).
    pub ticket_ttl_secs: u64,
    /// How far a device's request time may be from the server's, seconds (2 minutes): the
    /// replay window.
    pub max_clock_skew_secs: u64,
    /// Enrollment needs a device-key attestation that a configured verifier accepts.
    pub require_device_attestation: bool,
    /// Two-party decryptions one encryption key answers in its life (2^20 by default). Each
    /// answer is `d2^-1 T1` for a `T1` of the caller's choosing, a static Diffie–Hellman
    /// oracle; the cap bounds what Cheon's attack gains from it (ARCHITECTURE.md, "Two-party
    /// decryption": at most about 10 bits of the 128 at 2^20).
    pub max_decryptions_per_key: u64,
    /// Two-party P-256 keys (issue 18: DKLs23 from `dkls23-core` 0.6.2, which has had no
    /// third-party audit) may be enrolled and co-sign. Off by default
    /// (`inkseal serve --enable-unaudited-p256-cosign`).
    pub p256_cosign: bool,
}

/// [`Policy::max_decryptions_per_key`] unless configured: 2^20.
pub const DEFAULT_MAX_DECRYPTIONS_PER_KEY: u64 = 1 << 20;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_pin_failures: 5,
            pin: PinPolicy::default(),
            certificate_validity_days: 365,
            signing: SigningPolicy::default(),
            challenge_ttl_secs: 120,
            liveness_actions: 2,
            max_open_challenges: 5,
            ticket_ttl_secs: 3600,
            max_clock_skew_secs: 120,
            require_device_attestation: false,
            max_decryptions_per_key: DEFAULT_MAX_DECRYPTIONS_PER_KEY,
            p256_cosign: false,
        }
    }
}

pub use crate::metrics::{Metrics, MetricsSnapshot};

/// What every concern shares.
pub(crate) struct Context {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) vault: Arc<dyn ShareVault>,
    pub(crate) ca: Arc<dyn CertificateAuthority>,
    pub(crate) tsa: Option<Arc<crate::tsa::TimeStampAuthority>>,
    pub(crate) policy: Policy,
    pub(crate) vendors: Vec<Arc<dyn LivenessVendor>>,
    pub(crate) attestation: Vec<Arc<dyn AttestationVerifier>>,
    pub(crate) metrics: Metrics,
    /// Key of the keyed hash that binds a key to its holder's ID number (sealed in the store).
    pub(crate) id_pepper: zeroize::Zeroizing<[u8; 32]>,
}

/// The co-signing service (a cheap, cloneable handle).
#[derive(Clone)]
pub struct CosignService {
    pub(crate) ctx: Arc<Context>,
}

/// Everything [`CosignService::new`] needs besides the policy.
pub struct Parts {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Share vault (also holds the audit key).
    pub vault: Arc<dyn ShareVault>,
    /// Certificate authority.
    pub ca: Arc<dyn CertificateAuthority>,
    /// The time-stamping authority, if this server runs one.
    pub tsa: Option<Arc<crate::tsa::TimeStampAuthority>>,
    /// Liveness vendors whose verdicts count.
    pub vendors: Vec<Arc<dyn LivenessVendor>>,
    /// Device-key attestation verifiers.
    pub attestation: Vec<Arc<dyn AttestationVerifier>>,
}

const ID_PEPPER_SETTING: &str = "id-binding.pepper.sealed";

impl CosignService {
    /// Assemble the service; loads (or creates) the sealed ID-binding key.
    pub fn new(parts: Parts, policy: Policy) -> Result<Self, ServiceError> {
        let aad = crate::vault::associated_data("inkseal/id-pepper/v1", &[]);
        let sealed = match parts.store.get_setting(ID_PEPPER_SETTING)? {
            Some(s) => s,
            None => {
                let fresh: [u8; 32] = random_bytes()?;
                let sealed = parts.vault.seal(&aad, &fresh)?;
                parts
                    .store
                    .put_setting_if_absent(ID_PEPPER_SETTING, &sealed)?
            }
        };
        let opened = parts.vault.open(&aad, &sealed)?;
        let id_pepper =
            zeroize::Zeroizing::new(<[u8; 32]>::try_from(opened.as_slice()).map_err(|_| {
                ServiceError::Internal("sealed ID-binding key has a bad length".into())
            })?);
        Ok(CosignService {
            ctx: Arc::new(Context {
                store: parts.store,
                vault: parts.vault,
                ca: parts.ca,
                tsa: parts.tsa,
                policy: policy.clone(),
                vendors: dedup_vendors(parts.vendors),
                attestation: parts.attestation,
                metrics: Metrics::default(),
                id_pepper,
            }),
        })
    }

    /// Operator credentials.
    pub fn operators(&self) -> Operators<'_> {
        Operators { ctx: &self.ctx }
    }

    /// Tickets and enrollment.
    pub fn enrollment(&self) -> Enrollment<'_> {
        Enrollment { ctx: &self.ctx }
    }

    /// Device request signatures.
    pub fn device_auth(&self) -> DeviceAuth<'_> {
        DeviceAuth { ctx: &self.ctx }
    }

    /// Two-party P-256 enrollment and co-signing.
    pub fn p256(&self) -> P256Cosigning<'_> {
        P256Cosigning { ctx: &self.ctx }
    }

    /// Co-signing, certificates, status.
    pub fn signing(&self) -> Signing<'_> {
        Signing { ctx: &self.ctx }
    }

    /// Two-party decryption with encryption keys.
    pub fn decrypting(&self) -> Decrypting<'_> {
        Decrypting { ctx: &self.ctx }
    }

    /// Certificate login: challenges, verification.
    pub fn login(&self) -> Login<'_> {
        Login { ctx: &self.ctx }
    }

    /// PIN change, unlock, revocation, CRL.
    pub fn lifecycle(&self) -> KeyLifecycle<'_> {
        KeyLifecycle { ctx: &self.ctx }
    }

    /// Liveness challenges, evidence, signing policies.
    pub fn liveness(&self) -> crate::liveness::Liveness<'_> {
        crate::liveness::Liveness { ctx: &self.ctx }
    }

    /// The institution's seals.
    pub fn sealing(&self) -> Sealing<'_> {
        Sealing { ctx: &self.ctx }
    }

    /// The institution's encryption keys opening envelopes.
    pub fn institution_envelopes(&self) -> InstitutionEnvelopes<'_> {
        InstitutionEnvelopes { ctx: &self.ctx }
    }

    /// The audit log.
    pub fn audit(&self) -> AuditLog<'_> {
        AuditLog { ctx: &self.ctx }
    }

    /// The store (for audit export, tools and tests).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.ctx.store
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.ctx.policy
    }

    /// The CA certificate (DER).
    pub fn ca_certificate(&self) -> &[u8] {
        self.ctx.ca.ca_certificate()
    }

    /// Every root the CA publishes (DER), the issuing one first.
    pub fn root_certificates(&self) -> Vec<&[u8]> {
        self.ctx.ca.root_certificates()
    }

    /// Every root of the CA as PEM, in the order of [`Self::root_certificates`] (what
    /// `GET /v1/ca` serves, and what a verifier trusts).
    pub fn root_certificates_pem(&self) -> String {
        inkseal_pki::certificates_to_pem(self.root_certificates())
    }

    /// The time-stamping authority, if this server runs one.
    pub fn tsa(&self) -> Option<&crate::tsa::TimeStampAuthority> {
        self.ctx.tsa.as_deref()
    }

    /// Answer a DER time-stamp request (`None`: no TSA here).
    pub fn time_stamp(
        &self,
        request_der: &[u8],
    ) -> Option<Result<crate::tsa::Reply, ServiceError>> {
        let tsa = self.ctx.tsa.as_ref()?;
        let reply = tsa
            .respond(self.ctx.store.as_ref(), request_der)
            .map_err(ServiceError::Internal);
        if matches!(&reply, Ok(r) if r.granted) {
            self.ctx.metrics.time_stamp();
        }
        Some(reply)
    }

    /// Answer a DER OCSP request with a DER OCSP response: good, revoked (with time and
    /// reason) or unknown for each certificate, from the certificates register and the
    /// server's own service certificates; a request that does not parse is answered
    /// `malformedRequest`.
    pub fn ocsp(&self, request_der: &[u8]) -> Result<Vec<u8>, ServiceError> {
        use inkseal_pki::{CertificateStatus, OcspResponseStatus};
        let internal = |e: inkseal_pki::PkiError| ServiceError::Internal(format!("OCSP: {e}"));
        let query = match inkseal_pki::parse_ocsp_request(request_der) {
            Ok(q) => q,
            Err(_) => {
                return inkseal_pki::ocsp_error_response(OcspResponseStatus::MalformedRequest)
                    .map_err(internal);
            }
        };
        let service_serials: Vec<Vec<u8>> = self
            .tsa()
            .map(|t| t.certificates().to_vec())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|der| inkseal_pki::certificate_serial(der).ok())
            .collect();
        let store = &self.ctx.store;
        let status_of = |serial: &[u8]| -> Result<CertificateStatus, String> {
            if service_serials.iter().any(|s| s == serial) {
                return Ok(CertificateStatus::Good);
            }
            Ok(
                match store
                    .issued_certificate(serial)
                    .map_err(|e| e.to_string())?
                {
                    // A seal's certificate stays good after the seal is disabled: documents
                    // sealed before stay valid.
                    None if store
                        .seal_by_serial(serial)
                        .map_err(|e| e.to_string())?
                        .is_some() =>
                    {
                        CertificateStatus::Good
                    }
                    None => CertificateStatus::Unknown,
                    Some(c) => match c.revoked_ms {
                        None => CertificateStatus::Good,
                        Some(ms) => CertificateStatus::Revoked {
                            at_unix: ms / 1000,
                            reason: crate::ca::crl_reason(c.revocation_reason.as_deref()),
                        },
                    },
                },
            )
        };
        self.ctx
            .ca
            .ocsp(&query, &status_of, crate::store::now_ms() / 1000)
            .map_err(ServiceError::Internal)
    }

    /// A signature time-stamp and the long-term data around it in one call: the reply to
    /// `time_stamp_request` and the OCSP responses for `certificates` followed, when the reply
    /// grants a token, by the response for the certificate of the TSA unit that signed it.
    pub fn time_stamp_with_revocation_data(
        &self,
        certificates: &[Vec<u8>],
        time_stamp_request: &[u8],
    ) -> Result<(crate::tsa::Reply, Vec<Vec<u8>>), ServiceError> {
        let tsa = self.tsa().ok_or_else(|| {
            ServiceError::NotFound("this server runs no time-stamping authority".into())
        })?;
        let reply = self
            .time_stamp(time_stamp_request)
            .ok_or_else(|| ServiceError::Internal("the TSA went away".into()))??;
        let mut all = certificates.to_vec();
        if reply.granted {
            let suite = inkseal_pdf::tsp::TimeStampRequest::parse(time_stamp_request)
                .map_err(|e| ServiceError::Internal(format!("granted an unreadable request: {e}")))?
                .digest_suite();
            all.push(tsa.chain(suite)[0].clone());
        }
        let responses = if all.is_empty() {
            Vec::new()
        } else {
            self.revocation_data(&all)?
        };
        Ok((reply, responses))
    }

    /// OCSP responses (DER) for certificates this CA issued, one per certificate, each from
    /// the root that issued it (a certificate no root issued is a bad request).
    pub fn revocation_data(&self, certificates: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, ServiceError> {
        use inkseal_pki::{CertId, CertIdHash, ocsp_request};
        // One more than a request may name: the TSA's own certificate joins them.
        let max = inkseal_cosign::api::MAX_REVOCATION_CERTIFICATES + 1;
        if certificates.is_empty() || certificates.len() > max {
            return Err(ServiceError::BadRequest(format!(
                "name 1 to {max} certificates"
            )));
        }
        let roots = self.root_certificates();
        certificates
            .iter()
            .map(|cert| {
                let issuer = roots
                    .iter()
                    .find(|root| {
                        inkseal_pdf::cms::verify_chain(cert, &[], &[root.to_vec()], None).is_ok()
                    })
                    .ok_or_else(|| {
                        ServiceError::BadRequest(
                            "a certificate was not issued by this CA's roots".into(),
                        )
                    })?;
                let id = CertId::for_certificate(cert, issuer, CertIdHash::Sha256)
                    .map_err(|e| ServiceError::BadRequest(format!("certificate: {e}")))?;
                let request = ocsp_request(&[id], None)
                    .map_err(|e| ServiceError::Internal(format!("OCSP: {e}")))?;
                self.ocsp(&request)
            })
            .collect()
    }

    /// Counters since start.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.ctx.metrics.snapshot()
    }

    /// Counters and request histograms since start, in the Prometheus text format.
    pub fn prometheus_metrics(&self) -> String {
        let mut text = self.ctx.metrics.prometheus();
        if let Some((open, idle)) = self.ctx.store.pool_state() {
            text.push_str(&format!(
                "# HELP inkseal_db_pool_connections Database connections of this replica's pool, by state.\n\
                 # TYPE inkseal_db_pool_connections gauge\n\
                 inkseal_db_pool_connections{{state=\"open\"}} {open}\n\
                 inkseal_db_pool_connections{{state=\"idle\"}} {idle}\n\
                 inkseal_db_pool_connections{{state=\"in_use\"}} {}\n",
                open.saturating_sub(idle)
            ));
        }
        text
    }

    /// Count an answered request (the HTTP layer's part of the metrics).
    pub fn observe_request(&self, route: &'static str, status: u16, took: std::time::Duration) {
        self.ctx.metrics.request(route, status, took);
    }

    /// Whether the service can answer: its database reads (readiness, `/v1/ready`).
    pub fn ready(&self) -> Result<(), ServiceError> {
        self.ctx.store.get_setting("ca.cert")?;
        Ok(())
    }

    /// Delete expired request nonces, unanswered challenges, unused tickets and expired login
    /// challenges (their audit
    /// entries stay; removing challenges or tickets is itself audited).
    pub fn purge_expired(&self) -> Result<crate::store::PurgeCounts, ServiceError> {
        use crate::audit::{AuditEvent, AuditKind};
        Ok(self.ctx.store.purge(crate::store::now_ms(), &|counts| {
            AuditEvent::global(
                AuditKind::Purged,
                serde_json::json!({
                    "expired_challenges": counts.challenges,
                    "expired_tickets": counts.tickets,
                    "expired_login_challenges": counts.login_challenges,
                    "expired_p256_sessions": counts.p256_sessions,
                    "expired_p256_keygens": counts.p256_keygens,
                }),
            )
        })?)
    }

    /// Names of the liveness vendors whose verdicts count.
    pub fn vendor_names(&self) -> Vec<String> {
        self.ctx
            .vendors
            .iter()
            .map(|v| v.name().to_owned())
            .collect()
    }
}

fn dedup_vendors(vendors: Vec<Arc<dyn LivenessVendor>>) -> Vec<Arc<dyn LivenessVendor>> {
    let mut out: Vec<Arc<dyn LivenessVendor>> = Vec::new();
    for v in vendors {
        out.retain(|o| o.name() != v.name());
        out.push(v);
    }
    out
}

impl Context {
    /// A key by id (an id that cannot exist is simply unknown).
    pub(crate) fn key(&self, key_id: &str) -> Result<KeyRecord, ServiceError> {
        if !valid_id(key_id) {
            return Err(ServiceError::UnknownKey);
        }
        self.store.get_key(key_id)?.ok_or(ServiceError::UnknownKey)
    }
}

/// `N` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], ServiceError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| ServiceError::Internal(format!("rng: {e}")))?;
    Ok(b)
}

/// Unseal a key's server share for one step (co-signing or decryption); the caller drops it
/// as soon as the step is done (the share wipes itself).
pub(crate) fn unseal_share(
    vault: &dyn ShareVault,
    key: &KeyRecord,
) -> Result<inkseal_cosign::ServerKeyShare, ServiceError> {
    let share_bytes = vault.open(
        &share_aad(&key.user_id, &key.key_id, &key.public_key),
        &key.sealed_share,
    )?;
    let secret: zeroize::Zeroizing<[u8; 64]> = zeroize::Zeroizing::new(
        share_bytes
            .as_slice()
            .try_into()
            .map_err(|_| ServiceError::Internal("sealed share has wrong length".into()))?,
    );
    drop(share_bytes);
    inkseal_cosign::ServerKeyShare::from_sealable(&secret, &key.public_key)
        .map_err(|e| ServiceError::Internal(format!("stored share: {e}")))
}

/// The ids every device round carries checked together: the key id in the path is the one in
/// the protocol message, and the idempotency key is well formed.
pub(crate) fn check_round_ids(
    path_key_id: &str,
    message_key_id: &str,
    idempotency_key: &str,
) -> Result<(), ServiceError> {
    if message_key_id != path_key_id {
        return Err(ServiceError::BadRequest(
            "key id in the path and in the message differ".into(),
        ));
    }
    if !inkseal_cosign::api::valid_idempotency_key(idempotency_key) {
        return Err(ServiceError::BadRequest(
            "idempotency_key must be 8-64 characters of [A-Za-z0-9_-]".into(),
        ));
    }
    Ok(())
}

/// The stored answer of an idempotent round, when the retried request is the same one
/// (`request_hash`); a different request under the same idempotency key is a conflict.
pub(crate) fn replay<T: serde::de::DeserializeOwned>(
    done: crate::store::StoredSignature,
    request_hash: &[u8],
) -> Result<T, ServiceError> {
    if done.request_hash != request_hash {
        return Err(ServiceError::Conflict(
            "idempotency key already used for a different request".into(),
        ));
    }
    serde_json::from_str(&done.response).map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Associated data for a key's sealed share.
pub(crate) fn share_aad(user_id: &str, key_id: &str, public_key: &[u8]) -> Vec<u8> {
    crate::vault::associated_data(
        "inkseal/share/v1",
        &[user_id.as_bytes(), key_id.as_bytes(), public_key],
    )
}

/// Associated data for a key's sealed PIN verifier.
pub(crate) fn pin_aad(user_id: &str, key_id: &str, public_key: &[u8]) -> Vec<u8> {
    crate::vault::associated_data(
        "inkseal/pin/v1",
        &[user_id.as_bytes(), key_id.as_bytes(), public_key],
    )
}
