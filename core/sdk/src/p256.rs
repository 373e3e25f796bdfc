//! Two-party P-256 keys (issue 18, feature `p256-cosign`): enrollment in two round trips and
//! co-signing in two round trips through the server's `/v1/enroll/p256` and
//! `/v1/keys/{key_id}/p256/sign` routes, with DKLs23 (`inkseal_cosign::p256`).
//!
//! The phone's share (≈52.5 KB) is kept by the [`ShareStore`](crate::ShareStore) like an SM2
//! share, marked `curve: p256`. Every signature is verified against the joint key by the
//! protocol's last step before it is returned; a signature that does not verify, an answer
//! from another session, or a protocol abort is [`SdkError::ServerMisbehaved`] and nothing is
//! released. A PDF prepared for a P-256 key ([`CosignClient::prepare_pdf`]) is signed
//! ecdsa-with-SHA256 and co-signed through these routes.

use crate::client::{Auth, Delivering, random_id};
use std::time::Duration;

/// Enrollment's first trip is sent once: a repeat would restart the server's key generation
/// (its pending row for the ticket is replaced), so after a failure the phone starts again.
const ONCE: Delivering = Delivering {
    once: true,
    at_least: Duration::ZERO,
};

/// The two signing trips are retried like an SM2 signature after a transport error, with the
/// same body: the server answers a byte-identical repeat with the answer it already gave
/// (trip 1 while its session is open, trip 2 once its signature is recorded) and refuses any
/// other request under the same idempotency key or session.
const REPEATABLE: Delivering = Delivering {
    once: false,
    at_least: Duration::ZERO,
};

/// Key generation's second trip runs the base-OT setup's proofs (about 2 s of server time on a
/// desktop core, more under load): at least a minute, once.
const SLOW_ONCE: Delivering = Delivering {
    once: true,
    at_least: Duration::from_secs(60),
};
use crate::{CosignClient, Pin, SdkError, StoredShare};
use inkseal_cosign::api::{
    DeviceKeyRegistration, EnrollmentTicket, KeyCurve, KeyPurpose, MAX_P256_KEYGEN_REPLY_2_BYTES,
    MAX_P256_SIGN_REPLY_1_BYTES, MAX_P256_SMALL_BYTES, MessageKind, P256EnrollFinishRequest,
    P256EnrollFinishResponse, P256EnrollRequest, P256EnrollResponse, P256Hex,
    P256SignFinishRequest, P256SignFinishResponse, P256SignRequest, P256SignResponse,
    SignedMessage,
};
use inkseal_cosign::p256::{
    KeygenReply1, KeygenReply2, P256CosignError, PhoneKeygen, PhoneShare, PhoneSign, SignReply1,
    SignReply2,
};

/// A finished P-256 enrollment.
#[derive(Clone, Debug)]
pub struct P256Enrollment {
    /// Key id to sign with (chosen by the server).
    pub key_id: String,
    /// User the key belongs to (the institution's id, from the ticket).
    pub user_id: String,
    /// The name the institution asserted for the key's certificate.
    pub certificate_name: String,
    /// The joint public key (verified equal on both sides).
    pub public_key: p256::PublicKey,
}

fn protocol(e: P256CosignError) -> SdkError {
    SdkError::ServerMisbehaved(format!("two-party P-256: {e}"))
}

fn answer(hex: &P256Hex, max: usize) -> Result<Vec<u8>, SdkError> {
    hex.bytes(max).map_err(SdkError::ServerMisbehaved)
}

fn sec1_uncompressed(public_key: &p256::PublicKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToSec1Point as _;
    public_key.to_sec1_point(false).as_bytes().to_vec()
}

impl CosignClient {
    /// Create a two-party P-256 signing key with the enrollment `ticket`, protected by `pin`:
    /// a new device key, then the key generation in two round trips (to any server replica;
    /// after a failure, enroll again with the same ticket). The joint key is
    /// compared with the server's before the share is kept.
    pub async fn enroll_p256(&self, ticket: &str, pin: &Pin) -> Result<P256Enrollment, SdkError> {
        self.check_new_pin(pin)?;
        let ticket = EnrollmentTicket::parse(ticket.trim())
            .map_err(|e| SdkError::TicketInvalid(e.to_string()))?;
        let alias = format!("dk-{}", random_id(16)?);
        let device_keys = self.device_keys.clone();
        let (alias_for_task, challenge) = (alias.clone(), ticket.id().as_bytes().to_vec());
        let device =
            tokio::task::spawn_blocking(move || device_keys.create(&alias_for_task, &challenge))
                .await
                .map_err(|e| SdkError::Storage(format!("device key task: {e}")))??;
        let result = self.enroll_p256_with(&ticket, pin, &alias, device).await;
        if result.is_err() {
            let _ = self.device_keys.delete(&alias);
        }
        result
    }

