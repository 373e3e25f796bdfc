//! The institution's sealing service: seal keys held by the server, organisation
//! certificates from the embedded CA, and signing by hash (one document or a batch).
//!
//! Who may do what (operator roles): `seal:manage` creates and disables seals, `seal:use`
//! signs. Every seal, every refusal that matters (unknown or disabled seal, wrong algorithm,
//! a batch over the limit, an invalid credit code) and every sealed document is audited, with
//! the operator credential and its address; a batch writes one entry per document (seal,
//! document label, digest) in the transaction that re-checks the seal is still enabled.
//!
//! Keys:
//! * **P-256 with a PKCS#11 vault**: generated in the token (`CKM_EC_KEY_PAIR_GEN`, private half
//!   sensitive and non-extractable, label `inkseal-seal-<seal id>`) and used there
//!   (`CKM_ECDSA` over the SHA-256 the client sent); it never leaves the token. Each signature
//!   is checked against the public key before it is returned.
//! * **P-256 with the file vault**: generated in this process and stored sealed by the vault
//!   (AES-256-GCM under the master key, bound to the seal id and public key); unsealed only
//!   for one sign-hash call and wiped after. Weaker than a token: whoever holds the master key
//!   file and the database can sign.
//! * **SM2** (either vault; PKCS#11 tokens rarely implement SM2): as the file-vault P-256 key,
//!   sealed by whichever vault is configured (with a PKCS#11 vault, the wrapping key is in the
//!   token). Signs `e = SM3(Z_A || signed attributes)` as the client computed it (default
//!   signer ID `1234567812345678`; the client computes Z_A from the seal certificate's public
//!   key, see `inkseal_sdk::seal::sm2_digest`).
//!
//! The request is in the shape of the Cloud Signature Consortium API's `signatures/signHash`:
//! base64 hashes, the hash and signature algorithm OIDs, and (ours) a label per hash for the
//! audit; the answer is the DER signatures in order.

use super::{Context, random_bytes};
use crate::audit::{AuditEvent, AuditKind, Caller};
use crate::ca::Root;
use crate::error::{SealRefusal, ServiceError};
use crate::store::{KeyPurpose, SealKeyKind, SealRecord, StoreError, now_ms};
use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

/// Most hashes one sign-hash call takes.
pub const MAX_SEAL_BATCH: usize = 1000;
/// Longest document label, in characters.
pub const MAX_DOCUMENT_LABEL_CHARS: usize = 200;
/// Largest sign-hash request body: a full batch of hashes with labels of the longest kind
/// (in UTF-8, 3 bytes a character) fits.
pub const MAX_SIGN_HASH_BODY_BYTES: usize = 1024 * 1024;

/// SHA-256.
pub const SHA256_OID: &str = "2.16.840.1.101.3.4.2.1";
/// SM3.
pub const SM3_OID: &str = "1.2.156.10197.1.401";
/// ecdsa-with-SHA256.
pub const ECDSA_WITH_SHA256_OID: &str = "1.2.840.10045.4.3.2";
/// SM2-with-SM3.
pub const SM2_WITH_SM3_OID: &str = "1.2.156.10197.1.501";

/// A seal's signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SealAlgorithm {
    /// ECDSA on P-256 with SHA-256 (certificate from the P-256 root).
    #[serde(rename = "ecdsa-p256")]
    EcdsaP256,
    /// SM2 with SM3 (certificate from the SM2 root).
    #[serde(rename = "sm2")]
    Sm2,
}

