//! Helpers shared by the end-to-end tests: a server on loopback, the institution's backend
//! (an operator API key speaking HTTP), and a phone client for it.

use inkseal_sdk::{
    ClientConfig, CosignClient, Enrollment, FileDeviceKeyStore, FileShareStore, Pin,
};
use inkseal_server::audit::Caller;
use inkseal_server::service::{CredentialSecret, Role};
use inkseal_server::{RunningServer, ServerConfig};
use std::path::Path;
use std::sync::Arc;

pub mod cli;
pub mod envelopes;
pub mod postgres;
pub mod render;
pub mod validators;

/// POST `body` as `content_type` to `path` of `server` (no credentials: the public DER routes);
/// a 200 must come back as `answer_type`. Returns the status and the body.
pub async fn post_der(
    server: &RunningServer,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    answer_type: &str,
) -> (u16, Vec<u8>) {
    let resp = http_client()
        .post(format!("{}{path}", server.url()))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("post");
    let status = resp.status().as_u16();
    if status == 200 {
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some(answer_type),
            "{path}"
        );
    }
    (status, resp.bytes().await.expect("body").to_vec())
}

/// A server configuration on a free loopback port with its data in `dir`.
pub fn loopback_config(dir: &Path) -> ServerConfig {
    let mut config = ServerConfig::new(dir);
    config.listen = ([127, 0, 0, 1], 0).into();
    // Two-party P-256 (issue 18) is off by default in servers; the tests exercise it.
    config.policy.p256_cosign = true;
    config
}

/// Start a plain-HTTP server on loopback with data in `dir`.
pub async fn start_server(dir: &Path) -> RunningServer {
    match inkseal_server::start(loopback_config(dir)).await {
        Ok(s) => s,
        Err(e) => panic!("server failed to start: {e}"),
    }
}

/// Start a plain-HTTP server on loopback accepting the (insecure) test liveness vendor.
pub async fn start_liveness_server(dir: &Path, require_liveness: bool) -> RunningServer {
    let mut config = loopback_config(dir);
    config.insecure.test_liveness_vendor = true;
    config.policy.signing.require_liveness = require_liveness;
    match inkseal_server::start(config).await {
        Ok(s) => s,
        Err(e) => panic!("server failed to start: {e}"),
    }
}

/// A server on loopback in a temporary directory, with one device's client and an operator
/// (all roles): the start of most end-to-end tests. Keep `dir` alive as long as the server.
pub struct Loopback {
    /// The temporary directory (`server/` and `device/` in it); removed when dropped.
    pub dir: tempfile::TempDir,
    /// The server.
    pub server: RunningServer,
    /// A device's client.
    pub client: CosignClient,
    /// The institution's operator.
    pub backend: Backend,
}

impl Loopback {
    /// Start the server ([`start_server`]) and make the client ([`client_for`]) and operator.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = start_server(&dir.path().join("server")).await;
        let client = client_for(&server, &dir.path().join("device"));
        let backend = Backend::new(&server);
        Loopback {
            dir,
            server,
            client,
            backend,
        }
    }
}

/// A client for `server` keeping device shares and device keys in `device_dir`.
pub fn client_for(server: &RunningServer, device_dir: &Path) -> CosignClient {
    client_at(&server.url(), device_dir)
}

/// A client for a base URL keeping device shares and device keys in `device_dir`.
pub fn client_at(url: &str, device_dir: &Path) -> CosignClient {
    client_with(ClientConfig::new(url), device_dir)
}

/// A client with `config`, keeping device shares and device keys in `device_dir`.
pub fn client_with(config: ClientConfig, device_dir: &Path) -> CosignClient {
    let store = Arc::new(FileShareStore::new(device_dir).expect("share store"));
    let keys = Arc::new(FileDeviceKeyStore::new(device_dir).expect("device key store"));
    CosignClient::new(config, store, keys).expect("client")
}

/// The institution's backend: an operator API key and an HTTP client for `/v1/admin/`.
#[derive(Clone)]
pub struct Backend {
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The server's base URL.
    pub base: String,
    /// The API key (`op-<id>.<secret>`).
    pub api_key: String,
    /// The credential id.
    pub credential_id: String,
}

/// A reqwest builder for tests that call the server directly. reqwest takes rustls' process-wide
/// crypto provider, which the SDK deliberately leaves alone, so tests install ring's here.
pub fn http_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// A plain reqwest client for tests that call the server directly (see [`http_builder`]).
pub fn http_client() -> reqwest::Client {
    http_builder().build().expect("an HTTP client")
}

