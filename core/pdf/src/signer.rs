//! Signers: whatever turns the to-be-signed bytes (the DER signed attributes) into a signature.
//!
//! [`Signer`] is the synchronous interface; [`LocalSigner`] implements it with a private key
//! held in memory (PKCS#8 or SEC1, SM2 or P-256). A remote signer (the two-party SM2 client)
//! does not need to implement it: it takes the bytes from [`crate::cms::signed_attributes`]
//! and hands its signature to [`crate::cms::assemble`].

use crate::cms::cert::Cert;
use crate::cms::{ID_EC_PUBLIC_KEY, PRIME256V1, PublicKey, SM2_CURVE, SignatureAlgorithm};
use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Sequence};
use p256::pkcs8::{DecodePrivateKey, PrivateKeyInfoRef};
use std::path::{Path, PathBuf};
use thiserror::Error;
use zeroize::Zeroizing;

/// Why a signer could not be set up or could not sign. Never contains key material.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignerError {
    /// The private key could not be decoded (bad PEM or DER, encrypted, wrong structure).
    #[error("cannot read the private key: {0}")]
    Key(String),
    /// The private key is of a kind this crate does not sign with.
    #[error("unsupported private key: {0}")]
    UnsupportedKey(String),
    /// A certificate of the chain could not be read or is unusable.
    #[error("certificate chain: {0}")]
    Certificate(String),
    /// No certificate was given.
    #[error("the certificate chain is empty (the signer certificate must come first)")]
    EmptyChain,
    /// The private key is not the key the first certificate certifies.
    #[error("the private key does not match the public key of the signer certificate")]
    KeyMismatch,
    /// Producing the signature failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// A key or certificate file could not be read.
    #[error("cannot read {0}")]
    Io(String),
    /// A remote signer failed (network, refusal, protocol); for implementations outside this
    /// crate.
    #[error("remote signer failed: {0}")]
    Remote(String),
}

/// Produces signatures for CMS signed attributes.
pub trait Signer {
    /// The suite this signer signs with (it must match the signer certificate's key).
    fn algorithm(&self) -> SignatureAlgorithm;

    /// The certificate chain (DER): the signer's certificate first, then intermediates.
    fn certificate_chain(&self) -> &[Vec<u8>];

    /// Sign `to_be_signed` and return the DER `SEQUENCE { r, s }` signature.
    ///
    /// The signer hashes the bytes itself: SM2 signs `SM3(Z_A || to_be_signed)` with the default
    /// signer ID "1234567812345678"; ECDSA P-256 signs `SHA-256(to_be_signed)`.
    fn sign(&self, to_be_signed: &[u8]) -> Result<Vec<u8>, SignerError>;
}

/// A private key in memory. Both variants wipe themselves on drop.
#[derive(Clone)]
pub(crate) enum LocalKey {
    Sm2(sm2::SecretKey),
    P256(p256::SecretKey),
}

