//! The co-signing client: enrollment, certificate, signing, over HTTP(S) with reqwest.

use crate::transport::{HttpRequest, MAX_RESPONSE_BYTES, Transport, TransportError};
use crate::{SdkError, ShareStore, StoredShare};
use inkseal_cosign::api::{
    CertificateRequest, CertificateResponse, CosignRequest, CosignResponse, EnrollRequest,
    EnrollResponse, ErrorBody, ErrorCode, KeyStatus, Pin,
};
use inkseal_cosign::sm2::{self, dsa::Signature};
use inkseal_cosign::{ClientKeyShare, ClientKeygen, CosignError};
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
    /// Retries after a network failure (same request, same idempotency key).
    pub retries: u32,
}

impl ClientConfig {
    /// Defaults: 10 s per request, 5 s to connect, 2 retries, system roots.
    pub fn new(server_url: impl Into<String>) -> Self {
        ClientConfig {
            server_url: server_url.into(),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            trusted_server_certs_pem: Vec::new(),
            retries: 2,
        }
    }
}

/// A finished enrollment.
#[derive(Clone, Debug)]
pub struct Enrollment {
    /// Key id to sign with.
    pub key_id: String,
    /// User the key belongs to.
    pub user_id: String,
    /// The joint public key.
    pub public_key: sm2::PublicKey,
}

/// Talks to the co-signing server on behalf of one device.
#[derive(Clone)]
pub struct CosignClient {
    http: reqwest::Client,
    /// The app's own HTTP stack, used instead of `http` when set.
    transport: Option<Arc<dyn Transport>>,
    timeout: Duration,
    base: String,
    store: Arc<dyn ShareStore>,
    retries: u32,
    /// Shares already loaded from the store (with their verification tables), by key id.
    shares: Arc<Mutex<HashMap<String, Arc<ClientKeyShare>>>>,
}

impl std::fmt::Debug for CosignClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CosignClient")
            .field("server", &self.base)
            .finish_non_exhaustive()
    }
}

fn random_id(bytes: usize) -> Result<String, SdkError> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).map_err(|e| SdkError::Storage(format!("random: {e}")))?;
    Ok(hex::encode(b))
}