impl SealAlgorithm {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            SealAlgorithm::EcdsaP256 => "ecdsa-p256",
            SealAlgorithm::Sm2 => "sm2",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "ecdsa-p256" => Some(SealAlgorithm::EcdsaP256),
            "sm2" => Some(SealAlgorithm::Sm2),
            _ => None,
        }
    }

    /// The hash algorithm OID a sign-hash request must name.
    pub fn hash_oid(self) -> &'static str {
        match self {
            SealAlgorithm::EcdsaP256 => SHA256_OID,
            SealAlgorithm::Sm2 => SM3_OID,
        }
    }

    /// The signature algorithm OID a sign-hash request must name.
    pub fn sign_oid(self) -> &'static str {
        match self {
            SealAlgorithm::EcdsaP256 => ECDSA_WITH_SHA256_OID,
            SealAlgorithm::Sm2 => SM2_WITH_SM3_OID,
        }
    }

    fn root(self) -> Root {
        match self {
            SealAlgorithm::EcdsaP256 => Root::P256,
            SealAlgorithm::Sm2 => Root::Sm2,
        }
    }
}

/// `POST /v1/admin/seals`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSeal {
    /// The institution's registered name (certificate `O`).
    pub institution: String,
    /// Its unified social credit code (统一社会信用代码, 18 characters).
    pub credit_code: String,
    /// The seal's purpose, e.g. 合同专用章 (certificate `CN`).
    pub purpose: String,
    /// `ecdsa-p256` or `sm2`.
    pub algorithm: SealAlgorithm,
    /// `signing` (a seal: sign-hash; the default) or `encryption` (the institution's
    /// encryption key: open-envelope; certificate keyUsage keyAgreement for P-256,
    /// keyEncipherment for SM2). A key never does both.
    #[serde(default)]
    pub key_purpose: KeyPurpose,
}

/// A seal as answered (never its key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealInfo {
    /// Seal id.
    pub seal_id: String,
    /// Institution name.
    pub institution: String,
    /// Unified social credit code.
    pub credit_code: String,
    /// Purpose.
    pub purpose: String,
    /// `ecdsa-p256` or `sm2`.
    pub algorithm: SealAlgorithm,
    /// `pkcs11_token` (generated and used in the token) or `vault_sealed`.
    pub key_storage: String,
    /// `signing` (sign-hash) or `encryption` (open-envelope).
    pub key_purpose: KeyPurpose,
    /// The OID sign-hash requests name as `hash_algorithm_oid`.
    pub hash_algorithm_oid: String,
    /// The OID sign-hash requests name as `sign_algorithm_oid`.
    pub sign_algorithm_oid: String,
    /// The certificate chain, base64 DER, the seal's certificate first, then its root.
    pub certificates: Vec<String>,
    /// Creation time (unix ms).
    pub created_ms: u64,
    /// When it was disabled, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_ms: Option<u64>,
}

/// `POST /v1/admin/seals/{seal_id}/sign-hash` (CSC `signatures/signHash` shape).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignHashRequest {
    /// The digests to sign, base64 (standard alphabet, padded), 32 bytes each: SHA-256 of the
    /// DER signed attributes for P-256; `e = SM3(Z_A || signed attributes)` for SM2.
    pub hashes: Vec<String>,
    /// The seal's hash algorithm OID.
    pub hash_algorithm_oid: String,
    /// The seal's signature algorithm OID.
    pub sign_algorithm_oid: String,
    /// A label per hash (file name, contract number), for the audit log.
    pub documents: Vec<String>,
}

/// The answer: DER signatures, in the order of the hashes, base64.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignHashResponse {
    /// `SEQUENCE { r, s }`, base64.
    pub signatures: Vec<String>,
}

/// The sealing service (see the module documentation).
pub struct Sealing<'a> {
    pub(crate) ctx: &'a Context,
}