/// A [`Signer`] with the private key held in this process.
///
/// The key is wiped when the signer is dropped; `Debug` shows the algorithm, the public key and
/// the chain length, never the private key.
#[derive(Clone)]
pub struct LocalSigner {
    key: LocalKey,
    chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for LocalSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSigner")
            .field("algorithm", &self.algorithm())
            .field("public_key", &hex::encode(self.public_key_sec1()))
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl LocalSigner {
    /// A signer from a PEM private key and a certificate chain.
    ///
    /// `key_pem`: a `PRIVATE KEY` (PKCS#8, as `openssl genpkey` writes, including SM2 keys with
    /// id-ecPublicKey and curve 1.2.156.10197.1.301) or `EC PRIVATE KEY` (SEC1, as
    /// `openssl ecparam -genkey` writes; an `EC PARAMETERS` block before it is skipped) or
    /// `SM2 PRIVATE KEY` (SEC1 with the SM2 curve, as `openssl ec` writes SM2 keys) block.
    /// Encrypted keys are not supported. `chain`: PEM text with one or more `CERTIFICATE` blocks,
    /// or a single DER certificate; the signer's certificate first.
    pub fn from_pem(key_pem: &str, chain: &[u8]) -> Result<Self, SignerError> {
        let chain = parse_certificate_chain(chain)?;
        let key_der = single_key_block(key_pem)?;
        Self::from_der(&key_der, chain)
    }

    /// [`LocalSigner::from_pem`] with the key and certificates read from files: `cert` holds
    /// the signer certificate (and possibly its chain) as PEM or DER, `chain` further
    /// certificate files appended in order.
    pub fn from_pem_files(key: &Path, cert: &Path, chain: &[PathBuf]) -> Result<Self, SignerError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| SignerError::Io(format!("{}: {e}", path.display())))
        };
        let key_bytes = Zeroizing::new(read(key)?);
        let key_pem = std::str::from_utf8(&key_bytes)
            .map_err(|_| SignerError::Key(format!("{} is not PEM text", key.display())))?;
        let mut certs = parse_certificate_chain(&read(cert)?)?;
        for path in chain {
            certs.extend(parse_certificate_chain(&read(path)?)?);
        }
        let key_der = single_key_block(key_pem)?;
        Self::from_der(&key_der, certs)
    }

    /// A signer from a DER private key (PKCS#8 `PrivateKeyInfo` or SEC1 `ECPrivateKey`) and a
    /// DER certificate chain (signer first).
    ///
    /// The curve (SM2 or P-256) comes from the key's parameters; a SEC1 key without parameters
    /// takes the curve of the signer certificate. The key must be the one the first certificate
    /// certifies ([`SignerError::KeyMismatch`] otherwise).
    pub fn from_der(key_der: &[u8], chain: Vec<Vec<u8>>) -> Result<Self, SignerError> {
        let certs = chain
            .iter()
            .enumerate()
            .map(|(i, der)| {
                Cert::parse(der)
                    .map_err(|e| SignerError::Certificate(format!("certificate {i}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let signer_key = certs
            .first()
            .ok_or(SignerError::EmptyChain)?
            .public_key()
            .map_err(|e| SignerError::Certificate(format!("signer certificate: {e}")))?;

        let key = decode_key(key_der, signer_key.algorithm())?;
        let signer = LocalSigner { key, chain };
        if signer.public_key() != signer_key {
            return Err(SignerError::KeyMismatch);
        }
        Ok(signer)
    }

    /// The commonName of the signer certificate's subject, if it has one (e.g. for the visible
    /// signature's label).
    pub fn common_name(&self) -> Option<String> {
        let cert = Cert::parse(self.chain.first()?).ok()?;
        let cn = cert.cert.tbs_certificate().subject().common_name().ok()??;
        Some(cn.value().into_owned())
    }

    /// The public key, as uncompressed SEC1 bytes.
    pub fn public_key_sec1(&self) -> Vec<u8> {
        self.public_key().to_sec1_uncompressed()
    }

    fn public_key(&self) -> PublicKey {
        match &self.key {
            LocalKey::Sm2(k) => PublicKey::Sm2(k.public_key()),
            LocalKey::P256(k) => PublicKey::P256(k.public_key()),
        }
    }
}

impl Signer for LocalSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        match self.key {
            LocalKey::Sm2(_) => SignatureAlgorithm::Sm2Sm3,
            LocalKey::P256(_) => SignatureAlgorithm::EcdsaP256Sha256,
        }
    }

    fn certificate_chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    fn sign(&self, to_be_signed: &[u8]) -> Result<Vec<u8>, SignerError> {
        match &self.key {
            LocalKey::Sm2(secret) => {
                use sm2::dsa::signature::Signer as _;
                // sm2's SigningKey does not wipe itself, so one is built per signature only.
                let key = sm2::dsa::SigningKey::new(inkseal_cosign::DEFAULT_SIGNER_ID, secret)
                    .map_err(|_| SignerError::Signing("cannot build the SM2 signing key".into()))?;
                let signature: sm2::dsa::Signature = key
                    .try_sign(to_be_signed)
                    .map_err(|_| SignerError::Signing("SM2 signing failed".into()))?;
                Ok(signature.to_der().to_vec())
            }
            LocalKey::P256(secret) => {
                use p256::ecdsa::signature::Signer as _;
                let key = p256::ecdsa::SigningKey::from(secret);
                let signature: p256::ecdsa::Signature = key
                    .try_sign(to_be_signed)
                    .map_err(|_| SignerError::Signing("ECDSA signing failed".into()))?;
                Ok(signature.to_der().as_bytes().to_vec())
            }
        }
    }
}

/// The one private key block of a PEM text (other blocks, such as EC PARAMETERS, are skipped).
pub(crate) fn single_key_block(key_pem: &str) -> Result<Zeroizing<Vec<u8>>, SignerError> {
    let mut key_der = None;
    for (label, der) in pem_blocks(key_pem.as_bytes())? {
        match label.as_str() {
            "PRIVATE KEY" | "EC PRIVATE KEY" | "SM2 PRIVATE KEY" => {
                if key_der.is_some() {
                    return Err(SignerError::Key("more than one private key block".into()));
                }
                key_der = Some(der);
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(SignerError::UnsupportedKey(
                    "encrypted PKCS#8 keys are not supported; decrypt first".into(),
                ));
            }
            _ => {}
        }
    }
    key_der.ok_or_else(|| SignerError::Key("no PRIVATE KEY or EC PRIVATE KEY block".into()))
}

/// `ECPrivateKey` (SEC1 / RFC 5915), read only to learn the curve.
#[derive(Sequence)]
struct EcPrivateKey<'a> {
    version: u8,
    private_key: &'a OctetStringRef,
    #[asn1(context_specific = "0", optional = "true")]
    parameters: Option<AnyRef<'a>>,
    #[asn1(context_specific = "1", optional = "true")]
    public_key: Option<BitStringRef<'a>>,
}

/// Decode PKCS#8 or SEC1 DER; `fallback` is the curve for a SEC1 key without parameters.
pub(crate) fn decode_key(
    der: &[u8],
    fallback: SignatureAlgorithm,
) -> Result<LocalKey, SignerError> {
    if let Ok(info) = PrivateKeyInfoRef::try_from(der) {
        if info.algorithm.oid != ID_EC_PUBLIC_KEY {
            return Err(SignerError::UnsupportedKey(format!(
                "PKCS#8 key algorithm {} (expected id-ecPublicKey)",
                info.algorithm.oid
            )));
        }
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| SignerError::UnsupportedKey("EC key without a named curve".into()))?;
        return match curve_algorithm(curve)? {
            SignatureAlgorithm::Sm2Sm3 => sm2::SecretKey::from_pkcs8_der(der)
                .map(LocalKey::Sm2)
                .map_err(|e| SignerError::Key(format!("PKCS#8 SM2 key: {e}"))),
            SignatureAlgorithm::EcdsaP256Sha256 => p256::SecretKey::from_pkcs8_der(der)
                .map(LocalKey::P256)
                .map_err(|e| SignerError::Key(format!("PKCS#8 P-256 key: {e}"))),
        };
    }
    let sec1 = EcPrivateKey::from_der(der).map_err(|_| {
        SignerError::Key("neither a PKCS#8 PrivateKeyInfo nor a SEC1 ECPrivateKey".into())
    })?;
    if sec1.version != 1 {
        return Err(SignerError::Key(format!(
            "SEC1 ECPrivateKey version {}",
            sec1.version
        )));
    }
    let _ = (sec1.private_key, sec1.public_key);
    let alg = match sec1.parameters {
        None => fallback,
        Some(params) => curve_algorithm(params.decode_as::<ObjectIdentifier>().map_err(|_| {
            SignerError::UnsupportedKey("EC key with explicit (unnamed) curve parameters".into())
        })?)?,
    };
    match alg {
        SignatureAlgorithm::Sm2Sm3 => sm2::SecretKey::from_sec1_der(der)
            .map(LocalKey::Sm2)
            .map_err(|e| SignerError::Key(format!("SEC1 SM2 key: {e}"))),
        SignatureAlgorithm::EcdsaP256Sha256 => p256::SecretKey::from_sec1_der(der)
            .map(LocalKey::P256)
            .map_err(|e| SignerError::Key(format!("SEC1 P-256 key: {e}"))),
    }
}

