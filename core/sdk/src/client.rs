//! The co-signing client: enrollment, certificate, signing, key lifecycle, over HTTP(S) with
//! reqwest (or the app's own transport). Every request about a key is signed by the key's
//! device key; the enrollment is signed by the new device key it registers.

use crate::device_key::{DeviceKeyStore, signature_from_store};
use crate::transport::{HttpRequest, MAX_RESPONSE_BYTES, Transport, TransportError};
use crate::{SdkError, ShareStore, StoredShare};
use inkseal_capture::RecoveryAction;
use inkseal_cosign::api::{
    CertificateRequest, CertificateResponse, CosignRequest, CosignResponse, DeviceKeyRegistration,
    EnrollRequest, EnrollResponse, EnrollmentTicket, ErrorBody, ErrorCode, KeyPurpose, KeyStatus,
    MessageKind, Pin, PinChangeRequest, PinPolicy, RevocationReason, RevokeRequest, SignedMessage,
};
use inkseal_cosign::sm2::{self, dsa::Signature};
use inkseal_cosign::{ClientKeyShare, ClientKeygen, CosignError};
use inkseal_httpsig::{RequestTarget, SignatureParams, SignerError};
use inkseal_pdf::cms::attached::PreparedAttached;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to reach the server.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Base URL, e.g. `https://cosign.example.com`.
    pub server_url: String,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// When non-empty, only these PEM certificates are trusted for HTTPS (pinning).
    pub trusted_server_certs_pem: Vec<Vec<u8>>,
    /// Retries after a network failure (same request, same idempotency key, signed anew).
    pub retries: u32,
    /// The PIN rules the app checks before sending a new PIN (the server's decide).
    pub pin_policy: PinPolicy,
}

impl ClientConfig {
    /// Defaults: 10 s per request, 5 s to connect, 2 retries, system roots, default PIN rules.
    pub fn new(server_url: impl Into<String>) -> Self {
        ClientConfig {
            server_url: server_url.into(),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            trusted_server_certs_pem: Vec::new(),
            retries: 2,
            pin_policy: PinPolicy::default(),
        }
    }
}

/// A finished enrollment.
#[derive(Clone, Debug)]
pub struct Enrollment {
    /// Key id to sign with (chosen by the server).
    pub key_id: String,
    /// User the key belongs to (the institution's id, from the ticket).
    pub user_id: String,
    /// The name the institution asserted for the key's certificate.
    pub certificate_name: String,
    /// The joint public key.
    pub public_key: sm2::PublicKey,
}

/// The device key that signs a request: every request the SDK makes is about a key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Auth<'a> {
    /// The `keyid` the server looks the key up by (key id, or the ticket id at enrollment).
    pub(crate) keyid: &'a str,
    /// The alias in the device key store.
    pub(crate) alias: &'a str,
}

/// Talks to the co-signing server on behalf of one device.
#[derive(Clone)]
pub struct CosignClient {
    http: reqwest::Client,
    /// The app's own HTTP stack, used instead of `http` when set.
    transport: Option<Arc<dyn Transport>>,
    timeout: Duration,
    base: String,
    pub(crate) store: Arc<dyn ShareStore>,
    pub(crate) device_keys: Arc<dyn DeviceKeyStore>,
    retries: u32,
    pin_policy: PinPolicy,
    /// Shares already loaded from the store (with their verification tables), by key id.
    shares: Arc<Mutex<HashMap<String, Arc<ClientKeyShare>>>>,
    /// Device key aliases already read from the store, by key id.
    aliases: Arc<Mutex<HashMap<String, String>>>,
}

impl std::fmt::Debug for CosignClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CosignClient")
            .field("server", &self.base)
            .finish_non_exhaustive()
    }
}

pub(crate) fn random_id(bytes: usize) -> Result<String, SdkError> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).map_err(|e| SdkError::Storage(format!("random: {e}")))?;
    Ok(hex::encode(b))
}

/// `N` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], SdkError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| SdkError::Storage(format!("random: {e}")))?;
    Ok(b)
}

