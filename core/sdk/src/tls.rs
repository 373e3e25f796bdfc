//! The client's TLS: one rustls configuration built here and handed to reqwest.
//!
//! Two choices are made deliberately, both visible in the tests below:
//!
//! * **No process-wide state.** The configuration goes to reqwest through
//!   `tls_backend_preconfigured`; nothing is installed as rustls' process default, so an app
//!   that embeds other Rust code using rustls keeps its own choice.
//! * **A narrow cipher list.** TLS 1.3 and 1.2 with AES-GCM only, ECDHE over P-256 or P-384,
//!   no ChaCha20, X25519 or Ed25519, and no TLS client keys (the device authenticates with HTTP
//!   message signatures, never with a TLS client certificate). Banks' load balancers and the
//!   inkseal server all offer these; leaving the rest out keeps the mobile library under its
//!   size budget (every suite brings its own assembly) and the reviewed surface small.
//!
//! Server certificates are checked against the pinned certificates when the app configures
//! any (`ClientConfig::trusted_server_certs_pem`), otherwise by the platform's verifier (the
//! system trust store and its revocation policy).

use std::sync::Arc;

use rustls::SignatureScheme;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::crypto::ring as provider;
use rustls::crypto::{CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::SigningKey;
use rustls_platform_verifier::BuilderVerifierExt;
use webpki::ring as alg;

use crate::error::SdkError;

/// The cipher suites the client offers, strongest first.
const CIPHER_SUITES: [rustls::SupportedCipherSuite; 6] = [
    provider::cipher_suite::TLS13_AES_256_GCM_SHA384,
    provider::cipher_suite::TLS13_AES_128_GCM_SHA256,
    provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    provider::cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    provider::cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
];

/// Signature algorithms accepted in server certificates and handshakes: ECDSA over P-256 and
/// P-384, RSA PKCS#1 v1.5 and PSS with 2048-8192-bit keys (what CAs issue to banks' servers).
static SIGNATURE_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        alg::ECDSA_P256_SHA256,
        alg::ECDSA_P256_SHA384,
        alg::ECDSA_P384_SHA256,
        alg::ECDSA_P384_SHA384,
        alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        alg::RSA_PKCS1_2048_8192_SHA256,
        alg::RSA_PKCS1_2048_8192_SHA384,
        alg::RSA_PKCS1_2048_8192_SHA512,
        alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        // TLS 1.2 does not fix the curve by the scheme; TLS 1.3 does.
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
        ),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[alg::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[alg::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[alg::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// Randomness for handshakes from the operating system.
#[derive(Debug)]
struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        getrandom::fill(buf).map_err(|_| GetRandomFailed)
    }
}

/// The client never presents a TLS client certificate, so it never loads a TLS private key.
#[derive(Debug)]
struct NoClientKeys;

impl KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "inkseal does not use TLS client certificates".into(),
        ))
    }
}

/// The crypto provider behind every inkseal connection (see the module docs).
pub(crate) fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: CIPHER_SUITES.to_vec(),
        kx_groups: vec![provider::kx_group::SECP256R1, provider::kx_group::SECP384R1],
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &OsRandom,
        key_provider: &NoClientKeys,
    })
}

/// The rustls configuration: pinned certificates (already checked to be PEM certificates) or,
/// without pins, the platform's verifier.
pub(crate) fn client_config(
    pinned_der: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, SdkError> {
    let tls_error = |e: rustls::Error| SdkError::InvalidInput(format!("TLS configuration: {e}"));
    let builder = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    let mut config = if pinned_der.is_empty() {
        builder
            .with_platform_verifier()
            .map_err(tls_error)?
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        for (i, der) in pinned_der.into_iter().enumerate() {
            roots
                .add(der)
                .map_err(|e| SdkError::InvalidInput(format!("pinned certificate {i}: {e}")))?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_only_aes_gcm_over_nist_curves() {
        let p = crypto_provider();
        for suite in &p.cipher_suites {
            let name = format!("{:?}", suite.suite());
            assert!(name.contains("AES_"), "{name}");
            assert!(name.contains("_GCM_"), "{name}");
        }
        let groups: Vec<String> = p
            .kx_groups
            .iter()
            .map(|g| format!("{:?}", g.name()))
            .collect();
        assert_eq!(groups, ["secp256r1", "secp384r1"]);
        assert!(
            p.key_provider
                .load_private_key(PrivateKeyDer::Pkcs8(vec![0x30, 0].into()))
                .is_err()
        );
    }

    #[test]
    fn a_pinned_certificate_that_is_not_der_is_refused() {
        let err = client_config(vec![CertificateDer::from(vec![1, 2, 3])])
            .expect_err("three bytes are not a certificate");
        assert!(matches!(err, SdkError::InvalidInput(m) if m.contains("pinned certificate 0")));
    }
}