fn info(s: &SealRecord) -> Result<SealInfo, ServiceError> {
    let algorithm = seal_algorithm(s)?;
    Ok(SealInfo {
        seal_id: s.seal_id.clone(),
        institution: s.institution.clone(),
        credit_code: s.credit_code.clone(),
        purpose: s.purpose.clone(),
        algorithm,
        key_storage: match s.key_kind {
            SealKeyKind::Token => "pkcs11_token",
            SealKeyKind::VaultSealed => "vault_sealed",
        }
        .into(),
        key_purpose: s.key_purpose,
        hash_algorithm_oid: algorithm.hash_oid().into(),
        sign_algorithm_oid: algorithm.sign_oid().into(),
        certificates: vec![
            Base64::encode_string(&s.certificate),
            Base64::encode_string(&s.issuer_certificate),
        ],
        created_ms: s.created_ms,
        disabled_ms: s.disabled_ms,
    })
}

/// The key usage of an institution key's certificate.
fn certificate_purpose(
    algorithm: SealAlgorithm,
    purpose: KeyPurpose,
) -> inkseal_pki::CertificatePurpose {
    use inkseal_pki::CertificatePurpose as P;
    match (purpose, algorithm) {
        (KeyPurpose::Signing, _) => P::DocumentSigning,
        (KeyPurpose::Encryption, SealAlgorithm::EcdsaP256) => P::KeyAgreement,
        (KeyPurpose::Encryption, SealAlgorithm::Sm2) => P::KeyEncipherment,
    }
}

/// A stored seal's algorithm (an unknown name is the database's fault).
pub(super) fn seal_algorithm(seal: &SealRecord) -> Result<SealAlgorithm, ServiceError> {
    SealAlgorithm::parse(&seal.algorithm).ok_or_else(|| {
        ServiceError::Internal(format!(
            "seal {} has algorithm {:?}",
            seal.seal_id, seal.algorithm
        ))
    })
}

/// The token label of a seal's key pair.
pub fn token_label(seal_id: &str) -> String {
    format!("inkseal-seal-{seal_id}")
}

/// Associated data of a seal's sealed private key.
fn seal_key_aad(seal_id: &str, public_key: &[u8]) -> Vec<u8> {
    crate::vault::associated_data("inkseal/seal-key/v1", &[seal_id.as_bytes(), public_key])
}

pub(super) fn printable(what: &str, value: &str, max: usize) -> Result<String, ServiceError> {
    let value = value.trim();
    let n = value.chars().count();
    if n == 0 || n > max || value.chars().any(char::is_control) {
        return Err(ServiceError::BadRequest(format!(
            "{what}: 1 to {max} printable characters"
        )));
    }
    Ok(value.to_owned())
}

/// A private key generated here, its SEC1 public key and SubjectPublicKeyInfo.
struct Generated {
    pkcs8: Zeroizing<Vec<u8>>,
    public_key: Vec<u8>,
    spki_der: Vec<u8>,
}

/// A fresh key pair of curve `C` for the file vault to seal (`what` names it in errors).
fn generate<C>(what: &str) -> Result<Generated, ServiceError>
where
    C: p256::elliptic_curve::CurveArithmetic + p256::pkcs8::AssociatedOid,
    p256::elliptic_curve::FieldBytesSize<C>: p256::elliptic_curve::sec1::ModulusSize,
    p256::elliptic_curve::SecretKey<C>:
        p256::elliptic_curve::Generate + p256::pkcs8::EncodePrivateKey,
    p256::elliptic_curve::PublicKey<C>:
        p256::pkcs8::EncodePublicKey + p256::elliptic_curve::sec1::ToSec1Point<C>,
{
    use p256::elliptic_curve::Generate;
    use p256::elliptic_curve::sec1::ToSec1Point;
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let internal = |e: String| ServiceError::Internal(format!("{what} seal key: {e}"));
    let secret = p256::elliptic_curve::SecretKey::<C>::try_generate()
        .map_err(|e| internal(e.to_string()))?;
    let public = secret.public_key();
    Ok(Generated {
        pkcs8: Zeroizing::new(
            secret
                .to_pkcs8_der()
                .map_err(|e| internal(e.to_string()))?
                .as_bytes()
                .to_vec(),
        ),
        public_key: public.to_sec1_point(false).as_bytes().to_vec(),
        spki_der: public
            .to_public_key_der()
            .map_err(|e| internal(e.to_string()))?
            .into_vec(),
    })
}