fn curve_algorithm(curve: ObjectIdentifier) -> Result<SignatureAlgorithm, SignerError> {
    if curve == SM2_CURVE {
        Ok(SignatureAlgorithm::Sm2Sm3)
    } else if curve == PRIME256V1 {
        Ok(SignatureAlgorithm::EcdsaP256Sha256)
    } else {
        Err(SignerError::UnsupportedKey(format!(
            "EC curve {curve} (expected SM2 {SM2_CURVE} or P-256 {PRIME256V1})"
        )))
    }
}

/// Certificates from PEM text (every `CERTIFICATE` block, in order; other blocks are
/// ignored) or from a single DER certificate.
pub fn parse_certificate_chain(input: &[u8]) -> Result<Vec<Vec<u8>>, SignerError> {
    if input.first() == Some(&0x30) {
        return Ok(vec![input.to_vec()]);
    }
    let certs: Vec<Vec<u8>> = pem_blocks(input)?
        .into_iter()
        .filter(|(label, _)| label == "CERTIFICATE")
        .map(|(_, der)| der.to_vec())
        .collect();
    if certs.is_empty() {
        return Err(SignerError::Certificate(
            "no CERTIFICATE block and not a DER certificate".into(),
        ));
    }
    Ok(certs)
}

/// A PEM block's label and DER contents (wiped on drop).
type PemBlock = (String, Zeroizing<Vec<u8>>);