    async fn enroll_p256_with(
        &self,
        ticket: &EnrollmentTicket,
        pin: &Pin,
        alias: &str,
        device: crate::DeviceKeyInfo,
    ) -> Result<P256Enrollment, SdkError> {
        let (keygen, round1) = PhoneKeygen::start(&mut getrandom::SysRng).map_err(protocol)?;
        let auth = Auth {
            keyid: ticket.id(),
            alias,
        };
        let body = P256EnrollRequest {
            ticket: ticket.clone(),
            pin: pin.clone(),
            device_key: DeviceKeyRegistration {
                public_key_spki_hex: hex::encode(&device.public_key_spki_der),
                attestation: device.attestation,
            },
            purpose: KeyPurpose::Signing,
            keygen: P256Hex::of(round1.as_bytes()),
        };
        let resp: P256EnrollResponse = self
            .send_with("POST", "/v1/enroll/p256", Some(&body), auth, ONCE)
            .await?;
        let reply1 = KeygenReply1::from_bytes(&answer(&resp.keygen, MAX_P256_SMALL_BYTES)?)
            .map_err(protocol)?;
        let (keygen, round2) = keygen.receive(&reply1).map_err(protocol)?;
        let body = P256EnrollFinishRequest {
            ticket: ticket.clone(),
            keygen: P256Hex::of(round2.as_bytes()),
        };
        let resp: P256EnrollFinishResponse = self
            .send_with(
                "POST",
                "/v1/enroll/p256/finish",
                Some(&body),
                auth,
                SLOW_ONCE,
            )
            .await?;
        if !inkseal_cosign::valid_id(&resp.key_id) {
            return Err(SdkError::ServerMisbehaved("the key id is malformed".into()));
        }
        let reply2 =
            KeygenReply2::from_bytes(&answer(&resp.keygen, MAX_P256_KEYGEN_REPLY_2_BYTES)?)
                .map_err(protocol)?;
        let share = keygen.finish(&reply2).map_err(protocol)?;
        let public_key = *share.public_key();
        if resp.public_key_hex != hex::encode(sec1_uncompressed(&public_key)) {
            return Err(SdkError::ServerMisbehaved(
                "the server names another joint key".into(),
            ));
        }
        let secret = share.to_bytes().map_err(protocol)?;
        self.store.save(&StoredShare {
            key_id: resp.key_id.clone(),
            user_id: resp.user_id.clone(),
            certificate_name: resp.certificate_name.clone(),
            device_key_alias: alias.to_owned(),
            public_key: sec1_uncompressed(&public_key),
            secret: secret.to_vec(),
            certificate: None,
            ca_certificate: None,
            curve: KeyCurve::P256,
        })?;
        Ok(P256Enrollment {
            key_id: resp.key_id,
            user_id: resp.user_id,
            certificate_name: resp.certificate_name,
            public_key,
        })
    }

    /// The phone's P-256 share of `key_id` (from the share store).
    fn p256_share(&self, key_id: &str) -> Result<PhoneShare, SdkError> {
        let stored = self.stored(key_id)?;
        if stored.curve != KeyCurve::P256 {
            return Err(SdkError::InvalidInput(format!(
                "{key_id} is not a two-party P-256 key"
            )));
        }
        PhoneShare::from_bytes(&stored.secret)
            .map_err(|e| SdkError::Storage(format!("stored P-256 share is invalid: {e}")))
    }

    /// The curve of a key held on this device.
    pub fn key_curve(&self, key_id: &str) -> Result<KeyCurve, SdkError> {
        Ok(self.stored(key_id)?.curve)
    }

