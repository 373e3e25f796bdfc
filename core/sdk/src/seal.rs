//! The institution's side: a blocking client for the server's sealing service
//! (`/v1/admin/seals`, operator API key) and [`RemoteSeal`], a [`Signer`] whose key stays on the
//! server (in its PKCS#11 token, or sealed by its vault).
//!
//! The PDF never leaves the caller: it prepares each signature locally
//! ([`inkseal_pdf::sign::prepare`]), computes the digest of the signed attributes itself
//! ([`seal_digest`]: SHA-256 for P-256; `e = SM3(Z_A || signed attributes)` for SM2, with Z_A
//! from the seal certificate's public key and the default signer ID), sends only digests, and
//! checks every signature against the seal certificate before embedding it
//! ([`inkseal_pdf::sign::PreparedSignature::finish`] does). [`SealClient::seal_prepared`]
//! seals many prepared PDFs in one call (one audit entry per document on the server).
//!
//! The institution's encryption keys live in the same service (a seal record whose key purpose
//! is `encryption`): [`SealClient::create_encryption_key`] makes one, and
//! [`SealClient::open_envelope`] has the server open an envelope sent to its certificate (with a
//! PKCS#11 vault, a P-256 key computes the ECDH inside the token). Role `envelope:open`.
//!
//! Behind the `seal-client` feature (reqwest's blocking client; not part of the mobile
//! library). Blocking: call it from a plain thread or `spawn_blocking`, not from async code.

use base64ct::{Base64, Encoding};
use inkseal_cosign::api::{ErrorBody, ErrorCode, KeyPurpose};
use inkseal_pdf::cms::SignatureAlgorithm;
use inkseal_pdf::sign::PreparedSignature;
use inkseal_pdf::signer::{Signer, SignerError};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use zeroize::Zeroizing;

/// Most hashes the server takes in one sign-hash call (larger batches are split).
pub const MAX_SEAL_BATCH: usize = 1000;

/// Why a sealing-service call failed.
#[derive(Debug, thiserror::Error)]
pub enum SealClientError {
    /// The request did not reach the server, or its answer could not be read.
    #[error("sealing service unreachable: {0}")]
    Transport(String),
    /// The server refused, with its typed code.
    #[error("sealing service refused ({code:?}, HTTP {status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The server's machine-readable code.
        code: ErrorCode,
        /// Its explanation.
        message: String,
    },
    /// The server answered something that does not fit (wrong count, bad base64, a signature
    /// that does not verify).
    #[error("sealing service misbehaved: {0}")]
    Misbehaved(String),
    /// The caller's input cannot be used.
    #[error("{0}")]
    InvalidInput(String),
}

/// A new seal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SealOrder {
    /// The institution's registered name.
    pub institution: String,
    /// Its unified social credit code (18 characters).
    pub credit_code: String,
    /// The seal's purpose, e.g. 合同专用章.
    pub purpose: String,
    /// `ecdsa-p256` or `sm2`.
    pub algorithm: String,
}

/// An envelope the server opened with the institution's encryption key.
pub struct InstitutionOpenedEnvelope {
    /// The plaintext, wiped when dropped.
    pub content: Zeroizing<Vec<u8>>,
    /// Its content type OID (dotted): id-data, GB/T 35275 data, or a signedData to verify.
    pub content_type: String,
    /// `SM4-CBC`, `AES-128-CBC` or `AES-256-CBC`.
    pub cipher: String,
}

impl std::fmt::Debug for InstitutionOpenedEnvelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstitutionOpenedEnvelope")
            .field("content", &format_args!("<{} bytes>", self.content.len()))
            .field("content_type", &self.content_type)
            .field("cipher", &self.cipher)
            .finish()
    }
}