fn misbehaved(e: CosignError) -> SdkError {
    SdkError::ServerMisbehaved(e.to_string())
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl CosignClient {
    /// Build a client storing shares in `store`.
    pub fn new(config: ClientConfig, store: Arc<dyn ShareStore>) -> Result<Self, SdkError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("inkseal-sdk/", env!("CARGO_PKG_VERSION")));
        if !config.trusted_server_certs_pem.is_empty() {
            // reqwest defers parsing: check each pin is a PEM certificate now, so a bad pin is
            // a configuration error here rather than a network error at the first request.
            for (i, pem) in config.trusted_server_certs_pem.iter().enumerate() {
                let bad =
                    |why: &str| SdkError::InvalidInput(format!("pinned certificate {i}: {why}"));
                let text = std::str::from_utf8(pem).map_err(|_| bad("not PEM text"))?;
                let (label, der) =
                    inkseal_pki::pem_to_der(text).map_err(|e| bad(&e.to_string()))?;
                if label != "CERTIFICATE" || der.first() != Some(&0x30) {
                    return Err(bad("not a PEM CERTIFICATE block"));
                }
            }
            let certs = config
                .trusted_server_certs_pem
                .iter()
                .map(|pem| reqwest::Certificate::from_pem(pem))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| SdkError::InvalidInput(format!("pinned certificate: {e}")))?;
            builder = builder.tls_certs_only(certs);
        }
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
            retries: config.retries,
            shares: Arc::default(),
        })
    }

    /// Sends requests through the app's own HTTP stack instead of reqwest (the pinned
    /// certificates of the configuration then do not apply: pin in the app's stack).
    pub fn with_transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    pub(crate) async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, SdkError> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            let result = match &self.transport {
                None => self.send_reqwest(&url, body).await,
                Some(t) => self.send_custom(t.clone(), &url, body).await,
            };
            match result {
                Ok((status, bytes)) => return decode_body(status, &bytes),
                Err(Delivery::Retryable(_)) if attempt < self.retries => {
                    attempt += 1;
                    tracing::warn!(attempt, "request to the co-signing server failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Err(Delivery::Retryable(e) | Delivery::Final(e)) => return Err(e),
            }
        }
    }

    async fn send_reqwest<B: Serialize>(
        &self,
        url: &str,
        body: Option<&B>,
    ) -> Result<(u16, Vec<u8>), Delivery> {
        let req = match body {
            Some(b) => self.http.post(url).json(b),
            None => self.http.get(url),
        };
        let classify = |e: reqwest::Error| {
            if e.is_connect() || e.is_timeout() {
                Delivery::Retryable(e.into())
            } else {
                Delivery::Final(e.into())
            }
        };
        let resp = req.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(classify)?;
        Ok((status, bytes.to_vec()))
    }

    async fn send_custom<B: Serialize>(
        &self,
        transport: Arc<dyn Transport>,
        url: &str,
        body: Option<&B>,
    ) -> Result<(u16, Vec<u8>), Delivery> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| Delivery::Final(SdkError::InvalidInput(e.to_string())))?;
        let request = HttpRequest {
            method: if body.is_some() { "POST" } else { "GET" }.into(),
            url: url.to_owned(),
            body,
            timeout: self.timeout,
        };
        let answer = tokio::task::spawn_blocking(move || transport.send(request))
            .await
            .map_err(|e| Delivery::Final(SdkError::Network(format!("transport task: {e}"))))?;
        match answer {
            Ok(r) => Ok((r.status, r.body)),
            Err(TransportError::Unreachable(m)) => Err(Delivery::Retryable(SdkError::Network(m))),
            Err(TransportError::Failed(m)) => Err(Delivery::Final(SdkError::Network(m))),
        }
    }

    fn stored(&self, key_id: &str) -> Result<StoredShare, SdkError> {
        self.store
            .load(key_id)?
            .ok_or_else(|| SdkError::UnknownKey(format!("no share for {key_id} on this device")))
    }

    /// The device share for `key_id`, from the cache or the store.
    fn share(&self, key_id: &str) -> Result<Arc<ClientKeyShare>, SdkError> {
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

    /// Create a split key for `user_id` protected by `pin`, and keep the device share.
    pub async fn enroll(&self, user_id: &str, pin: &Pin) -> Result<Enrollment, SdkError> {
        if !pin.is_acceptable() {
            return Err(SdkError::InvalidInput(
                "PIN must be 6-32 characters without control characters".into(),
            ));
        }
        let enrollment_id = random_id(16)?;
        let (keygen, request) = ClientKeygen::start(&enrollment_id).map_err(misbehaved)?;
        let body = EnrollRequest {
            user_id: user_id.to_owned(),
            pin: pin.clone(),
            keygen: request,
        };
        let resp: EnrollResponse = self.send("/v1/enroll", Some(&body)).await?;
        if resp.key_id != enrollment_id {
            return Err(SdkError::ServerMisbehaved("server renamed the key".into()));
        }
        let share = keygen.finish(&resp.keygen).map_err(misbehaved)?;
        self.store.save(&StoredShare {
            key_id: share.key_id().to_owned(),
            user_id: user_id.to_owned(),
            public_key: share.public_key().to_sec1_bytes().to_vec(),
            secret: share.secret_bytes().to_vec(),
            certificate: None,
        })?;
        Ok(Enrollment {
            key_id: share.key_id().to_owned(),
            user_id: user_id.to_owned(),
            public_key: *share.public_key(),
        })
    }

    /// Co-sign the digest `e` (= SM3(Z_A || M)); the signature is verified before it is returned.
    ///
    /// `evidence_head` binds an evidence manifest to this signature on the server.
    pub async fn sign_digest(
        &self,
        key_id: &str,
        pin: &Pin,
        e: &[u8; 32],
        evidence_head: Option<[u8; 32]>,
    ) -> Result<Signature, SdkError> {
        let share = self.share(key_id)?;
        // s == 0 has probability ~2^-256; a bounded retry keeps the API total anyway.
        for _ in 0..3 {
            let (session, sign) = share.start_sign(e).map_err(misbehaved)?;
            let body = CosignRequest {
                idempotency_key: random_id(16)?,
                pin: pin.clone(),
                evidence_head: evidence_head.map(hex::encode),
                sign,
            };
            let resp: CosignResponse = self
                .send(&format!("/v1/keys/{key_id}/sign"), Some(&body))
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

    /// Co-sign a message: e = SM3(Z_A || message) with the default signer ID.
    pub async fn sign_message(
        &self,
        key_id: &str,
        pin: &Pin,
        message: &[u8],
    ) -> Result<Signature, SdkError> {
        let e = self.share(key_id)?.digest(message);
        self.sign_digest(key_id, pin, &e, None).await
    }

    /// Obtain a certificate for the joint key: build a CSR, co-sign it (proof of possession),
    /// have the server's CA issue, and check the certificate is for our key and from that CA.
    ///
    /// Returns `(certificate DER, CA certificate DER)`; the certificate is kept with the share.
    pub async fn request_certificate(
        &self,
        key_id: &str,
        pin: &Pin,
    ) -> Result<(Vec<u8>, Vec<u8>), SdkError> {
        self.request_certificate_with_evidence(key_id, pin, None)
            .await
    }

    /// [`CosignClient::request_certificate`] for a key whose signing policy requires liveness:
    /// the CSR's co-signature presents the evidence with head `evidence_head` (identity
    /// proofing before the certificate is issued).
    pub async fn request_certificate_with_evidence(
        &self,
        key_id: &str,
        pin: &Pin,
        evidence_head: Option<[u8; 32]>,
    ) -> Result<(Vec<u8>, Vec<u8>), SdkError> {
        let share = self.share(key_id)?;
        let mut stored = self.stored(key_id)?;
        let tbs = inkseal_pki::csr_to_be_signed(share.public_key(), &stored.user_id)
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let e = share.digest(&tbs);
        let sig = self.sign_digest(key_id, pin, &e, evidence_head).await?;
        let csr = inkseal_pki::assemble_csr(&tbs, &sig)
            .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
        let body = CertificateRequest {
            csr_der_hex: hex::encode(csr),
        };
        let resp: CertificateResponse = self
            .send(&format!("/v1/keys/{key_id}/certificate"), Some(&body))
            .await?;
        let cert = hex::decode(&resp.certificate_der_hex)
            .map_err(|_| SdkError::ServerMisbehaved("certificate is not hex".into()))?;
        let ca = hex::decode(&resp.ca_certificate_der_hex)
            .map_err(|_| SdkError::ServerMisbehaved("CA certificate is not hex".into()))?;
        inkseal_pki::check_issued_for(&cert, &ca, share.public_key(), now_unix())
            .map_err(|e| SdkError::ServerMisbehaved(format!("issued certificate: {e}")))?;
        stored.certificate = Some(cert.clone());
        self.store.save(&stored)?;
        Ok((cert, ca))
    }

    /// The server's view of a key (lock state, failures, certificate).
    pub async fn status(&self, key_id: &str) -> Result<KeyStatus, SdkError> {
        self.send::<(), _>(&format!("/v1/keys/{key_id}"), None)
            .await
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
    Err(match body.code {
        ErrorCode::WrongPin => SdkError::WrongPin {
            attempts_left: body.attempts_left.unwrap_or(0),
        },
        ErrorCode::Locked => SdkError::Locked,
        ErrorCode::UnknownKey => SdkError::UnknownKey(body.message),
        ErrorCode::EvidenceRequired => SdkError::EvidenceRequired(body.message),
        ErrorCode::ChallengeInvalid => SdkError::CaptureRejected {
            reason: body.message,
        },
        _ => SdkError::Refused(body.message),
    })
}