    /// The joint public key of a P-256 key held on this device.
    pub fn p256_public_key(&self, key_id: &str) -> Result<p256::PublicKey, SdkError> {
        Ok(*self.p256_share(key_id)?.public_key())
    }

    /// Co-sign `message` (read by the server as `kind`) with a P-256 key: two round trips,
    /// ECDSA P-256 over SHA-256 of the message, verified against the joint key before it is
    /// returned.
    pub(crate) async fn sign_signed_message_p256(
        &self,
        key_id: &str,
        pin: &Pin,
        message: SignedMessage,
        evidence_head: Option<[u8; 32]>,
    ) -> Result<p256::ecdsa::Signature, SdkError> {
        let share = self.p256_share(key_id)?;
        let (session, round1) =
            PhoneSign::start(&share, message.bytes(), &mut getrandom::SysRng).map_err(protocol)?;
        let sign_id = hex::encode(round1.sign_id());
        let body = P256SignRequest {
            idempotency_key: random_id(16)?,
            pin: pin.clone(),
            evidence_head: evidence_head.map(hex::encode),
            message,
            sign: P256Hex::of(round1.as_bytes()),
        };
        drop(round1);
        let resp: P256SignResponse = self
            .send_as_with(
                key_id,
                "POST",
                &format!("/v1/keys/{key_id}/p256/sign"),
                Some(&body),
                REPEATABLE,
            )
            .await?;
        if resp.sign_id != sign_id {
            return Err(SdkError::ServerMisbehaved(
                "the answer names another signing session".into(),
            ));
        }
        let reply1 = SignReply1::from_bytes(&answer(&resp.sign, MAX_P256_SIGN_REPLY_1_BYTES)?)
            .map_err(protocol)?;
        let (session, round2) = session.receive(&reply1).map_err(protocol)?;
        let body = P256SignFinishRequest {
            sign: P256Hex::of(round2.as_bytes()),
        };
        let resp: P256SignFinishResponse = self
            .send_as_with(
                key_id,
                "POST",
                &format!("/v1/keys/{key_id}/p256/sign/{sign_id}/finish"),
                Some(&body),
                REPEATABLE,
            )
            .await?;
        let reply2 =
            SignReply2::from_bytes(&answer(&resp.sign, MAX_P256_SMALL_BYTES)?).map_err(protocol)?;
        session.finish(&reply2).map_err(protocol)
    }

    /// Co-sign a short message (at most 8 KiB) with a two-party P-256 key: ECDSA P-256 with
    /// SHA-256 of `message`, verified against the joint key before it is returned.
    pub async fn sign_message_p256(
        &self,
        key_id: &str,
        pin: &Pin,
        message: &[u8],
        evidence_head: Option<[u8; 32]>,
    ) -> Result<p256::ecdsa::Signature, SdkError> {
        let message = SignedMessage::new(MessageKind::Raw, message.to_vec())
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        self.sign_signed_message_p256(key_id, pin, message, evidence_head)
            .await
    }

    /// Obtain an ecdsa-with-SHA256 certificate for a P-256 key: a CSR with the asserted name,
    /// co-signed through the two P-256 round trips (proof of possession, and the server's
    /// confirmation that both sides hold the same key), issued by the server's CA from its
    /// P-256 root, checked against the joint key and that root, and kept with the share.
    pub async fn request_certificate_p256(
        &self,
        key_id: &str,
        pin: &Pin,
        evidence_head: Option<[u8; 32]>,
    ) -> Result<(Vec<u8>, Vec<u8>), SdkError> {
        let public_key = self.p256_public_key(key_id)?;
        let stored = self.stored(key_id)?;
        let tbs = inkseal_pki::p256_csr_to_be_signed(
            &public_key,
            &crate::client::certificate_name(&stored),
        )
        .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let sig = self
            .sign_signed_message_p256(
                key_id,
                pin,
                crate::client::csr_message(&tbs)?,
                evidence_head,
            )
            .await?;
        let csr = inkseal_pki::assemble_p256_csr(&tbs, &sig)
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let (cert, ca) = self.submit_csr(key_id, csr).await?;
        inkseal_pki::check_p256_issued_for(&cert, &ca, &public_key, crate::client::now_unix())
            .map_err(|e| SdkError::ServerMisbehaved(format!("issued certificate: {e}")))?;
        self.keep_certificate(stored, cert, ca)
    }
}
