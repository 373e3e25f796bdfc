//! Certificate authority adapter and the embedded CA (an SM2 root and a P-256 root).
//!
//! In production the server forwards the verified CSR to the institution's CA through this trait
//! (and that CA publishes its own revocation data); the embedded CA serves the demo and the
//! tests, and signs CRLs of the certificates the server revoked.

use crate::store::{IssuedCertificate, Store};
use crate::vault::{ShareVault, associated_data};
use inkseal_pki::{
    CaKey, CertificateStatus, EndEntity, IssuerKey, OcspQuery, OcspResponseStatus, P256CaKey,
    VerifiedCsr,
};

/// Issues certificates for verified CSRs.
pub trait CertificateAuthority: Send + Sync {
    /// Issue a certificate (DER) for a CSR whose signature and key were already checked.
    fn issue(&self, csr: &VerifiedCsr) -> Result<Vec<u8>, String>;
    /// The issuing CA certificate (DER).
    fn ca_certificate(&self) -> &[u8];
    /// Every root this CA publishes (DER), the issuing one first: the embedded CA has an SM2
    /// root and a P-256 root.
    fn root_certificates(&self) -> Vec<&[u8]> {
        vec![self.ca_certificate()]
    }
    /// A CRL (DER) listing `revoked`, number `crl_number`, valid from `this_update_unix` to
    /// `next_update_unix`, signed by the CA.
    fn crl(
        &self,
        revoked: &[IssuedCertificate],
        crl_number: u64,
        this_update_unix: u64,
        next_update_unix: u64,
    ) -> Result<Vec<u8>, String>;
    /// An OCSP response (DER) for `query`, each certificate's status from `status_of` (by
    /// serial). A CA that runs no responder answers `unauthorized`.
    fn ocsp(
        &self,
        query: &OcspQuery,
        status_of: &dyn Fn(&[u8]) -> Result<CertificateStatus, String>,
        now_unix: u64,
    ) -> Result<Vec<u8>, String> {
        let _ = (query, status_of, now_unix);
        inkseal_pki::ocsp_error_response(OcspResponseStatus::Unauthorized)
            .map_err(|e| e.to_string())
    }
}

/// How long an OCSP response is good for (its nextUpdate), in seconds.
pub const OCSP_VALIDITY_SECS: u64 = 24 * 3600;

/// The CRL reason of a stored revocation reason name.
pub(crate) fn crl_reason(name: Option<&str>) -> Option<inkseal_pki::RevocationReason> {
    use inkseal_pki::RevocationReason as R;
    Some(match name? {
        "key_compromise" => R::KeyCompromise,
        "affiliation_changed" => R::AffiliationChanged,
        "superseded" => R::Superseded,
        "cessation_of_operation" => R::CessationOfOperation,
        _ => R::Unspecified,
    })
}

/// A CA whose SM2 key is sealed by the vault and kept in the store's settings, with a P-256
/// root beside it (sealed the same way) for validators without SM2: P-256 time-stamping and
/// OCSP certificates chain to it.
pub struct EmbeddedCa {
    key: CaKey,
    cert: Vec<u8>,
    p256_key: P256CaKey,
    p256_cert: Vec<u8>,
    validity_days: u32,
}

const CA_KEY_SETTING: &str = "ca.key.sealed";
const CA_CERT_SETTING: &str = "ca.cert";
const P256_CA_KEY_SETTING: &str = "ca.p256.key.sealed";
const P256_CA_CERT_SETTING: &str = "ca.p256.cert";
/// Validity of the roots, in days.
const ROOT_VALIDITY_DAYS: u32 = 3650;

/// Which of the embedded CA's roots issues a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The SM2 root (SM2-with-SM3 signatures).
    Sm2,
    /// The P-256 root (ecdsa-with-SHA256 signatures).
    P256,
}

/// A key sealed by the vault in the store's settings, created on first use; with its
/// certificate, also created on first use (both with "insert if absent", so replicas starting
/// together agree on one).
pub(crate) fn load_or_create_sealed<K>(
    store: &dyn Store,
    vault: &dyn ShareVault,
    names: (&str, &str, &str),
    generate: impl FnOnce() -> Result<K, String>,
    to_der: impl Fn(&K) -> Result<zeroize::Zeroizing<Vec<u8>>, String>,
    from_der: impl Fn(&[u8]) -> Result<K, String>,
    certify: impl FnOnce(&K) -> Result<Vec<u8>, String>,
) -> Result<(K, Vec<u8>), String> {
    let (aad_label, key_setting, cert_setting) = names;
    let aad = associated_data(aad_label, &[]);
    let sealed = match store.get_setting(key_setting).map_err(|e| e.to_string())? {
        Some(s) => s,
        None => {
            let key = generate()?;
            let sealed = vault
                .seal(&aad, &to_der(&key)?)
                .map_err(|e| e.to_string())?;
            store
                .put_setting_if_absent(key_setting, &sealed)
                .map_err(|e| e.to_string())?
        }
    };
    let der = zeroize::Zeroizing::new(vault.open(&aad, &sealed).map_err(|e| e.to_string())?);
    let key = from_der(&der)?;
    let cert = match store.get_setting(cert_setting).map_err(|e| e.to_string())? {
        Some(c) => c,
        None => {
            let cert = certify(&key)?;
            store
                .put_setting_if_absent(cert_setting, &cert)
                .map_err(|e| e.to_string())?
        }
    };
    Ok((key, cert))
}