impl Backend {
    /// A credential with `roles`, made the way `inkseal admin credential create` makes one.
    pub fn with_roles(server: &RunningServer, roles: &[Role]) -> Backend {
        let created = server
            .service()
            .operators()
            .create(
                "test backend",
                roles,
                CredentialSecret::ApiKey,
                &Caller::system(),
            )
            .expect("credential");
        Backend {
            http: http_client(),
            base: server.url(),
            api_key: created.api_key.expect("an API key"),
            credential_id: created.credential.credential_id,
        }
    }

    /// A credential with every role.
    pub fn new(server: &RunningServer) -> Backend {
        Backend::with_roles(server, &Role::ALL)
    }

    /// `GET path` with the API key: status and JSON body (`null` when not JSON).
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.api_key)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// `method path` with a JSON body and the API key: status and JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let resp = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.api_key)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// A ticket for `user_id` (the backend's identity checks are assumed done).
    pub async fn ticket(&self, user_id: &str) -> String {
        self.ticket_with(serde_json::json!({ "user_id": user_id }))
            .await
    }

    /// A ticket enrolling an encryption key for `user_id`.
    pub async fn encryption_ticket(&self, user_id: &str) -> String {
        self.ticket_with(serde_json::json!({ "user_id": user_id, "purpose": "encryption" }))
            .await
    }

    /// A ticket for the order `order` (`user_id`, `certificate_name`, `id_number`,
    /// `ttl_secs`, `purpose`).
    pub async fn ticket_with(&self, order: serde_json::Value) -> String {
        let (status, body) = self.post("/v1/admin/tickets", order).await;
        assert_eq!(status, 201, "ticket: {body}");
        body["ticket"].as_str().expect("ticket").to_owned()
    }

    /// The audit log, as JSON entries.
    pub async fn audit(&self) -> Vec<serde_json::Value> {
        let (status, body) = self.get("/v1/admin/audit?limit=10000").await;
        assert_eq!(status, 200, "audit: {body}");
        body.as_array().expect("entries").clone()
    }
}

/// A ticket for `user_id` issued in-process by the server's own enrollment desk (for servers
/// whose HTTPS certificate the test backend does not trust).
pub fn ticket_in_process(server: &RunningServer, user_id: &str) -> String {
    server
        .service()
        .enrollment()
        .issue_ticket(
            &inkseal_server::service::TicketOrder {
                user_id: user_id.to_owned(),
                certificate_name: None,
                id_number: None,
                ttl_secs: None,
                purpose: Default::default(),
            },
            &Caller::system(),
        )
        .expect("ticket")
        .ticket
}

/// The first certificate of a PEM file, as DER.
pub fn certificate_der(pem: &Path) -> Vec<u8> {
    let text = std::fs::read(pem).expect("read pem");
    inkseal_pdf::signer::parse_certificate_chain(&text)
        .expect("pem certificate")
        .remove(0)
}

/// inkseal's own verification of `pdf`, now, with the CA certificates in `roots` (PEM files)
/// as its trust anchors.
pub fn inkseal_verify(pdf: &Path, roots: &[&Path]) -> inkseal_pdf::verify::VerificationReport {
    let data = std::fs::read(pdf).expect("read");
    inkseal_pdf::verify::verify(
        &data,
        &inkseal_pdf::verify::VerifyOptions {
            trust_anchors: roots.iter().map(|r| certificate_der(r)).collect(),
            at_unix: Some(now_unix()),
            ..Default::default()
        },
    )
    .expect("verifies")
}

/// Unix seconds now.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A fresh request nonce.
pub fn fresh_nonce() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("random");
    hex::encode(b)
}

/// A device's files (shares and device keys in one directory), for tests that craft raw
/// HTTP requests: replays, old timestamps, other keys' signatures.
pub struct RawDevice {
    shares: FileShareStore,
    keys: FileDeviceKeyStore,
}

impl RawDevice {
    /// The device whose files are in `dir`.
    pub fn new(dir: &Path) -> RawDevice {
        RawDevice {
            shares: FileShareStore::new(dir).expect("shares"),
            keys: FileDeviceKeyStore::new(dir).expect("keys"),
        }
    }

    /// The device share of `key_id`.
    pub fn share(&self, key_id: &str) -> inkseal_cosign::ClientKeyShare {
        use inkseal_sdk::ShareStore;
        let stored = self.shares.load(key_id).expect("load").expect("present");
        let secret: [u8; 32] = stored.secret.as_slice().try_into().expect("32 bytes");
        inkseal_cosign::ClientKeyShare::from_parts(key_id, &secret, &stored.public_key)
            .expect("share")
    }

