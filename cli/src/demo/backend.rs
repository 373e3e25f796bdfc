//! The institution's backend, played by the demo: an operator API key over HTTP for the
//! operator API, the sealing service through the SDK's blocking seal client (on a blocking
//! thread), and the server's public TSA.

use super::err;
use inkseal_pdf::sign::{PreparedSignature, SignOptions};
use inkseal_sdk::seal::{SealClient, SealDescription, SealOrder, seal_digest};

pub(super) struct Backend {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    pub(super) api_key: String,
}

impl Backend {
    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<reqwest::Response, String> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.api_key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(err)?;
        if !resp.status().is_success() {
            let status = resp.status();
            return Err(format!(
                "{path}: HTTP {status}: {}",
                resp.text().await.unwrap_or_default()
            ));
        }
        Ok(resp)
    }

    pub(super) async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        self.call(method, path, body)
            .await?
            .json()
            .await
            .map_err(err)
    }

    /// Run `f` with a sealing-service client on a blocking thread (the seal client is
    /// blocking: the backend's batch jobs run it on plain threads).
    async fn with_seals<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SealClient) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let (base, key) = (self.base.clone(), self.api_key.clone());
        tokio::task::spawn_blocking(move || {
            let client = SealClient::new(&base, &key).map_err(err)?;
            f(&client)
        })
        .await
        .map_err(err)?
    }

    /// Create a seal (key and organisation certificate) on the server.
    pub(super) async fn create_seal(&self, order: SealOrder) -> Result<SealDescription, String> {
        self.with_seals(move |c| c.create(&order).map_err(err))
            .await
    }

    /// Seal `input` as `options` say (they must ask for a time-stamp): prepare here, send the
    /// digest of the signed attributes to the sealing service, time-stamp the signature with
    /// the server's TSA, embed both. Returns the bytes to append to `input`.
    pub(super) async fn seal_pdf(
        &self,
        seal: &SealDescription,
        input: &[u8],
        options: &SignOptions,
        document: &str,
    ) -> Result<Vec<u8>, String> {
        let algorithm = seal.signature_algorithm().map_err(err)?;
        let chain = seal.chain().map_err(err)?;
        let prepared: PreparedSignature =
            inkseal_pdf::sign::prepare(input, options, algorithm, &chain).map_err(err)?;
        let digest = seal_digest(algorithm, &chain[0], prepared.to_be_signed()).map_err(err)?;
        let (seal_for_call, label) = (seal.clone(), document.to_owned());
        let signature = self
            .with_seals(move |c| {
                c.sign_hashes(&seal_for_call, &[digest], &[label])
                    .map_err(err)?
                    .pop()
                    .ok_or_else(|| "the sealing service returned no signature".to_string())
            })
            .await?;
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(err)?;
        let step = prepared.await_time_stamp(&signature, &nonce).map_err(err)?;
        let reply = self
            .http
            .post(format!("{}/v1/tsa", self.base))
            .header("content-type", "application/timestamp-query")
            .body(step.request_der().map_err(err)?)
            .send()
            .await
            .map_err(err)?
            .error_for_status()
            .map_err(err)?
            .bytes()
            .await
            .map_err(err)?;
        step.finish(&reply).map_err(err)
    }
}