pub(crate) fn misbehaved(e: CosignError) -> SdkError {
    SdkError::ServerMisbehaved(e.to_string())
}

/// The name a key's certificate request asks for: the one the institution asserted, else the
/// user id.
pub(crate) fn certificate_name(stored: &StoredShare) -> String {
    if stored.certificate_name.is_empty() {
        stored.user_id.clone()
    } else {
        stored.certificate_name.clone()
    }
}

/// The co-signing message of a certificate request's to-be-signed bytes.
pub(crate) fn csr_message(tbs: &[u8]) -> Result<SignedMessage, SdkError> {
    SignedMessage::new(MessageKind::CertificationRequest, tbs.to_vec())
        .map_err(|e| SdkError::InvalidInput(e.to_string()))
}

pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl CosignClient {
    /// Build a client storing shares in `store` and device keys in `device_keys`.
    pub fn new(
        config: ClientConfig,
        store: Arc<dyn ShareStore>,
        device_keys: Arc<dyn DeviceKeyStore>,
    ) -> Result<Self, SdkError> {
        let mut builder = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("inkseal-sdk/", env!("CARGO_PKG_VERSION")));
        // Check each pin is a PEM certificate now, so a bad pin is a configuration error here
        // rather than a network error at the first request.
        let mut pinned = Vec::with_capacity(config.trusted_server_certs_pem.len());
        for (i, pem) in config.trusted_server_certs_pem.iter().enumerate() {
            let bad = |why: &str| SdkError::InvalidInput(format!("pinned certificate {i}: {why}"));
            let text = std::str::from_utf8(pem).map_err(|_| bad("not PEM text"))?;
            let (label, der) = inkseal_pki::pem_to_der(text).map_err(|e| bad(&e.to_string()))?;
            if label != "CERTIFICATE" || der.first() != Some(&0x30) {
                return Err(bad("not a PEM CERTIFICATE block"));
            }
            pinned.push(rustls::pki_types::CertificateDer::from(der));
        }
        builder = builder.tls_backend_preconfigured(crate::tls::client_config(pinned)?);
        let http = builder
            .build()
            .map_err(|e| SdkError::InvalidInput(format!("HTTP client: {e}")))?;
        let base = config.server_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(SdkError::InvalidInput(format!(
                "server URL must start with http:// or https://, got {base:?}"
            )));
        }
        Ok(CosignClient {
            http,
            transport: None,
            timeout: config.request_timeout,
            base,
            store,
            device_keys,
            retries: config.retries,
            pin_policy: config.pin_policy,
            shares: Arc::default(),
            aliases: Arc::default(),
        })
    }

    /// Sends requests through the app's own HTTP stack instead of reqwest (the pinned
    /// certificates of the configuration then do not apply: pin in the app's stack).
    pub fn with_transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The path part of the base URL (a server mounted under a prefix signs its full path).
    fn base_path(&self) -> &str {
        let after_scheme = self.base.split_once("://").map(|(_, r)| r).unwrap_or("");
        after_scheme
            .find('/')
            .map(|i| &after_scheme[i..])
            .unwrap_or("")
    }

    /// The headers of one attempt: content type and the device signature (a fresh nonce and
    /// time per attempt, so a retry is not a replay).
    async fn headers(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        auth: Auth<'_>,
    ) -> Result<Vec<(String, String)>, SdkError> {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        let Auth { keyid, alias } = auth;
        let full_path = format!("{}{path}", self.base_path());
        let params = SignatureParams::new(keyid, now_unix(), &random_id(16)?)
            .map_err(|e| SdkError::InvalidInput(format!("request signature: {e}")))?;
        let target = RequestTarget::new(method, &full_path, body)
            .map_err(|e| SdkError::InvalidInput(format!("request signature: {e}")))?;
        let base = inkseal_httpsig::signature_base(&target, &params);
        let signed = if self.device_keys.may_block() {
            // A platform key store may block (a biometric prompt): off the async threads.
            let store = self.device_keys.clone();
            let alias = alias.to_owned();
            tokio::task::spawn_blocking(move || store.sign(&alias, base.as_bytes()))
                .await
                .map_err(|e| SdkError::Storage(format!("device key task: {e}")))??
        } else {
            self.device_keys.sign(alias, base.as_bytes())?
        };
        let signature = signature_from_store(&signed)?;
        let signer = move |_: &[u8]| Ok::<_, SignerError>(signature);
        let signed = inkseal_httpsig::sign_request(&target, &params, &signer)
            .map_err(|e| SdkError::Storage(format!("request signature: {e}")))?;
        headers.push((
            inkseal_httpsig::CONTENT_DIGEST_HEADER.to_owned(),
            signed.content_digest,
        ));
        headers.push((
            inkseal_httpsig::SIGNATURE_INPUT_HEADER.to_owned(),
            signed.signature_input,
        ));
        headers.push((
            inkseal_httpsig::SIGNATURE_HEADER.to_owned(),
            signed.signature,
        ));
        Ok(headers)
    }

    pub(crate) async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
        auth: Auth<'_>,
    ) -> Result<T, SdkError> {
        self.send_with(method, path, body, auth, Delivering::default())
            .await
    }

    /// [`CosignClient::send`] with its own retry and time limits (a step that must not be
    /// sent twice, a step that takes long).
    pub(crate) async fn send_with<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
        auth: Auth<'_>,
        how: Delivering,
    ) -> Result<T, SdkError> {
        let url = format!("{}{path}", self.base);
        let body = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| SdkError::InvalidInput(e.to_string()))?,
            None => Vec::new(),
        };
        let (status, bytes) = self
            .deliver_with(
                method,
                &url,
                &body,
                || self.headers(method, path, &body, auth),
                how,
            )
            .await?;
        decode_body(status, &bytes)
    }

    /// POST `body` of `content_type` to `path` without a device signature (the public RFC 3161
    /// time-stamping authority) and return the body of a 200 answer.
    pub(crate) async fn send_bytes(
        &self,
        path: &str,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, SdkError> {
        let url = format!("{}{path}", self.base);
        let (status, bytes) = self
            .deliver("POST", &url, &body, || async {
                Ok(vec![("content-type".to_owned(), content_type.to_owned())])
            })
            .await?;
        if bytes.len() > MAX_RESPONSE_BYTES {
            return Err(SdkError::ServerMisbehaved("response too large".into()));
        }
        if status == 200 {
            return Ok(bytes);
        }
        let body: ErrorBody = serde_json::from_slice(&bytes).map_err(|_| {
            SdkError::ServerMisbehaved(format!("HTTP {status} without an error body"))
        })?;
        Err(error_from_body(body))
    }

    /// Send one request through the transport, retrying what may be retried; `headers` makes
    /// each attempt's headers (a fresh device signature per attempt).
    async fn deliver<F, Fut>(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        headers: F,
    ) -> Result<(u16, Vec<u8>), SdkError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<(String, String)>, SdkError>>,
    {
        self.deliver_with(method, url, body, headers, Delivering::default())
            .await
    }

    /// [`CosignClient::deliver`] with `how`'s limits.
    async fn deliver_with<F, Fut>(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        headers: F,
        how: Delivering,
    ) -> Result<(u16, Vec<u8>), SdkError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<(String, String)>, SdkError>>,
    {
        let retries = if how.once { 0 } else { self.retries };
        let timeout = self.timeout.max(how.at_least);
        let mut attempt = 0;
        loop {
            let request = HttpRequest {
                method: method.to_owned(),
                url: url.to_owned(),
                headers: headers().await?,
                body: (method != "GET").then(|| body.to_vec()),
                timeout,
            };
            let result = match &self.transport {
                None => self.send_reqwest(request).await,
                Some(t) => self.send_custom(t.clone(), request).await,
            };
            match result {
                Ok(answer) => return Ok(answer),
                Err(Delivery::Retryable(_)) if attempt < retries => {
                    attempt += 1;
                    tracing::warn!(attempt, "request to the co-signing server failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Err(Delivery::Retryable(e) | Delivery::Final(e)) => return Err(e),
            }
        }
    }

    async fn send_reqwest(&self, request: HttpRequest) -> Result<(u16, Vec<u8>), Delivery> {
        let mut req = match request.method.as_str() {
            "GET" => self.http.get(&request.url),
            _ => self.http.post(&request.url),
        };
        for (name, value) in &request.headers {
            req = req.header(name.as_str(), value.as_str());
        }
        if let Some(body) = request.body {
            req = req.body(body);
        }
        // Per request (the client's default, or longer for a slow step).
        req = req.timeout(request.timeout);
        let classify = |e: reqwest::Error| {
            if e.is_connect() || e.is_timeout() {
                Delivery::Retryable(e.into())
            } else {
                Delivery::Final(e.into())
            }
        };
        let resp = req.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(Delivery::Final(SdkError::ServerMisbehaved(
                "response too large".into(),
            )));
        }
        let bytes = resp.bytes().await.map_err(classify)?;
        Ok((status, bytes.to_vec()))
    }

    async fn send_custom(
        &self,
        transport: Arc<dyn Transport>,
        request: HttpRequest,
    ) -> Result<(u16, Vec<u8>), Delivery> {
        let answer = tokio::task::spawn_blocking(move || transport.send(request))
            .await
            .map_err(|e| Delivery::Final(SdkError::Network(format!("transport task: {e}"))))?;
        match answer {
            Ok(r) => Ok((r.status, r.body)),
            Err(TransportError::Unreachable(m)) => Err(Delivery::Retryable(SdkError::Network(m))),
            Err(TransportError::Failed(m)) => Err(Delivery::Final(SdkError::Network(m))),
        }
    }

    pub(crate) fn stored(&self, key_id: &str) -> Result<StoredShare, SdkError> {
        self.store
            .load(key_id)?
            .ok_or_else(|| SdkError::UnknownKey(format!("no share for {key_id} on this device")))
    }

    /// Send a request about `key_id`, signed by its device key.
    pub(crate) async fn send_as<B: Serialize, T: DeserializeOwned>(
        &self,
        key_id: &str,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, SdkError> {
        self.send_as_with(key_id, method, path, body, Delivering::default())
            .await
    }

    /// [`CosignClient::send_as`] with `how`'s limits.
    pub(crate) async fn send_as_with<B: Serialize, T: DeserializeOwned>(
        &self,
        key_id: &str,
        method: &str,
        path: &str,
        body: Option<&B>,
        how: Delivering,
    ) -> Result<T, SdkError> {
        let alias = self.device_key_alias(key_id)?;
        let auth = Auth {
            keyid: key_id,
            alias: &alias,
        };
        self.send_with(method, path, body, auth, how).await
    }

    /// The alias of `key_id`'s device key, from the cache or the store.
    fn device_key_alias(&self, key_id: &str) -> Result<String, SdkError> {
        let lock_err = || SdkError::Storage("alias cache poisoned".into());
        if let Some(a) = self.aliases.lock().map_err(|_| lock_err())?.get(key_id) {
            return Ok(a.clone());
        }
        let alias = self.stored(key_id)?.device_key_alias.clone();
        self.aliases
            .lock()
            .map_err(|_| lock_err())?
            .insert(key_id.to_owned(), alias.clone());
        Ok(alias)
    }

    /// The device share for `key_id`, from the cache or the store.
    pub(crate) fn share(&self, key_id: &str) -> Result<Arc<ClientKeyShare>, SdkError> {
        let lock_err = || SdkError::Storage("share cache poisoned".into());
        if let Some(s) = self.shares.lock().map_err(|_| lock_err())?.get(key_id) {
            return Ok(s.clone());
        }
        let stored = self.stored(key_id)?;
        let secret: [u8; 32] = stored
            .secret
            .as_slice()
            .try_into()
            .map_err(|_| SdkError::Storage("stored share has the wrong length".into()))?;
        let secret = zeroize::Zeroizing::new(secret);
        let share = Arc::new(
            ClientKeyShare::from_parts(key_id, &secret, &stored.public_key)
                .map_err(|e| SdkError::Storage(format!("stored share is invalid: {e}")))?,
        );
        self.shares
            .lock()
            .map_err(|_| lock_err())?
            .insert(key_id.to_owned(), share.clone());
        Ok(share)
    }

    /// Check a new PIN against the app's copy of the PIN policy (the server checks again).
    pub(crate) fn check_new_pin(&self, pin: &Pin) -> Result<(), SdkError> {
        self.pin_policy
            .check(pin)
            .map_err(|e| SdkError::PinRejected(e.to_string()))
    }

    /// Create a split key with the enrollment `ticket` the institution issued, protected by
    /// `pin`: a new device key is made (and attested where the platform can), the key is
    /// generated in one round trip, and the device share is kept.
    pub async fn enroll(&self, ticket: &str, pin: &Pin) -> Result<Enrollment, SdkError> {
        self.enroll_for(ticket, pin, KeyPurpose::Signing).await
    }

    /// Enroll a key for `purpose`: [`CosignClient::enroll`] enrolls a signing key; an
    /// [`KeyPurpose::Encryption`] key opens envelopes with two-party decryption
    /// ([`CosignClient::decrypt_sm2`]) and co-signs nothing but its own certificate request
    /// ([`CosignClient::request_certificate`], which then yields a keyEncipherment
    /// certificate). Enroll each purpose with its own ticket.
    pub async fn enroll_for(
        &self,
        ticket: &str,
        pin: &Pin,
        purpose: KeyPurpose,
    ) -> Result<Enrollment, SdkError> {
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
        let result = self
            .enroll_with_device_key(&ticket, pin, &alias, device, purpose)
            .await;
        if result.is_err() {
            // The server never knew this device key, or refused it: do not leave it behind.
            let _ = self.device_keys.delete(&alias);
        }
        result
    }

    async fn enroll_with_device_key(
        &self,
        ticket: &EnrollmentTicket,
        pin: &Pin,
        alias: &str,
        device: crate::DeviceKeyInfo,
        purpose: KeyPurpose,
    ) -> Result<Enrollment, SdkError> {
        let (keygen, request) = ClientKeygen::start(ticket.id()).map_err(misbehaved)?;
        let body = EnrollRequest {
            ticket: ticket.clone(),
            pin: pin.clone(),
            device_key: DeviceKeyRegistration {
                public_key_spki_hex: hex::encode(&device.public_key_spki_der),
                attestation: device.attestation,
            },
            keygen: request,
            purpose,
        };
        let auth = Auth {
            keyid: ticket.id(),
            alias,
        };
        let resp: EnrollResponse = self.send("POST", "/v1/enroll", Some(&body), auth).await?;
        if !inkseal_cosign::valid_id(&resp.key_id) {
            return Err(SdkError::ServerMisbehaved("the key id is malformed".into()));
        }
        let share = keygen.finish(&resp.keygen).map_err(misbehaved)?;
        // The proofs were bound to the ticket id; the key lives under the server's key id.
        let share = ClientKeyShare::from_parts(
            &resp.key_id,
            &share.secret_bytes(),
            &share.public_key().to_sec1_bytes(),
        )
        .map_err(misbehaved)?;
        self.store.save(&StoredShare {
            key_id: resp.key_id.clone(),
            user_id: resp.user_id.clone(),
            certificate_name: resp.certificate_name.clone(),
            device_key_alias: alias.to_owned(),
            public_key: share.public_key().to_sec1_bytes().to_vec(),
            secret: share.secret_bytes().to_vec(),
            certificate: None,
            ca_certificate: None,
            curve: inkseal_cosign::api::KeyCurve::Sm2,
        })?;
        Ok(Enrollment {
            key_id: resp.key_id,
            user_id: resp.user_id,
            certificate_name: resp.certificate_name,
            public_key: *share.public_key(),
        })
    }

    /// The one co-signing round trip of an attached SignedData (a transaction, a login
    /// assertion): `prepare` builds it for the key's certificate at the current time, the
    /// server co-signs its signed attributes with its content (read as `kind`). Returns the
    /// prepared SignedData and the co-signature (DER) for its `finish`.
    pub(crate) async fn co_sign_attached<E: std::fmt::Display>(
        &self,
        key_id: &str,
        pin: &Pin,
        kind: MessageKind,
        evidence_head: Option<[u8; 32]>,
        prepare: impl FnOnce(Vec<u8>, u64) -> Result<PreparedAttached, E>,
    ) -> Result<(PreparedAttached, Vec<u8>), SdkError> {
        let certificate = self
            .certificate(key_id)?
            .ok_or_else(|| SdkError::InvalidInput("the key has no certificate yet".into()))?;
        let prepared =
            prepare(certificate, now_unix()).map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let message = SignedMessage::with_content(
            kind,
            prepared.to_be_signed().to_vec(),
            prepared.content().to_vec(),
        )
        .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let signature = self
            .sign_signed_message(key_id, pin, message, evidence_head)
            .await?;
        Ok((prepared, inkseal_pki::signature_to_der(&signature)))
    }

    /// Co-sign `message` (read by the server as `kind`); the signature is verified before it
    /// is returned. `evidence_head` binds an evidence manifest to this signature.
    pub(crate) async fn sign_signed_message(
        &self,
        key_id: &str,
        pin: &Pin,
        message: SignedMessage,
        evidence_head: Option<[u8; 32]>,
    ) -> Result<Signature, SdkError> {
        let share = self.share(key_id)?;
        let e = share.digest(message.bytes());
        // s == 0 has probability ~2^-256; a bounded retry keeps the API total anyway.
        for _ in 0..3 {
            let (session, sign) = share.start_sign(&e).map_err(misbehaved)?;
            let body = CosignRequest {
                idempotency_key: random_id(16)?,
                pin: pin.clone(),
                evidence_head: evidence_head.map(hex::encode),
                message: message.clone(),
                sign,
            };
            let resp: CosignResponse = self
                .send_as(
                    key_id,
                    "POST",
                    &format!("/v1/keys/{key_id}/sign"),
                    Some(&body),
                )
                .await?;
            match session.finish(&resp.sign) {
                Ok(sig) => return Ok(sig),
                Err(CosignError::Degenerate) => continue,
                Err(e) => return Err(misbehaved(e)),
            }
        }
        Err(SdkError::ServerMisbehaved(
            "repeated degenerate signatures".into(),
        ))
    }

    /// Co-sign a short message (at most 8 KiB): e = SM3(Z_A || message) with the default
    /// signer ID. With a liveness policy, `evidence_head` must name evidence that bound
    /// SM3(message) as its document.
    pub async fn sign_message(
        &self,
        key_id: &str,
        pin: &Pin,
        message: &[u8],
        evidence_head: Option<[u8; 32]>,
    ) -> Result<Signature, SdkError> {
        let message = SignedMessage::new(MessageKind::Raw, message.to_vec())
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        self.sign_signed_message(key_id, pin, message, evidence_head)
            .await
    }

    /// Obtain a certificate for the joint key: build a CSR with the name the institution
    /// asserted, co-sign it (proof of possession), have the server's CA issue, and check the
    /// certificate is for our key and from that CA. When the key's policy requires liveness,
    /// `evidence_head` names the identity proofing's evidence.
    ///
    /// Returns `(certificate DER, CA certificate DER)`; the certificate is kept with the share.
    pub async fn request_certificate(
        &self,
        key_id: &str,
        pin: &Pin,
        evidence_head: Option<[u8; 32]>,
    ) -> Result<(Vec<u8>, Vec<u8>), SdkError> {
        let share = self.share(key_id)?;
        let stored = self.stored(key_id)?;
        let tbs = inkseal_pki::csr_to_be_signed(share.public_key(), &certificate_name(&stored))
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let sig = self
            .sign_signed_message(key_id, pin, csr_message(&tbs)?, evidence_head)
            .await?;
        let csr = inkseal_pki::assemble_csr(&tbs, &sig)
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let (cert, ca) = self.submit_csr(key_id, csr).await?;
        inkseal_pki::check_issued_for(&cert, &ca, share.public_key(), now_unix())
            .map_err(|e| SdkError::ServerMisbehaved(format!("issued certificate: {e}")))?;
        self.keep_certificate(stored, cert, ca)
    }

    /// Send a co-signed certificate request for `key_id` to the server's CA: the issued
    /// certificate and the CA's certificate (DER), not yet checked.
    pub(crate) async fn submit_csr(
        &self,
        key_id: &str,
        csr: Vec<u8>,
    ) -> Result<(Vec<u8>, Vec<u8>), SdkError> {
        let body = CertificateRequest {
            csr_der_hex: hex::encode(csr),
        };
        let resp: CertificateResponse = self
            .send_as(
                key_id,
                "POST",
                &format!("/v1/keys/{key_id}/certificate"),
                Some(&body),
            )
            .await?;
        let cert = hex::decode(&resp.certificate_der_hex)
            .map_err(|_| SdkError::ServerMisbehaved("certificate is not hex".into()))?;
        let ca = hex::decode(&resp.ca_certificate_der_hex)
            .map_err(|_| SdkError::ServerMisbehaved("CA certificate is not hex".into()))?;
        Ok((cert, ca))
    }

    /// Keep a checked certificate and its CA's with the share.
    pub(crate) fn keep_certificate(
        &self,
        mut stored: StoredShare,
        cert: Vec<u8>,
        ca: Vec<u8>,
    ) -> Result<(Vec<u8>, Vec<u8>), SdkError> {
        stored.certificate = Some(cert.clone());
        stored.ca_certificate = Some(ca.clone());
        self.store.save(&stored)?;
        Ok((cert, ca))
    }

    /// The server's view of a key (lock state, failures, revocation, certificate).
    pub async fn status(&self, key_id: &str) -> Result<KeyStatus, SdkError> {
        self.send_as::<(), _>(key_id, "GET", &format!("/v1/keys/{key_id}"), None)
            .await
    }

    /// Change the PIN (the old one counts as a PIN attempt; the new one must meet the PIN
    /// policy).
    pub async fn change_pin(&self, key_id: &str, old: &Pin, new: &Pin) -> Result<(), SdkError> {
        self.check_new_pin(new)?;
        let body = PinChangeRequest {
            old_pin: old.clone(),
            new_pin: new.clone(),
        };
        let _: serde_json::Value = self
            .send_as(
                key_id,
                "POST",
                &format!("/v1/keys/{key_id}/pin"),
                Some(&body),
            )
            .await?;
        Ok(())
    }

    /// Revoke the key (PIN required): it never signs again and its certificate is listed in
    /// the CA's CRL. The device share and device key are forgotten.
    pub async fn revoke(
        &self,
        key_id: &str,
        pin: &Pin,
        reason: RevocationReason,
    ) -> Result<(), SdkError> {
        let body = RevokeRequest {
            pin: pin.clone(),
            reason,
        };
        let _: serde_json::Value = self
            .send_as(
                key_id,
                "POST",
                &format!("/v1/keys/{key_id}/revoke"),
                Some(&body),
            )
            .await?;
        self.forget(key_id)
    }

    /// Forget a key on this device: its share and its device key (the server keeps the key
    /// until it is revoked).
    pub fn forget(&self, key_id: &str) -> Result<(), SdkError> {
        if let Some(stored) = self.store.load(key_id)? {
            if !stored.device_key_alias.is_empty() {
                self.device_keys.delete(&stored.device_key_alias)?;
            }
        }
        self.store.delete(key_id)?;
        self.shares
            .lock()
            .map_err(|_| SdkError::Storage("share cache poisoned".into()))?
            .remove(key_id);
        self.aliases
            .lock()
            .map_err(|_| SdkError::Storage("alias cache poisoned".into()))?
            .remove(key_id);
        Ok(())
    }

    /// The certificate issued to a key held on this device, if any.
    pub fn certificate(&self, key_id: &str) -> Result<Option<Vec<u8>>, SdkError> {
        Ok(self.stored(key_id)?.certificate.clone())
    }

    /// The joint public key of a key held on this device.
    pub fn public_key(&self, key_id: &str) -> Result<sm2::PublicKey, SdkError> {
        Ok(*self.share(key_id)?.public_key())
    }

    /// e = SM3(Z_A || message) for a key held on this device.
    pub fn digest(&self, key_id: &str, message: &[u8]) -> Result<[u8; 32], SdkError> {
        Ok(self.share(key_id)?.digest(message))
    }
}

/// How one request is delivered: the client's retries and time limit unless said otherwise.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Delivering {
    /// Never sent twice: a step whose server state is consumed by the first copy that
    /// arrives (two-party P-256 enrollment trips), where a retry could only be refused.
    pub(crate) once: bool,
    /// The time limit is at least this (a slow step: P-256 key generation).
    pub(crate) at_least: Duration,
}

/// A failed delivery, and whether sending the same request again may help.
enum Delivery {
    Retryable(SdkError),
    Final(SdkError),
}

/// Turn an HTTP answer into a value or the matching [`SdkError`].
fn decode_body<T: DeserializeOwned>(status: u16, bytes: &[u8]) -> Result<T, SdkError> {
    if bytes.len() > MAX_RESPONSE_BYTES {
        return Err(SdkError::ServerMisbehaved("response too large".into()));
    }
    if (200..300).contains(&status) {
        return serde_json::from_slice(bytes)
            .map_err(|e| SdkError::ServerMisbehaved(format!("unexpected response: {e}")));
    }
    let body: ErrorBody = serde_json::from_slice(bytes)
        .map_err(|_| SdkError::ServerMisbehaved(format!("HTTP {status} without an error body")))?;
    Err(error_from_body(body))
}

/// The typed error of an error body (every code has its own meaning: no catch-all).
pub(crate) fn error_from_body(body: ErrorBody) -> SdkError {
    match body.code {
        ErrorCode::WrongPin => SdkError::WrongPin {
            attempts_left: body.attempts_left.unwrap_or(0),
        },
        ErrorCode::PinRejected => SdkError::PinRejected(body.message),
        ErrorCode::Locked => SdkError::Locked,
        ErrorCode::Revoked => SdkError::Revoked,
        ErrorCode::UnknownKey => SdkError::UnknownKey(body.message),
        ErrorCode::Unauthenticated => SdkError::Unauthenticated(body.message),
        ErrorCode::ClockSkew => SdkError::ClockSkew {
            server_time_unix: body.server_time_unix.unwrap_or(0),
        },
        ErrorCode::TicketInvalid => SdkError::TicketInvalid(body.message),
        ErrorCode::RateLimited => SdkError::RateLimited {
            retry_after_secs: body.retry_after_secs.unwrap_or(1),
        },
        ErrorCode::EvidenceRequired => SdkError::EvidenceRequired(body.message),
        ErrorCode::ChallengeInvalid => SdkError::CaptureRejected {
            reason: body.message,
            action: RecoveryAction::NewChallenge,
        },
        // The SDK sent something the server could not take: a bug to report, not a user error.
        ErrorCode::BadRequest | ErrorCode::UnsupportedMediaType | ErrorCode::TooLarge => {
            SdkError::Refused(body.message)
        }
        ErrorCode::Conflict
        | ErrorCode::NotFound
        | ErrorCode::PolicyRefused
        | ErrorCode::Forbidden
        // The server would not co-sign the transaction the app built (the message says why).
        | ErrorCode::TransactionRefused
        // The server would not co-sign the login assertion (unknown, expired, used or
        // mismatched challenge); verification codes reach only operators.
        | ErrorCode::LoginRefused
        | ErrorCode::LoginReplayed
        // A signing key asked to decrypt, an encryption key asked to sign.
        | ErrorCode::WrongKeyPurpose
        // A two-party P-256 session the server would not continue (used, expired, reused).
        | ErrorCode::SessionRefused
        | ErrorCode::Internal => SdkError::Refused(body.message),
        // The sealing service's codes; the phone never calls it.
        ErrorCode::UnknownSeal
        | ErrorCode::SealDisabled
        | ErrorCode::AlgorithmMismatch
        | ErrorCode::BadHash
        | ErrorCode::BatchTooLarge
        | ErrorCode::InvalidCreditCode
        | ErrorCode::EnvelopeRefused => SdkError::Refused(body.message),
    }
}