impl EmbeddedCa {
    /// Load the CA, creating its keys and self-signed certificates on first start.
    pub fn load_or_create(
        store: &dyn Store,
        vault: &dyn ShareVault,
        validity_days: u32,
    ) -> Result<Self, String> {
        let now = crate::store::now_ms() / 1000;
        let (key, cert) = load_or_create_sealed(
            store,
            vault,
            ("inkseal/ca-key/v1", CA_KEY_SETTING, CA_CERT_SETTING),
            || CaKey::try_generate().map_err(|e| e.to_string()),
            |k| k.to_pkcs8_der().map_err(|e| e.to_string()),
            |der| CaKey::from_pkcs8_der(der).map_err(|e| e.to_string()),
            |k| {
                inkseal_pki::self_signed_ca(k, "inkseal embedded CA", ROOT_VALIDITY_DAYS, now)
                    .map_err(|e| e.to_string())
            },
        )?;
        let (p256_key, p256_cert) = load_or_create_sealed(
            store,
            vault,
            (
                "inkseal/ca-p256-key/v1",
                P256_CA_KEY_SETTING,
                P256_CA_CERT_SETTING,
            ),
            || P256CaKey::try_generate().map_err(|e| e.to_string()),
            |k| k.to_pkcs8_der().map_err(|e| e.to_string()),
            |der| P256CaKey::from_pkcs8_der(der).map_err(|e| e.to_string()),
            |k| {
                inkseal_pki::self_signed_ca(k, "inkseal embedded CA P-256", ROOT_VALIDITY_DAYS, now)
                    .map_err(|e| e.to_string())
            },
        )?;
        Ok(EmbeddedCa {
            key,
            cert,
            p256_key,
            p256_cert,
            validity_days,
        })
    }

    /// A certificate for one of the server's own services (time-stamping, OCSP) from `root`,
    /// valid for `validity_days` (capped by the root's validity).
    pub fn issue_service_certificate(
        &self,
        root: Root,
        subject: &EndEntity<'_>,
        validity_days: u32,
    ) -> Result<Vec<u8>, String> {
        let serial: [u8; 16] = random_serial()?;
        let (key, cert) = self.issuer(root);
        inkseal_pki::issue_end_entity(
            key,
            cert,
            subject,
            &serial,
            validity_days,
            crate::store::now_ms() / 1000,
        )
        .map_err(|e| e.to_string())
    }

    /// The key and certificate of `root`.
    fn issuer(&self, root: Root) -> (&dyn IssuerKey, &[u8]) {
        match root {
            Root::Sm2 => (&self.key, &self.cert),
            Root::P256 => (&self.p256_key, &self.p256_cert),
        }
    }

    /// The root certificate (DER) of `root`.
    pub fn root(&self, root: Root) -> &[u8] {
        match root {
            Root::Sm2 => &self.cert,
            Root::P256 => &self.p256_cert,
        }
    }
}

fn random_serial() -> Result<[u8; 16], String> {
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(|e| e.to_string())?;
    Ok(serial)
}

impl CertificateAuthority for EmbeddedCa {
    fn issue(&self, csr: &VerifiedCsr) -> Result<Vec<u8>, String> {
        let serial = random_serial()?;
        inkseal_pki::issue_certificate(
            &self.key,
            &self.cert,
            csr,
            &serial,
            self.validity_days,
            crate::store::now_ms() / 1000,
        )
        .map_err(|e| e.to_string())
    }

    fn ca_certificate(&self) -> &[u8] {
        &self.cert
    }

    fn root_certificates(&self) -> Vec<&[u8]> {
        vec![&self.cert, &self.p256_cert]
    }

    /// The root that issued every certificate asked about signs the answer (responderID by
    /// key); a request about another issuer, or about both roots' certificates at once, is
    /// `unauthorized`.
    fn ocsp(
        &self,
        query: &OcspQuery,
        status_of: &dyn Fn(&[u8]) -> Result<CertificateStatus, String>,
        now_unix: u64,
    ) -> Result<Vec<u8>, String> {
        let issued_by = |root: &[u8]| query.cert_ids.iter().all(|id| id.is_issued_by(root));
        let answers = query
            .cert_ids
            .iter()
            .map(|id| Ok((id.clone(), status_of(id.serial())?)))
            .collect::<Result<Vec<_>, String>>();
        let root = [Root::Sm2, Root::P256]
            .into_iter()
            .find(|r| issued_by(self.root(*r)));
        let response = match root {
            Some(root) => {
                let (key, cert) = self.issuer(root);
                inkseal_pki::build_ocsp_response(
                    key,
                    cert,
                    &answers?,
                    now_unix,
                    OCSP_VALIDITY_SECS,
                    query.nonce.as_deref(),
                )
            }
            None => inkseal_pki::ocsp_error_response(OcspResponseStatus::Unauthorized),
        };
        response.map_err(|e| e.to_string())
    }

    fn crl(
        &self,
        revoked: &[IssuedCertificate],
        crl_number: u64,
        this_update_unix: u64,
        next_update_unix: u64,
    ) -> Result<Vec<u8>, String> {
        let entries: Vec<inkseal_pki::RevokedCertificate> = revoked
            .iter()
            .map(|c| inkseal_pki::RevokedCertificate {
                serial: c.serial.clone(),
                revoked_at_unix: c.revoked_ms.unwrap_or(c.issued_ms) / 1000,
                reason: crl_reason(c.revocation_reason.as_deref()),
            })
            .collect();
        inkseal_pki::build_crl(
            &self.key,
            &self.cert,
            &entries,
            crl_number,
            this_update_unix,
            next_update_unix,
        )
        .map_err(|e| e.to_string())
    }
}
