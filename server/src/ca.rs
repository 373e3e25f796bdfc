//! Certificate authority adapter and the embedded SM2 CA.
//!
//! In production the server forwards the verified CSR to the institution's CA through this trait
//! (and that CA publishes its own revocation data); the embedded CA serves the demo and the
//! tests, and signs CRLs of the certificates the server revoked.

use crate::store::{IssuedCertificate, Store};
use crate::vault::{ShareVault, associated_data};
use inkseal_pki::{CaKey, VerifiedCsr};

/// Issues certificates for verified CSRs.
pub trait CertificateAuthority: Send + Sync {
    /// Issue a certificate (DER) for a CSR whose signature and key were already checked.
    fn issue(&self, csr: &VerifiedCsr) -> Result<Vec<u8>, String>;
    /// The issuing CA certificate (DER).
    fn ca_certificate(&self) -> &[u8];
    /// A CRL (DER) listing `revoked`, number `crl_number`, valid from `this_update_unix` to
    /// `next_update_unix`, signed by the CA.
    fn crl(
        &self,
        revoked: &[IssuedCertificate],
        crl_number: u64,
        this_update_unix: u64,
        next_update_unix: u64,
    ) -> Result<Vec<u8>, String>;
}

/// The CRL reason of a stored revocation reason name.
fn crl_reason(name: Option<&str>) -> Option<inkseal_pki::RevocationReason> {
    use inkseal_pki::RevocationReason as R;
    Some(match name? {
        "key_compromise" => R::KeyCompromise,
        "affiliation_changed" => R::AffiliationChanged,
        "superseded" => R::Superseded,
        "cessation_of_operation" => R::CessationOfOperation,
        _ => R::Unspecified,
    })
}

/// A CA whose SM2 key is sealed by the vault and kept in the store's settings.
pub struct EmbeddedCa {
    key: CaKey,
    cert: Vec<u8>,
    validity_days: u32,
}

const CA_KEY_SETTING: &str = "ca.key.sealed";
const CA_CERT_SETTING: &str = "ca.cert";

impl EmbeddedCa {
    /// Load the CA, creating its key and self-signed certificate on first start.
    pub fn load_or_create(
        store: &dyn Store,
        vault: &dyn ShareVault,
        validity_days: u32,
    ) -> Result<Self, String> {
        let aad = associated_data("inkseal/ca-key/v1", &[]);
        let sealed = match store
            .get_setting(CA_KEY_SETTING)
            .map_err(|e| e.to_string())?
        {
            Some(s) => s,
            None => {
                let key = CaKey::generate();
                let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
                let sealed = vault.seal(&aad, &der).map_err(|e| e.to_string())?;
                store
                    .put_setting_if_absent(CA_KEY_SETTING, &sealed)
                    .map_err(|e| e.to_string())?
            }
        };
        let der = vault.open(&aad, &sealed).map_err(|e| e.to_string())?;
        let key = CaKey::from_pkcs8_der(&der).map_err(|e| e.to_string())?;
        let cert = match store
            .get_setting(CA_CERT_SETTING)
            .map_err(|e| e.to_string())?
        {
            Some(c) => c,
            None => {
                let cert = inkseal_pki::self_signed_ca(
                    &key,
                    "inkseal embedded CA",
                    3650,
                    crate::store::now_ms() / 1000,
                )
                .map_err(|e| e.to_string())?;
                store
                    .put_setting_if_absent(CA_CERT_SETTING, &cert)
                    .map_err(|e| e.to_string())?
            }
        };
        Ok(EmbeddedCa {
            key,
            cert,
            validity_days,
        })
    }
}

impl CertificateAuthority for EmbeddedCa {
    fn issue(&self, csr: &VerifiedCsr) -> Result<Vec<u8>, String> {
        let mut serial = [0u8; 16];
        getrandom::fill(&mut serial).map_err(|e| e.to_string())?;
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