/// A seal as the server describes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SealDescription {
    /// Seal id.
    pub seal_id: String,
    /// Institution name.
    pub institution: String,
    /// Unified social credit code.
    pub credit_code: String,
    /// Purpose.
    pub purpose: String,
    /// `ecdsa-p256` or `sm2`.
    pub algorithm: String,
    /// `pkcs11_token` or `vault_sealed`.
    pub key_storage: String,
    /// `Signing` (a seal) or `Encryption` (opens envelopes, signs nothing).
    #[serde(default)]
    pub key_purpose: KeyPurpose,
    /// The hash algorithm OID sign-hash names.
    pub hash_algorithm_oid: String,
    /// The signature algorithm OID sign-hash names.
    pub sign_algorithm_oid: String,
    /// Base64 DER certificates, the seal's first.
    pub certificates: Vec<String>,
    /// Creation time (unix ms).
    pub created_ms: u64,
    /// When disabled, if it was.
    #[serde(default)]
    pub disabled_ms: Option<u64>,
}

impl SealDescription {
    /// The signature suite.
    pub fn signature_algorithm(&self) -> Result<SignatureAlgorithm, SealClientError> {
        match self.algorithm.as_str() {
            "ecdsa-p256" => Ok(SignatureAlgorithm::EcdsaP256Sha256),
            "sm2" => Ok(SignatureAlgorithm::Sm2Sm3),
            other => Err(SealClientError::Misbehaved(format!(
                "unknown seal algorithm {other:?}"
            ))),
        }
    }

    /// The certificate chain (DER), the seal's certificate first.
    pub fn chain(&self) -> Result<Vec<Vec<u8>>, SealClientError> {
        self.certificates
            .iter()
            .map(|c| {
                Base64::decode_vec(c)
                    .map_err(|_| SealClientError::Misbehaved("certificate is not base64".into()))
            })
            .collect()
    }
}

#[derive(Serialize)]
struct SignHashBody<'a> {
    hashes: Vec<String>,
    hash_algorithm_oid: &'a str,
    sign_algorithm_oid: &'a str,
    documents: &'a [String],
}

#[derive(Deserialize)]
struct SignHashAnswer {
    signatures: Vec<String>,
}

/// The digest a seal signs for `to_be_signed` (the DER signed attributes): SHA-256 for P-256;
/// for SM2, `e = SM3(Z_A || to_be_signed)` with Z_A from `seal_certificate`'s public key and
/// the default signer ID "1234567812345678".
pub fn seal_digest(
    algorithm: SignatureAlgorithm,
    seal_certificate: &[u8],
    to_be_signed: &[u8],
) -> Result<[u8; 32], SealClientError> {
    match algorithm {
        SignatureAlgorithm::EcdsaP256Sha256 => Ok(sha2::Sha256::digest(to_be_signed).into()),
        SignatureAlgorithm::Sm2Sm3 => sm2_digest(seal_certificate, to_be_signed),
    }
}

/// `e = SM3(Z_A || message)` for the SM2 key of `certificate`, default signer ID.
pub fn sm2_digest(certificate: &[u8], message: &[u8]) -> Result<[u8; 32], SealClientError> {
    let key = inkseal_pki::certificate_public_key(certificate)
        .map_err(|e| SealClientError::InvalidInput(format!("seal certificate: {e}")))?;
    Ok(inkseal_cosign::message_digest(&key, message))
}

/// A blocking client for the sealing service, authenticated by an operator API key.
pub struct SealClient {
    http: reqwest::blocking::Client,
    base: String,
    api_key: Zeroizing<String>,
}

impl std::fmt::Debug for SealClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealClient")
            .field("base", &self.base)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

impl SealClient {
    /// A client for the server at `base_url` with the operator API key `api_key`
    /// (`op-<id>.<secret>`). HTTPS servers are checked with the platform's verifier.
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, SealClientError> {
        let config = crate::tls::client_config(Vec::new())
            .map_err(|e| SealClientError::InvalidInput(e.to_string()))?;
        let http = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(config)
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .map_err(|e| SealClientError::Transport(e.to_string()))?;
        Ok(SealClient {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            api_key: Zeroizing::new(api_key.trim().to_owned()),
        })
    }

    fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, SealClientError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.api_key.as_str());
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request
            .send()
            .map_err(|e| SealClientError::Transport(e.without_url().to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .map_err(|e| SealClientError::Transport(e.without_url().to_string()))?;
        if !status.is_success() {
            let body: ErrorBody = serde_json::from_slice(&bytes).map_err(|_| {
                SealClientError::Misbehaved(format!("HTTP {status} without an error body"))
            })?;
            return Err(SealClientError::Refused {
                status: status.as_u16(),
                code: body.code,
                message: body.message,
            });
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| SealClientError::Misbehaved(format!("unreadable answer: {e}")))
    }

    fn json<B: Serialize>(body: &B) -> Result<Option<Vec<u8>>, SealClientError> {
        serde_json::to_vec(body)
            .map(Some)
            .map_err(|e| SealClientError::InvalidInput(e.to_string()))
    }

    /// Create a seal (role `seal:manage`).
    pub fn create(&self, order: &SealOrder) -> Result<SealDescription, SealClientError> {
        self.call(reqwest::Method::POST, "/v1/admin/seals", Self::json(order)?)
    }

    /// Create the institution's encryption key (role `seal:manage`): like a seal, but its
    /// certificate's keyUsage is keyAgreement (P-256) or keyEncipherment (SM2), it opens
    /// envelopes ([`SealClient::open_envelope`]) and signs nothing.
    pub fn create_encryption_key(
        &self,
        order: &SealOrder,
    ) -> Result<SealDescription, SealClientError> {
        #[derive(Serialize)]
        struct EncryptionKeyOrder<'a> {
            #[serde(flatten)]
            order: &'a SealOrder,
            key_purpose: KeyPurpose,
        }
        let body = EncryptionKeyOrder {
            order,
            key_purpose: KeyPurpose::Encryption,
        };
        self.call(reqwest::Method::POST, "/v1/admin/seals", Self::json(&body)?)
    }

    /// Have the server open `envelope` (CMS EnvelopedData, DER or BER) with the encryption key
    /// `seal_id` (role `envelope:open`); `document` labels it in the audit log. The server
    /// answers only after the content key's and the padding's checks; a refusal
    /// ([`ErrorCode::EnvelopeRefused`]: not addressed to the key, malformed, altered) released
    /// nothing.
    pub fn open_envelope(
        &self,
        seal_id: &str,
        envelope: &[u8],
        document: &str,
    ) -> Result<InstitutionOpenedEnvelope, SealClientError> {
        check_id(seal_id)?;
        #[derive(Serialize)]
        struct Body<'a> {
            envelope: String,
            document: &'a str,
        }
        #[derive(Deserialize)]
        struct Answer {
            content: String,
            content_type: String,
            cipher: String,
        }
        let answer: Answer = self.call(
            reqwest::Method::POST,
            &format!("/v1/admin/seals/{seal_id}/open-envelope"),
            Self::json(&Body {
                envelope: Base64::encode_string(envelope),
                document,
            })?,
        )?;
        let Answer {
            content,
            content_type,
            cipher,
        } = answer;
        let encoded = Zeroizing::new(content);
        let content = Zeroizing::new(
            Base64::decode_vec(&encoded)
                .map_err(|_| SealClientError::Misbehaved("content is not base64".into()))?,
        );
        Ok(InstitutionOpenedEnvelope {
            content,
            content_type,
            cipher,
        })
    }

    /// Every seal (role `seal:use`).
    pub fn list(&self) -> Result<Vec<SealDescription>, SealClientError> {
        self.call(reqwest::Method::GET, "/v1/admin/seals", None)
    }

    /// One seal with its chain (role `seal:use`).
    pub fn get(&self, seal_id: &str) -> Result<SealDescription, SealClientError> {
        check_id(seal_id)?;
        self.call(
            reqwest::Method::GET,
            &format!("/v1/admin/seals/{seal_id}"),
            None,
        )
    }

    /// Disable a seal (role `seal:manage`).
    pub fn disable(&self, seal_id: &str) -> Result<SealDescription, SealClientError> {
        check_id(seal_id)?;
        self.call(
            reqwest::Method::POST,
            &format!("/v1/admin/seals/{seal_id}/disable"),
            Some(b"{}".to_vec()),
        )
    }

    /// Signatures (DER) over `digests` by the seal, in order, one call per
    /// [`MAX_SEAL_BATCH`] digests; `documents` labels each digest for the audit log.
    pub fn sign_hashes(
        &self,
        seal: &SealDescription,
        digests: &[[u8; 32]],
        documents: &[String],
    ) -> Result<Vec<Vec<u8>>, SealClientError> {
        check_id(&seal.seal_id)?;
        if digests.len() != documents.len() {
            return Err(SealClientError::InvalidInput(
                "give one document label per digest".into(),
            ));
        }
        let mut out = Vec::with_capacity(digests.len());
        for (digests, documents) in digests
            .chunks(MAX_SEAL_BATCH)
            .zip(documents.chunks(MAX_SEAL_BATCH))
        {
            let body = SignHashBody {
                hashes: digests.iter().map(|d| Base64::encode_string(d)).collect(),
                hash_algorithm_oid: &seal.hash_algorithm_oid,
                sign_algorithm_oid: &seal.sign_algorithm_oid,
                documents,
            };
            let answer: SignHashAnswer = self.call(
                reqwest::Method::POST,
                &format!("/v1/admin/seals/{}/sign-hash", seal.seal_id),
                Self::json(&body)?,
            )?;
            if answer.signatures.len() != digests.len() {
                return Err(SealClientError::Misbehaved(format!(
                    "{} signatures for {} hashes",
                    answer.signatures.len(),
                    digests.len()
                )));
            }
            for s in answer.signatures {
                out.push(
                    Base64::decode_vec(&s).map_err(|_| {
                        SealClientError::Misbehaved("signature is not base64".into())
                    })?,
                );
            }
        }
        Ok(out)
    }

    /// Seal many prepared PDF signatures (prepared with the seal's algorithm and chain) in as
    /// few calls as the batch limit allows; returns, per document, the bytes to append to its
    /// input. Each signature is checked against the seal certificate before it is embedded.
    pub fn seal_prepared(
        &self,
        seal: &SealDescription,
        prepared: Vec<PreparedSignature>,
        documents: &[String],
    ) -> Result<Vec<Vec<u8>>, SealClientError> {
        let algorithm = seal.signature_algorithm()?;
        let chain = seal.chain()?;
        let leaf = chain
            .first()
            .ok_or_else(|| SealClientError::Misbehaved("the seal has no certificate".into()))?;
        let digests = prepared
            .iter()
            .map(|p| seal_digest(algorithm, leaf, p.to_be_signed()))
            .collect::<Result<Vec<_>, _>>()?;
        let signatures = self.sign_hashes(seal, &digests, documents)?;
        prepared
            .into_iter()
            .zip(signatures)
            .map(|(p, s)| {
                p.finish(&s).map_err(|e| {
                    SealClientError::Misbehaved(format!("the seal's signature is unusable: {e}"))
                })
            })
            .collect()
    }
}