    /// The headers of a request signed by the device key of `signer_key_id`, claiming
    /// `keyid`, made at `created` with `nonce`.
    #[allow(clippy::too_many_arguments)]
    pub fn headers(
        &self,
        signer_key_id: &str,
        keyid: &str,
        method: &str,
        path: &str,
        body: &[u8],
        created: u64,
        nonce: &str,
    ) -> Vec<(String, String)> {
        use inkseal_sdk::{DeviceKeyStore, ShareStore};
        let alias = self
            .shares
            .load(signer_key_id)
            .expect("load")
            .expect("present")
            .device_key_alias
            .clone();
        let params = inkseal_httpsig::SignatureParams::new(keyid, created, nonce).expect("params");
        let target = inkseal_httpsig::RequestTarget::new(method, path, body).expect("target");
        let keys = &self.keys;
        let signer = |m: &[u8]| {
            let bytes = keys
                .sign(&alias, m)
                .map_err(|e| inkseal_httpsig::SignerError::new(e.to_string()))?;
            // The file store answers r || s; platform stores answer DER.
            match p256::ecdsa::Signature::from_slice(&bytes) {
                Ok(sig) if bytes.len() == 64 => Ok(sig),
                _ => inkseal_httpsig::signature_from_der(&bytes),
            }
        };
        let h = inkseal_httpsig::sign_request(&target, &params, &signer).expect("sign");
        vec![
            ("content-type".into(), "application/json".into()),
            ("content-digest".into(), h.content_digest),
            ("signature-input".into(), h.signature_input),
            ("signature".into(), h.signature),
        ]
    }

    /// `headers` for `key_id` itself, now, with a fresh nonce.
    pub fn signed(
        &self,
        key_id: &str,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Vec<(String, String)> {
        self.headers(
            key_id,
            key_id,
            method,
            path,
            body,
            now_unix(),
            &fresh_nonce(),
        )
    }
}

/// Send a raw request with `headers`; status and JSON body (`null` when not JSON).
pub async fn raw(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let mut req = http.request(method.parse().expect("method"), url);
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    if method != "GET" {
        req = req.body(body);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

/// Issue a ticket for `user_id` and enroll `client` with it.
pub async fn enroll(
    backend: &Backend,
    client: &CosignClient,
    user_id: &str,
    pin: &Pin,
) -> Enrollment {
    let ticket = backend.ticket(user_id).await;
    client.enroll(&ticket, pin).await.expect("enroll")
}

/// A real server on loopback (its data under `dir/server`) and one key enrolled for `user_id`
/// (device files under `dir/device`) with its certificate: where the transaction and login
/// flows start.
pub struct CertifiedKey {
    /// The server.
    pub server: RunningServer,
    /// The client holding the key.
    pub client: CosignClient,
    /// An operator with every role.
    pub backend: Backend,
    /// The key.
    pub key_id: String,
    /// Its PIN.
    pub pin: Pin,
    /// Its certificate (DER).
    pub certificate: Vec<u8>,
    /// The issuing CA's certificate (DER).
    pub ca: Vec<u8>,
}

/// Start a server and enroll and certify a key for `user_id` with `pin`.
pub async fn certified_key(dir: &Path, user_id: &str, pin: &str) -> CertifiedKey {
    let server = start_server(&dir.join("server")).await;
    let client = client_for(&server, &dir.join("device"));
    let backend = Backend::new(&server);
    let pin = Pin::new(pin);
    let key_id = enroll(&backend, &client, user_id, &pin).await.key_id;
    let (certificate, ca) = client
        .request_certificate(&key_id, &pin, None)
        .await
        .expect("certificate");
    CertifiedKey {
        server,
        client,
        backend,
        key_id,
        pin,
        certificate,
        ca,
    }
}

/// A server on loopback whose vault is a fresh SoftHSM2 token, on a runtime of its own: the
/// tests that use it are synchronous (the SDK's seal client blocks). Shut it down with
/// `runtime.block_on(server.shutdown())`.
pub struct TokenServer {
    /// The runtime the server runs on.
    pub runtime: tokio::runtime::Runtime,
    /// The server.
    pub server: RunningServer,
    /// The token's vault configuration (to open the token beside the server).
    pub pkcs11: inkseal_server::vault::Pkcs11Config,
}

/// Start a [`TokenServer`] with a token labelled `label` in `dir` (see [`softhsm_token`]: call
/// it first in a test binary's only test).
pub fn token_server(dir: &Path, label: &str, user_pin: &str) -> TokenServer {
    let pkcs11 = softhsm_token(&dir.join("hsm"), label, user_pin);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut config = loopback_config(&dir.join("server"));
    config.vault = inkseal_server::VaultChoice::Pkcs11(pkcs11.clone());
    let server = runtime
        .block_on(inkseal_server::start(config))
        .expect("start with the HSM vault");
    TokenServer {
        runtime,
        server,
        pkcs11,
    }
}

/// Create a SoftHSM2 token in `dir` and return a vault configuration for it.
///
/// Points `SOFTHSM2_CONF` at a configuration in `dir`, so call it before any thread that may
/// read the environment is started (each test binary is its own process).
pub fn softhsm_token(
    dir: &Path,
    label: &str,
    user_pin: &str,
) -> inkseal_server::vault::Pkcs11Config {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).expect("token dir");
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("softhsm2.conf");
    // SAFETY: called at the start of a test binary's only test, before other threads exist.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("SOFTHSM2_CONF", &conf)
    };
    let status = std::process::Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            "87654321",
            "--pin",
            user_pin,
        ])
        .output()
        .unwrap_or_else(|e| panic!("softhsm2-util is needed (apt-get install softhsm2): {e}"));
    assert!(
        status.status.success(),
        "init token: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    inkseal_server::vault::Pkcs11Config::new(
        inkseal_server::vault::Pkcs11Config::softhsm_default_module(),
        label,
        user_pin.to_owned().into(),
        "inkseal-share-wrap",
    )
}

