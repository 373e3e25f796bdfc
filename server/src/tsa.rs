//! The RFC 3161 time-stamping authority (`POST /v1/tsa`).
//!
//! Two units, chosen by the request's imprint: an SM2 key for SM3 imprints (its certificate
//! from the SM2 root) and a P-256 key for SHA-256 imprints (its certificate from the P-256
//! root, so OpenSSL, pyHanko and Adobe Reader can check it). Both keys are sealed by the vault
//! (the HSM's wrapping key where one is configured) and kept in the store's settings, like the
//! CA's. Certificates carry the critical extended key usage id-kp-timeStamping only.
//!
//! Serial numbers come from a durable counter in the store (unique across restarts and
//! replicas sharing the store); the time is the server's clock, stated with
//! [`ACCURACY_MILLIS`]; the nonce of the request is echoed; a requested policy other than
//! [`TimeStampAuthority::policy`] is refused (unacceptedPolicy), as are other imprint
//! algorithms (badAlg), request extensions (unacceptedExtension) and malformed requests
//! (badDataFormat). Every refusal is a well-formed rejection reply, never an HTTP error.

use crate::ca::{EmbeddedCa, Renewal, Root, SealedKey, load_or_create_sealed};
use crate::store::Store;
use crate::vault::ShareVault;
use const_oid::ObjectIdentifier;
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::tsp::{
    FailureInfo, IssueParams, TimeStampRequest, granted_reply, issue_token, rejection_reply,
};
use inkseal_pki::{CaKey, CertificatePurpose, EndEntity, IssuerKey, P256CaKey};

/// The default TSA policy: an OID under the enterprise number IANA reserves for documentation
/// (32473, RFC 5612), to be replaced by the institution's registered policy OID
/// (`--tsa-policy`) in production.
pub const DEFAULT_POLICY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.3161.1");

/// The accuracy stated in every token, in milliseconds.
pub const ACCURACY_MILLIS: u32 = 1000;

/// Validity of the TSA certificates, in days (capped by the roots').
const TSA_CERT_VALIDITY_DAYS: u32 = 1825;

const SERIAL_COUNTER: &str = "tsa.serial";

struct Unit<K> {
    key: K,
    /// The TSA certificate, then its root.
    chain: Vec<Vec<u8>>,
}

/// The time-stamping authority.
pub struct TimeStampAuthority {
    sm2: Unit<CaKey>,
    p256: Unit<P256CaKey>,
    policy: ObjectIdentifier,
}

impl TimeStampAuthority {
    /// Load the TSA keys and certificates, creating them (certificates from `ca`) on first
    /// start.
    pub fn load_or_create(
        store: &dyn Store,
        vault: &dyn ShareVault,
        ca: &EmbeddedCa,
        policy: ObjectIdentifier,
    ) -> Result<Self, String> {
        fn unit<K: SealedKey>(
            store: &dyn Store,
            vault: &dyn ShareVault,
            ca: &EmbeddedCa,
            root: Root,
            names: (&str, &str, &str),
            common_name: &str,
        ) -> Result<(K, Vec<u8>), String> {
            let certify = |k: &K| {
                ca.issue_service_certificate(
                    root,
                    &EndEntity {
                        subject_public_key_info: k
                            .subject_public_key_info()
                            .map_err(|e| e.to_string())?,
                        common_name,
                        purpose: CertificatePurpose::TimeStamping,
                        revocation: None,
                    },
                    TSA_CERT_VALIDITY_DAYS,
                )
            };
            let ocsp_url = ca.revocation_pointers(root).map(|p| p.ocsp_url);
            load_or_create_sealed(store, vault, names, certify, Renewal::Service { ocsp_url })
        }
        let (sm2_key, sm2_cert) = unit::<CaKey>(
            store,
            vault,
            ca,
            Root::Sm2,
            (
                "inkseal/tsa-sm2-key/v1",
                "tsa.sm2.key.sealed",
                "tsa.sm2.cert",
            ),
            "inkseal time-stamping authority SM2",
        )?;
        let (p256_key, p256_cert) = unit::<P256CaKey>(
            store,
            vault,
            ca,
            Root::P256,
            (
                "inkseal/tsa-p256-key/v1",
                "tsa.p256.key.sealed",
                "tsa.p256.cert",
            ),
            "inkseal time-stamping authority P-256",
        )?;
        Ok(TimeStampAuthority {
            sm2: Unit {
                key: sm2_key,
                chain: vec![sm2_cert, ca.root(Root::Sm2).to_vec()],
            },
            p256: Unit {
                key: p256_key,
                chain: vec![p256_cert, ca.root(Root::P256).to_vec()],
            },
            policy,
        })
    }