fn check_id(id: &str) -> Result<(), SealClientError> {
    if inkseal_cosign::valid_id(id) {
        Ok(())
    } else {
        Err(SealClientError::InvalidInput(format!(
            "{id:?} is not a seal id"
        )))
    }
}

/// A [`Signer`] whose key is a seal on the server: it computes the digest of the signed
/// attributes locally and asks the sealing service to sign it (one sign-hash call per
/// signature; use [`SealClient::seal_prepared`] for many documents).
pub struct RemoteSeal<'a> {
    client: &'a SealClient,
    seal: SealDescription,
    algorithm: SignatureAlgorithm,
    chain: Vec<Vec<u8>>,
    document: String,
}

impl<'a> RemoteSeal<'a> {
    /// The seal `seal_id` through `client` (fetches its chain); `document` labels what it
    /// signs in the audit log.
    pub fn new(
        client: &'a SealClient,
        seal_id: &str,
        document: &str,
    ) -> Result<Self, SealClientError> {
        let seal = client.get(seal_id)?;
        Self::from_description(client, seal, document)
    }

    /// A seal already described by the server.
    pub fn from_description(
        client: &'a SealClient,
        seal: SealDescription,
        document: &str,
    ) -> Result<Self, SealClientError> {
        Ok(RemoteSeal {
            client,
            algorithm: seal.signature_algorithm()?,
            chain: seal.chain()?,
            seal,
            document: document.to_owned(),
        })
    }