fn p256_public(public_key: &p256::ecdsa::VerifyingKey) -> Result<(Vec<u8>, Vec<u8>), ServiceError> {
    use p256::pkcs8::EncodePublicKey;
    let sec1 = public_key.to_sec1_point(false).as_bytes().to_vec();
    let spki = public_key
        .to_public_key_der()
        .map_err(|e| ServiceError::Internal(format!("P-256 seal key: {e}")))?
        .into_vec();
    Ok((sec1, spki))
}

impl Sealing<'_> {
    /// Refuse (audited) with `refusal`.
    pub(super) fn refuse(
        &self,
        refusal: SealRefusal,
        seal_id: Option<&str>,
        caller: &Caller,
    ) -> Result<ServiceError, ServiceError> {
        self.ctx.store.append_audit(
            &AuditEvent::global(
                AuditKind::Refused,
                json!({ "reason": refusal.to_string(), "seal_id": seal_id }),
            )
            .by(caller),
        )?;
        Ok(ServiceError::Seal(refusal))
    }

    /// Create a seal: check the credit code, generate the key (in the token for P-256 with a
    /// PKCS#11 vault), issue the organisation certificate, store it, audit it.
    pub fn create(&self, new: &NewSeal, caller: &Caller) -> Result<SealInfo, ServiceError> {
        let institution = printable(
            "institution",
            &new.institution,
            inkseal_pki::MAX_ORGANIZATION_NAME_CHARS,
        )?;
        let purpose = printable("purpose", &new.purpose, inkseal_pki::MAX_COMMON_NAME_CHARS)?;
        let credit_code = match inkseal_pki::CreditCode::parse(new.credit_code.trim()) {
            Ok(c) => c,
            Err(e) => return Err(self.refuse(SealRefusal::InvalidCreditCode(e), None, caller)?),
        };
        let seal_id = format!("s-{}", hex::encode(random_bytes::<16>()?));
        let token = match new.algorithm {
            SealAlgorithm::EcdsaP256 => self.ctx.vault.token_keys(),
            SealAlgorithm::Sm2 => None,
        };
        let (key_kind, key_ref, sealed_key, public_key, spki_der) = match token {
            Some(token) => {
                let label = token_label(&seal_id);
                let public = match new.key_purpose {
                    KeyPurpose::Signing => token.generate_p256(&label)?,
                    KeyPurpose::Encryption => token.generate_p256_agreement(&label)?,
                };
                let (sec1, spki) = p256_public(&public)?;
                (SealKeyKind::Token, label, None, sec1, spki)
            }
            None => {
                let generated = match new.algorithm {
                    SealAlgorithm::EcdsaP256 => generate::<p256::NistP256>("P-256")?,
                    SealAlgorithm::Sm2 => generate::<sm2::Sm2>("SM2")?,
                };
                let sealed = self.ctx.vault.seal(
                    &seal_key_aad(&seal_id, &generated.public_key),
                    &generated.pkcs8,
                )?;
                (
                    SealKeyKind::VaultSealed,
                    String::new(),
                    Some(sealed),
                    generated.public_key,
                    generated.spki_der,
                )
            }
        };
        let spki = {
            use spki::der::Decode;
            spki::SubjectPublicKeyInfoOwned::from_der(&spki_der)
                .map_err(|e| ServiceError::Internal(format!("seal key SPKI: {e}")))?
        };
        let org = inkseal_pki::Organization {
            name: &institution,
            common_name: &purpose,
            credit_code: &credit_code,
        };
        let (certificate, issuer_certificate) = self
            .ctx
            .ca
            .issue_organization_certificate(
                new.algorithm.root(),
                &spki,
                &org,
                certificate_purpose(new.algorithm, new.key_purpose),
            )
            .map_err(|e| ServiceError::Internal(format!("seal certificate: {e}")))?;
        let serial = inkseal_pki::certificate_serial(&certificate)
            .map_err(|e| ServiceError::Internal(format!("seal certificate: {e}")))?;
        let record = SealRecord {
            seal_id: seal_id.clone(),
            institution,
            credit_code: credit_code.to_string(),
            purpose,
            algorithm: new.algorithm.as_str().into(),
            key_kind,
            key_ref,
            sealed_key,
            public_key,
            certificate,
            issuer_certificate,
            serial: serial.clone(),
            created_ms: now_ms(),
            disabled_ms: None,
            key_purpose: new.key_purpose,
        };
        let audit = AuditEvent::new(
            AuditKind::SealCreated,
            &seal_id,
            json!({
                "seal_id": seal_id,
                "institution": record.institution,
                "credit_code": record.credit_code,
                "purpose": record.purpose,
                "algorithm": record.algorithm,
                "key_storage": record.key_kind.as_str(),
                "key_purpose": record.key_purpose.as_str(),
                "certificate_serial": hex::encode(&serial),
            }),
        )
        .by(caller);
        self.ctx.store.insert_seal(&record, &audit)?;
        info(&record)
    }

    /// Every seal (disabled ones too), oldest first.
    pub fn list(&self) -> Result<Vec<SealInfo>, ServiceError> {
        self.ctx.store.list_seals()?.iter().map(info).collect()
    }

    /// The institution key `seal_id` if it exists, is enabled and has `purpose`; each
    /// refusal audited (unknown, disabled, the other purpose).
    pub(super) fn usable_key(
        &self,
        seal_id: &str,
        purpose: KeyPurpose,
        caller: &Caller,
    ) -> Result<SealRecord, ServiceError> {
        let refuse = |refusal| self.refuse(refusal, Some(seal_id), caller);
        let Some(seal) = self.record(seal_id)? else {
            return Err(refuse(SealRefusal::UnknownSeal)?);
        };
        if seal.disabled_ms.is_some() {
            return Err(refuse(SealRefusal::Disabled)?);
        }
        if seal.key_purpose != purpose {
            return Err(refuse(match purpose {
                KeyPurpose::Signing => SealRefusal::WrongKeyPurpose {
                    is: "the institution's encryption key",
                    wanted: "only a seal (a signing key) signs hashes",
                },
                KeyPurpose::Encryption => SealRefusal::WrongKeyPurpose {
                    is: "a seal (a signing key)",
                    wanted: "only the institution's encryption keys open envelopes",
                },
            })?);
        }
        Ok(seal)
    }

    pub(super) fn record(&self, seal_id: &str) -> Result<Option<SealRecord>, ServiceError> {
        if !inkseal_cosign::valid_id(seal_id) {
            return Ok(None);
        }
        Ok(self.ctx.store.get_seal(seal_id)?)
    }

    /// One seal with its certificate chain.
    pub fn get(&self, seal_id: &str) -> Result<SealInfo, ServiceError> {
        info(
            &self
                .record(seal_id)?
                .ok_or(ServiceError::Seal(SealRefusal::UnknownSeal))?,
        )
    }

    /// Disable a seal: it signs nothing more (its certificate stays good for what it sealed).
    pub fn disable(&self, seal_id: &str, caller: &Caller) -> Result<SealInfo, ServiceError> {
        let Some(_) = self.record(seal_id)? else {
            return Err(self.refuse(SealRefusal::UnknownSeal, Some(seal_id), caller)?);
        };
        let audit = AuditEvent::new(
            AuditKind::SealDisabled,
            seal_id,
            json!({ "seal_id": seal_id }),
        )
        .by(caller);
        match self.ctx.store.disable_seal(seal_id, now_ms(), &audit) {
            Err(StoreError::NotFound) => return Err(ServiceError::Seal(SealRefusal::Disabled)),
            other => other?,
        }
        self.get(seal_id)
    }

    /// Sign every hash of `request` with the seal (see the module documentation); one audit
    /// entry per document, written before the signatures are returned.
    pub fn sign_hashes(
        &self,
        seal_id: &str,
        request: &SignHashRequest,
        caller: &Caller,
    ) -> Result<SignHashResponse, ServiceError> {
        let seal = self.usable_key(seal_id, KeyPurpose::Signing, caller)?;
        let algorithm = seal_algorithm(&seal)?;
        if request.hash_algorithm_oid != algorithm.hash_oid()
            || request.sign_algorithm_oid != algorithm.sign_oid()
        {
            let refusal = SealRefusal::AlgorithmMismatch {
                expected_hash: algorithm.hash_oid(),
                expected_sign: algorithm.sign_oid(),
                found_hash: request.hash_algorithm_oid.chars().take(64).collect(),
                found_sign: request.sign_algorithm_oid.chars().take(64).collect(),
            };
            return Err(self.refuse(refusal, Some(seal_id), caller)?);
        }
        if request.hashes.len() > MAX_SEAL_BATCH {
            let refusal = SealRefusal::BatchTooLarge {
                max: MAX_SEAL_BATCH,
                found: request.hashes.len(),
            };
            return Err(self.refuse(refusal, Some(seal_id), caller)?);
        }
        if request.hashes.is_empty() {
            return Err(ServiceError::BadRequest("no hashes to sign".into()));
        }
        if request.documents.len() != request.hashes.len() {
            return Err(ServiceError::BadRequest(format!(
                "{} hashes but {} document labels: give one label per hash",
                request.hashes.len(),
                request.documents.len()
            )));
        }
        let mut digests = Vec::with_capacity(request.hashes.len());
        for (index, hash) in request.hashes.iter().enumerate() {
            let digest: [u8; 32] = Base64::decode_vec(hash)
                .ok()
                .and_then(|d| d.try_into().ok())
                .ok_or(ServiceError::Seal(SealRefusal::BadHash { index }))?;
            digests.push(digest);
        }
        let labels = request
            .documents
            .iter()
            .map(|d| printable("document label", d, MAX_DOCUMENT_LABEL_CHARS))
            .collect::<Result<Vec<_>, _>>()?;
        let signatures = self.sign_digests(&seal, algorithm, &digests)?;
        let batch = digests.len();
        let audit: Vec<AuditEvent> = digests
            .iter()
            .zip(&labels)
            .enumerate()
            .map(|(index, (digest, label))| {
                AuditEvent::new(
                    AuditKind::Sealed,
                    seal_id,
                    json!({
                        "seal_id": seal_id,
                        "document": label,
                        "digest": hex::encode(digest),
                        "hash_algorithm_oid": algorithm.hash_oid(),
                        "index": index,
                        "batch": batch,
                    }),
                )
                .by(caller)
            })
            .collect();
        match self.ctx.store.record_seal_uses(seal_id, &audit) {
            // Disabled while this batch was being signed: nothing is returned.
            Err(StoreError::NotFound) => {
                return Err(self.refuse(SealRefusal::Disabled, Some(seal_id), caller)?);
            }
            other => other?,
        }
        Ok(SignHashResponse {
            signatures: signatures
                .iter()
                .map(|s| Base64::encode_string(s))
                .collect(),
        })
    }

    /// DER signatures over `digests` with the seal's key, each checked against its public key.
    fn sign_digests(
        &self,
        seal: &SealRecord,
        algorithm: SealAlgorithm,
        digests: &[[u8; 32]],
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
        let bad = |what: &str| ServiceError::Internal(format!("seal {}: {what}", seal.seal_id));
        match (seal.key_kind, algorithm) {
            (SealKeyKind::Token, SealAlgorithm::EcdsaP256) => {
                let token =
                    self.ctx.vault.token_keys().ok_or_else(|| {
                        bad("its key is in a PKCS#11 token, but the vault has none")
                    })?;
                digests
                    .iter()
                    .map(|d| {
                        Ok(token
                            .sign_p256_digest(&seal.key_ref, d)?
                            .to_der()
                            .as_bytes()
                            .to_vec())
                    })
                    .collect()
            }
            (SealKeyKind::Token, SealAlgorithm::Sm2) => Err(bad("SM2 keys are never in a token")),
            (SealKeyKind::VaultSealed, _) => {
                let pkcs8 = self.unseal_key(seal)?;
                match algorithm {
                    SealAlgorithm::EcdsaP256 => {
                        use p256::pkcs8::DecodePrivateKey;
                        let key = p256::ecdsa::SigningKey::from_pkcs8_der(&pkcs8)
                            .map_err(|_| bad("sealed key unreadable"))?;
                        let public = *key.verifying_key();
                        digests
                            .iter()
                            .map(|d| {
                                let sig: p256::ecdsa::Signature =
                                    key.sign_prehash(d).map_err(|_| bad("signing failed"))?;
                                public
                                    .verify_prehash(d, &sig)
                                    .map_err(|_| bad("signature does not verify"))?;
                                Ok(sig.to_der().as_bytes().to_vec())
                            })
                            .collect()
                    }
                    SealAlgorithm::Sm2 => {
                        use sm2::pkcs8::DecodePrivateKey;
                        let secret = sm2::SecretKey::from_pkcs8_der(&pkcs8)
                            .map_err(|_| bad("sealed key unreadable"))?;
                        let public = sm2::dsa::VerifyingKey::new(
                            inkseal_cosign::DEFAULT_SIGNER_ID,
                            secret.public_key(),
                        )
                        .map_err(|_| bad("public key"))?;
                        // sm2 0.14's SigningKey does not wipe itself: one per call, dropped
                        // at its end (the `SecretKey` it is built from does wipe itself).
                        let key =
                            sm2::dsa::SigningKey::new(inkseal_cosign::DEFAULT_SIGNER_ID, &secret)
                                .map_err(|_| bad("cannot build the SM2 signing key"))?;
                        digests
                            .iter()
                            .map(|d| {
                                let sig: sm2::dsa::Signature =
                                    key.sign_prehash(d).map_err(|_| bad("signing failed"))?;
                                public
                                    .verify_prehash(d, &sig)
                                    .map_err(|_| bad("signature does not verify"))?;
                                Ok(sig.to_der().to_vec())
                            })
                            .collect()
                    }
                }
            }
        }
    }

    /// A vault-sealed private key (PKCS#8), unsealed for one call; `Zeroizing` wipes the bytes,
    /// the secret-key types built from them wipe themselves.
    pub(super) fn unseal_key(&self, seal: &SealRecord) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let sealed = seal.sealed_key.as_deref().ok_or_else(|| {
            ServiceError::Internal(format!("seal {}: no sealed key", seal.seal_id))
        })?;
        Ok(self
            .ctx
            .vault
            .open(&seal_key_aad(&seal.seal_id, &seal.public_key), sealed)?)
    }

    /// Whether a token-held seal's private key is sensitive and non-extractable (and always
    /// was); `None` for a vault-sealed seal.
    pub fn key_is_protected(&self, seal_id: &str) -> Result<Option<bool>, ServiceError> {
        let seal = self
            .record(seal_id)?
            .ok_or(ServiceError::Seal(SealRefusal::UnknownSeal))?;
        match (seal.key_kind, self.ctx.vault.token_keys()) {
            (SealKeyKind::Token, Some(token)) => {
                Ok(Some(token.p256_key_is_protected(&seal.key_ref)?))
            }
            (SealKeyKind::Token, None) => Err(ServiceError::Internal(
                "the seal's key is in a token, but the vault has none".into(),
            )),
            (SealKeyKind::VaultSealed, _) => Ok(None),
        }
    }
}