/// Every PEM block of `text` as (label, DER). The DER buffers are wiped on drop, since they may
/// hold private keys.
fn pem_blocks(text: &[u8]) -> Result<Vec<PemBlock>, SignerError> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const END: &[u8] = b"-----END ";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = find(rest, BEGIN) {
        let block = &rest[start..];
        let end = find(block, END)
            .ok_or_else(|| SignerError::Key("PEM block without an END line".into()))?;
        // The END line runs to the next "-----" after "-----END ".
        let after_end = &block[end + END.len()..];
        let close = find(after_end, b"-----")
            .ok_or_else(|| SignerError::Key("unterminated PEM END line".into()))?;
        let len = end + END.len() + close + 5;
        let (label, der) = der::pem::decode_vec(&block[..len])
            .map_err(|e| SignerError::Key(format!("PEM: {e}")))?;
        blocks.push((label.to_owned(), Zeroizing::new(der)));
        rest = &block[len..];
    }
    Ok(blocks)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_splits_and_skips_text() {
        let a = inkseal_pki::der_to_pem("EC PARAMETERS", &[0x06, 0x01, 0x01]);
        let b = inkseal_pki::der_to_pem("CERTIFICATE", &[0x30, 0x00]);
        let text = format!("junk\n{a}between\n{b}");
        let blocks = pem_blocks(text.as_bytes()).expect("blocks");
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].0, "EC PARAMETERS");
        assert_eq!(blocks[1].0, "CERTIFICATE");
        assert_eq!(blocks[1].1.as_slice(), &[0x30, 0x00]);
        assert!(pem_blocks(b"-----BEGIN X-----\nAAAA\n").is_err());
        assert!(pem_blocks(b"no pem here").expect("empty").is_empty());
    }
}