    /// The seal's description.
    pub fn description(&self) -> &SealDescription {
        &self.seal
    }
}

impl Signer for RemoteSeal<'_> {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn certificate_chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    fn sign(&self, to_be_signed: &[u8]) -> Result<Vec<u8>, SignerError> {
        let remote = |e: SealClientError| SignerError::Remote(e.to_string());
        let leaf = self.chain.first().ok_or(SignerError::EmptyChain)?;
        let digest = seal_digest(self.algorithm, leaf, to_be_signed).map_err(remote)?;
        let mut signatures = self
            .client
            .sign_hashes(&self.seal, &[digest], std::slice::from_ref(&self.document))
            .map_err(remote)?;
        signatures
            .pop()
            .ok_or_else(|| SignerError::Remote("no signature came back".into()))
    }
}

/// How a seal looks on the page.
#[derive(Clone, Debug)]
pub enum SealLook<'a> {
    /// Drawn: a red round seal with the institution's name along the arc, the star, the
    /// seal's purpose across the middle and an optional seal number along the lower arc, its
    /// text from `font`'s glyph outlines (the same in every viewer, no font in the PDF).
    Drawn {
        /// The font the text is drawn from.
        font: &'a inkseal_pdf::seal::OutlineFont,
        /// The seal number on the lower arc, if the institution prints one.
        number: Option<String>,
    },
    /// The institution's registered seal image (PNG with transparency, kept as a soft mask).
    Image(Vec<u8>),
}

/// The visible appearance of `seal` drawn as `look` says.
pub fn seal_appearance(
    seal: &SealDescription,
    look: &SealLook<'_>,
) -> Result<inkseal_pdf::appearance::AppearanceSpec, SealClientError> {
    let mut spec = inkseal_pdf::appearance::AppearanceSpec::default();
    match look {
        SealLook::Drawn { font, number } => {
            let mut drawn = inkseal_pdf::seal::SealSpec::contract_seal(&seal.institution);
            drawn.purpose = Some(seal.purpose.clone());
            drawn.number = number.clone();
            spec.art = Some(
                drawn
                    .draw(font)
                    .map_err(|e| SealClientError::InvalidInput(e.to_string()))?,
            );
        }
        SealLook::Image(png) => spec.image = Some(png.clone()),
    }
    Ok(spec)
}

/// The size of a round seal on paper (42 mm), points: the usual box for a seal's widget.
pub const ROUND_SEAL_POINTS: f64 = 42.0 * 72.0 / 25.4;

/// Sign options for sealing with `seal` at `signing_time`: `placement`, `appearance` (see
/// [`seal_appearance`]), the institution as signer name, the purpose as reason, and
/// `certify` (DocMDP) if given.
pub fn seal_sign_options(
    seal: &SealDescription,
    signing_time: u64,
    placement: inkseal_pdf::sign::Placement,
    certify: Option<inkseal_pdf::sign::Certification>,
    appearance: inkseal_pdf::appearance::AppearanceSpec,
) -> inkseal_pdf::sign::SignOptions {
    let mut options = inkseal_pdf::sign::SignOptions::new(signing_time);
    options.placement = placement;
    options.appearance = appearance;
    options.signer_name = Some(seal.institution.clone());
    options.reason = Some(seal.purpose.clone());
    options.certify = certify;
    options
}