/// An SM2 test PKI made with inkseal's own CA code: a root and a signer with a local key.
pub struct Sm2Pki {
    /// Root certificate (PEM).
    pub ca_pem: std::path::PathBuf,
    /// Signer private key (PKCS#8 PEM).
    pub signer_key: std::path::PathBuf,
    /// Signer certificate (PEM).
    pub signer_pem: std::path::PathBuf,
}

/// Create an SM2 root and a signer certificate for `name` in `dir`.
pub fn sm2_pki(dir: &Path, name: &str) -> Sm2Pki {
    use inkseal_cosign::sm2::dsa::signature::Signer as _;
    use inkseal_cosign::sm2::pkcs8::DecodePrivateKey as _;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let ca = inkseal_pki::CaKey::generate();
    let ca_cert =
        inkseal_pki::self_signed_ca(&ca, &format!("{name} test root"), 3650, now).expect("root");
    let signer = inkseal_pki::CaKey::generate();
    let tbs = inkseal_pki::csr_to_be_signed(signer.public_key(), name).expect("csr tbs");
    let der = signer.to_pkcs8_der().expect("pkcs8");
    let key = inkseal_cosign::sm2::SecretKey::from_pkcs8_der(&der).expect("secret key");
    let sk = inkseal_cosign::sm2::dsa::SigningKey::new(inkseal_cosign::DEFAULT_SIGNER_ID, &key)
        .expect("sk");
    let sig: inkseal_cosign::sm2::dsa::Signature = sk.sign(&tbs);
    let csr = inkseal_pki::assemble_csr(&tbs, &sig).expect("csr");
    let csr = inkseal_pki::verify_csr(&csr).expect("verified csr");
    let cert =
        inkseal_pki::issue_certificate(&ca, &ca_cert, &csr, &[0x11; 16], 365, now).expect("issue");
    let pki = Sm2Pki {
        ca_pem: dir.join(format!("{name}-sm2-root.pem")),
        signer_key: dir.join(format!("{name}-sm2-key.pem")),
        signer_pem: dir.join(format!("{name}-sm2-cert.pem")),
    };
    std::fs::write(
        &pki.ca_pem,
        inkseal_pki::der_to_pem("CERTIFICATE", &ca_cert),
    )
    .expect("write");
    std::fs::write(
        &pki.signer_key,
        inkseal_pki::der_to_pem("PRIVATE KEY", &der),
    )
    .expect("write");
    std::fs::write(
        &pki.signer_pem,
        inkseal_pki::der_to_pem("CERTIFICATE", &cert),
    )
    .expect("write");
    pki
}

/// The shared fixtures folder (`shared/fixtures` beside the repository).
pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(name)
}

/// The shared corpus folder (`shared/corpus` beside the repository).
pub fn corpus(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus")
        .join(rel)
}

/// The font seal and label text is drawn from in tests: WenQuanYi Micro Hei (Debian
/// `fonts-wqy-microhei`, Apache-2.0, installed by scripts/install-validators.sh), or
/// `INKSEAL_SEAL_FONT`. Parsed once per test binary.
pub fn seal_font() -> inkseal_pdf::seal::OutlineFont {
    static FONT: std::sync::OnceLock<inkseal_pdf::seal::OutlineFont> = std::sync::OnceLock::new();
    FONT.get_or_init(|| {
        inkseal_pdf::seal::OutlineFont::locate(None)
            .unwrap_or_else(|e| panic!("{e} (scripts/install-validators.sh installs it)"))
    })
    .clone()
}

/// The seal font as the drawer of signature labels.
pub fn label_font() -> std::sync::Arc<dyn inkseal_pdf::outline::TextOutliner> {
    std::sync::Arc::new(seal_font())
}