    /// The TSA certificates (DER), SM2 unit first: the OCSP responder answers good for them.
    pub fn certificates(&self) -> [&[u8]; 2] {
        [&self.sm2.chain[0], &self.p256.chain[0]]
    }

    /// The policy every token is issued under.
    pub fn policy(&self) -> ObjectIdentifier {
        self.policy
    }

    /// The TSA certificate and its root (DER) for imprints made with `suite`'s digest.
    pub fn chain(&self, suite: SignatureAlgorithm) -> &[Vec<u8>] {
        match suite {
            SignatureAlgorithm::Sm2Sm3 => &self.sm2.chain,
            SignatureAlgorithm::EcdsaP256Sha256 => &self.p256.chain,
        }
    }

    /// Answer a DER `TimeStampReq` with a DER `TimeStampResp`: a token, or a rejection that
    /// says why. `Err` only when not even a rejection could be encoded.
    pub fn respond(&self, store: &dyn Store, request_der: &[u8]) -> Result<Reply, String> {
        let request = match TimeStampRequest::parse(request_der) {
            Ok(r) => r,
            Err(e) => return self.reject(FailureInfo::for_request_error(&e), &e.to_string()),
        };
        if request.policy().is_some_and(|p| p != self.policy) {
            return self.reject(
                FailureInfo::UnacceptedPolicy,
                "this TSA issues under one policy only",
            );
        }
        let serial = match store.next_counter(SERIAL_COUNTER) {
            Ok(n) => n.to_be_bytes(),
            Err(e) => {
                tracing::error!(error = %e, "time-stamp serial counter failed");
                return self.reject(FailureInfo::SystemFailure, "the TSA cannot serve now");
            }
        };
        let params = IssueParams {
            policy: self.policy,
            serial: &serial,
            gen_time_unix_millis: crate::store::now_ms(),
            accuracy_millis: Some(ACCURACY_MILLIS),
        };
        let suite = request.digest_suite();
        let issued = match suite {
            SignatureAlgorithm::Sm2Sm3 => issue_token(&request, &self.sm2.chain, &params, |tbs| {
                self.sm2.key.sign_to_der(tbs)
            }),
            SignatureAlgorithm::EcdsaP256Sha256 => {
                issue_token(&request, &self.p256.chain, &params, |tbs| {
                    self.p256.key.sign_to_der(tbs)
                })
            }
        };
        match issued.and_then(|token| granted_reply(&token)) {
            Ok(der) => Ok(Reply { der, granted: true }),
            Err(e) => {
                tracing::error!(error = %e, "time-stamp token could not be issued");
                self.reject(FailureInfo::SystemFailure, "the TSA cannot serve now")
            }
        }
    }

    fn reject(&self, failure: FailureInfo, text: &str) -> Result<Reply, String> {
        rejection_reply(failure, text)
            .map(|der| Reply {
                der,
                granted: false,
            })
            .map_err(|e| e.to_string())
    }
}

/// A `TimeStampResp` and whether it grants a token.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The DER `TimeStampResp`.
    pub der: Vec<u8>,
    /// Whether it carries a token (else it is a rejection).
    pub granted: bool,
}
