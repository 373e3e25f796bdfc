//! Certificate authority adapter and the embedded CA (an SM2 root and a P-256 root).
//!
//! In production the server forwards the verified CSR to the institution's CA through this trait
//! (and that CA publishes its own revocation data); the embedded CA serves the demo and the
//! tests, and signs CRLs of the certificates the server revoked.

use crate::store::{IssuedCertificate, Store};
use crate::vault::{ShareVault, associated_data};
use inkseal_pki::{
    CaKey, CertificatePurpose, CertificateStatus, EndEntity, IssuerKey, OcspQuery,
    OcspResponseStatus, P256CaKey, VerifiedCsr,
};

/// Issues certificates for verified CSRs.
pub trait CertificateAuthority: Send + Sync {
    /// Issue a certificate (DER) for a CSR whose signature and key were already checked.
    fn issue(&self, csr: &VerifiedCsr) -> Result<Vec<u8>, String>;
    /// Issue an encryption certificate (DER, keyUsage keyEncipherment only) for the CSR of an
    /// encryption key (two-party decryption). A CA that issues none refuses.
    fn issue_encryption(&self, csr: &VerifiedCsr) -> Result<Vec<u8>, String> {
        let _ = csr;
        Err("this certificate authority issues no encryption certificates".into())
    }
    /// Issue an ecdsa-with-SHA256 document-signing certificate (DER) for the verified CSR of
    /// a two-party P-256 key, with the issuing certificate (DER). A CA that issues none
    /// refuses.
    fn issue_p256(&self, csr: &inkseal_pki::VerifiedP256Csr) -> Result<(Vec<u8>, Vec<u8>), String> {
        let _ = csr;
        Err("this certificate authority issues no P-256 certificates".into())
    }
    /// The issuing CA certificate (DER).
    fn ca_certificate(&self) -> &[u8];
    /// The certificate (DER) that issues to two-party P-256 keys, if this CA does.
    fn p256_ca_certificate(&self) -> Option<&[u8]> {
        None
    }
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
    /// An organisation (e-seal) certificate (DER) for the key `spki`, issued by `root`
    /// (the SM2 root for SM2 seals, the P-256 root for P-256 seals), with the subject
    /// `C=CN, O, organizationIdentifier=NTRCN-<credit code>, CN`, the key usage of `purpose`
    /// (digitalSignature and nonRepudiation for a seal; keyAgreement or keyEncipherment for an
    /// encryption key), and the revocation pointers of other issued certificates; returned
    /// with the issuing root (DER). A CA that issues none refuses.
    fn issue_organization_certificate(
        &self,
        root: Root,
        spki: &spki::SubjectPublicKeyInfoOwned,
        org: &inkseal_pki::Organization<'_>,
        purpose: CertificatePurpose,
    ) -> Result<(Vec<u8>, Vec<u8>), String> {
        let _ = (root, spki, org, purpose);
        Err("this certificate authority issues no organisation certificates".into())
    }
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
///
/// OCSP responses are signed by a delegated responder per root (id-kp-OCSPSigning with
/// id-pkix-ocsp-nocheck, RFC 6960 §4.2.2.2), not by the root itself: long-term validators
/// (pyHanko's past validation, ETSI EN 319 102-1) would otherwise ask for revocation data
/// about the root to trust its own response, and the root key signs only certificates and
/// CRLs. The responder certificates live [`OCSP_RESPONDER_VALIDITY_DAYS`] and are issued again
/// at start when less than [`SERVICE_CERT_RENEW_DAYS`] remain.
pub struct EmbeddedCa {
    key: CaKey,
    cert: Vec<u8>,
    p256_key: P256CaKey,
    p256_cert: Vec<u8>,
    ocsp_sm2: Responder<CaKey>,
    ocsp_p256: Responder<P256CaKey>,
    validity_days: u32,
    /// `(OCSP URL, CRL URL)` named in the certificates it issues.
    revocation_urls: Option<(String, String)>,
}

/// A delegated OCSP responder: its key and its certificate (DER).
struct Responder<K> {
    key: K,
    cert: Vec<u8>,
}

/// Validity of a delegated OCSP responder certificate, in days. The certificate carries
/// ocsp-nocheck (it cannot be revoked), so it is kept short.
pub const OCSP_RESPONDER_VALIDITY_DAYS: u32 = 90;

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

/// A kind of key the vault seals in the store's settings (the roots, the TSA units, the OCSP
/// responders).
pub(crate) trait SealedKey: IssuerKey + Sized {
    fn generate() -> Result<Self, String>;
    fn to_der(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, String>;
    fn from_der(der: &[u8]) -> Result<Self, String>;
}

impl SealedKey for CaKey {
    fn generate() -> Result<Self, String> {
        CaKey::try_generate().map_err(|e| e.to_string())
    }
    fn to_der(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
        self.to_pkcs8_der().map_err(|e| e.to_string())
    }
    fn from_der(der: &[u8]) -> Result<Self, String> {
        CaKey::from_pkcs8_der(der).map_err(|e| e.to_string())
    }
}

impl SealedKey for P256CaKey {
    fn generate() -> Result<Self, String> {
        P256CaKey::try_generate().map_err(|e| e.to_string())
    }
    fn to_der(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
        self.to_pkcs8_der().map_err(|e| e.to_string())
    }
    fn from_der(der: &[u8]) -> Result<Self, String> {
        P256CaKey::from_pkcs8_der(der).map_err(|e| e.to_string())
    }
}

/// When a stored certificate is issued again at start (same key).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Renewal<'a> {
    /// Never (the self-signed roots).
    Never,
    /// A service certificate: when it expires within [`SERVICE_CERT_RENEW_DAYS`], or names
    /// another OCSP responder than `ocsp_url` (the server's public URL changed).
    Service { ocsp_url: Option<&'a str> },
}

/// A service certificate with fewer days left than this is issued again at start.
pub const SERVICE_CERT_RENEW_DAYS: u64 = 30;

impl Renewal<'_> {
    fn due(&self, cert: &[u8]) -> Result<bool, String> {
        match self {
            Renewal::Never => Ok(false),
            Renewal::Service { ocsp_url } => {
                let (_, not_after) =
                    inkseal_pki::certificate_validity(cert).map_err(|e| e.to_string())?;
                let soon = crate::store::now_ms() / 1000 + SERVICE_CERT_RENEW_DAYS * 86_400;
                let named = inkseal_pki::certificate_ocsp_url(cert).map_err(|e| e.to_string())?;
                Ok(not_after < soon || named.as_deref() != *ocsp_url)
            }
        }
    }
}

/// A key sealed by the vault in the store's settings, created on first use; with its
/// certificate, also created on first use (both with "insert if absent", so replicas starting
/// together agree on one) and issued again when `renewal` says so. `names`: the sealing's
/// associated-data label, the key's setting and the certificate's.
pub(crate) fn load_or_create_sealed<K: SealedKey>(
    store: &dyn Store,
    vault: &dyn ShareVault,
    names: (&str, &str, &str),
    certify: impl Fn(&K) -> Result<Vec<u8>, String>,
    renewal: Renewal<'_>,
) -> Result<(K, Vec<u8>), String> {
    let (aad_label, key_setting, cert_setting) = names;
    let aad = associated_data(aad_label, &[]);
    let sealed = match store.get_setting(key_setting).map_err(|e| e.to_string())? {
        Some(s) => s,
        None => {
            let key = K::generate()?;
            let sealed = vault
                .seal(&aad, &key.to_der()?)
                .map_err(|e| e.to_string())?;
            store
                .put_setting_if_absent(key_setting, &sealed)
                .map_err(|e| e.to_string())?
        }
    };
    let der = zeroize::Zeroizing::new(vault.open(&aad, &sealed).map_err(|e| e.to_string())?);
    let key = K::from_der(&der)?;
    let mut cert = match store.get_setting(cert_setting).map_err(|e| e.to_string())? {
        Some(c) => c,
        None => {
            let cert = certify(&key)?;
            store
                .put_setting_if_absent(cert_setting, &cert)
                .map_err(|e| e.to_string())?
        }
    };
    if renewal.due(&cert)? {
        cert = certify(&key)?;
        store
            .put_setting(cert_setting, &cert)
            .map_err(|e| e.to_string())?;
        tracing::info!(
            certificate = cert_setting,
            "service certificate issued again"
        );
    }
    Ok((key, cert))
}

impl EmbeddedCa {
    /// Load the CA, creating its keys and self-signed certificates on first start.
    ///
    /// With `public_url` (where relying parties reach this server), the certificates it issues
    /// (but the OCSP responders') name its OCSP responder (`{public_url}/v1/ocsp`) and, for
    /// the SM2 root's, its CRL (`{public_url}/v1/crl`).
    pub fn load_or_create(
        store: &dyn Store,
        vault: &dyn ShareVault,
        validity_days: u32,
        public_url: Option<&str>,
    ) -> Result<Self, String> {
        let now = crate::store::now_ms() / 1000;
        let (key, cert) = load_or_create_sealed(
            store,
            vault,
            ("inkseal/ca-key/v1", CA_KEY_SETTING, CA_CERT_SETTING),
            |k: &CaKey| {
                inkseal_pki::self_signed_ca(k, "inkseal embedded CA", ROOT_VALIDITY_DAYS, now)
                    .map_err(|e| e.to_string())
            },
            Renewal::Never,
        )?;
        let (p256_key, p256_cert) = load_or_create_sealed(
            store,
            vault,
            (
                "inkseal/ca-p256-key/v1",
                P256_CA_KEY_SETTING,
                P256_CA_CERT_SETTING,
            ),
            |k: &P256CaKey| {
                inkseal_pki::self_signed_ca(k, "inkseal embedded CA P-256", ROOT_VALIDITY_DAYS, now)
                    .map_err(|e| e.to_string())
            },
            Renewal::Never,
        )?;
        let ocsp_sm2 = load_responder(
            store,
            vault,
            (
                "inkseal/ocsp-sm2-key/v1",
                "ocsp.sm2.key.sealed",
                "ocsp.sm2.cert",
            ),
            (&key, &cert, "inkseal OCSP responder SM2"),
        )?;
        let ocsp_p256 = load_responder(
            store,
            vault,
            (
                "inkseal/ocsp-p256-key/v1",
                "ocsp.p256.key.sealed",
                "ocsp.p256.cert",
            ),
            (&p256_key, &p256_cert, "inkseal OCSP responder P-256"),
        )?;
        Ok(EmbeddedCa {
            key,
            cert,
            p256_key,
            p256_cert,
            ocsp_sm2,
            ocsp_p256,
            validity_days,
            revocation_urls: public_url.map(|u| {
                let base = u.trim_end_matches('/');
                (format!("{base}/v1/ocsp"), format!("{base}/v1/crl"))
            }),
        })
    }

    /// The delegated OCSP responder certificate (DER) of `root`.
    pub fn ocsp_responder_certificate(&self, root: Root) -> &[u8] {
        match root {
            Root::Sm2 => &self.ocsp_sm2.cert,
            Root::P256 => &self.ocsp_p256.cert,
        }
    }

    /// A certificate for one of the server's own services (time-stamping, OCSP) from `root`,
    /// valid for `validity_days` (capped by the root's validity).
    pub fn issue_service_certificate(
        &self,
        root: Root,
        subject: &EndEntity<'_>,
        validity_days: u32,
    ) -> Result<Vec<u8>, String> {
        let (key, cert) = self.issuer(root);
        let subject = EndEntity {
            revocation: match subject.purpose {
                CertificatePurpose::OcspSigning => None,
                _ => self.revocation_pointers(root),
            },
            ..subject.clone()
        };
        issue_service(key, cert, &subject, validity_days)
    }

    /// What certificates from `root` name as their revocation sources.
    pub(crate) fn revocation_pointers(
        &self,
        root: Root,
    ) -> Option<inkseal_pki::RevocationPointers<'_>> {
        self.revocation_urls
            .as_ref()
            .map(|(ocsp, crl)| inkseal_pki::RevocationPointers {
                ocsp_url: ocsp,
                // The CRL is the SM2 root's.
                crl_url: (root == Root::Sm2).then_some(crl.as_str()),
            })
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

fn issue_service(
    root_key: &dyn IssuerKey,
    root_cert: &[u8],
    subject: &EndEntity<'_>,
    validity_days: u32,
) -> Result<Vec<u8>, String> {
    let serial: [u8; 16] = random_serial()?;
    inkseal_pki::issue_end_entity(
        root_key,
        root_cert,
        subject,
        &serial,
        validity_days,
        crate::store::now_ms() / 1000,
    )
    .map_err(|e| e.to_string())
}

/// Load (or create) a delegated OCSP responder of the root `(root_key, root_cert)`, issuing
/// its certificate again when it is about to expire.
fn load_responder<K: SealedKey>(
    store: &dyn Store,
    vault: &dyn ShareVault,
    names: (&str, &str, &str),
    issuer: (&dyn IssuerKey, &[u8], &str),
) -> Result<Responder<K>, String> {
    let (root_key, root_cert, common_name) = issuer;
    let certify = |k: &K| {
        issue_service(
            root_key,
            root_cert,
            &EndEntity {
                subject_public_key_info: k.subject_public_key_info().map_err(|e| e.to_string())?,
                common_name,
                purpose: CertificatePurpose::OcspSigning,
                revocation: None,
            },
            OCSP_RESPONDER_VALIDITY_DAYS,
        )
    };
    let (key, cert) = load_or_create_sealed(
        store,
        vault,
        names,
        certify,
        Renewal::Service { ocsp_url: None },
    )?;
    Ok(Responder { key, cert })
}

fn random_serial() -> Result<[u8; 16], String> {
    let mut serial = [0u8; 16];
    getrandom::fill(&mut serial).map_err(|e| e.to_string())?;
    Ok(serial)
}

impl CertificateAuthority for EmbeddedCa {
    fn issue(&self, csr: &VerifiedCsr) -> Result<Vec<u8>, String> {
        let serial = random_serial()?;
        inkseal_pki::issue_end_entity(
            &self.key,
            &self.cert,
            &csr.end_entity(self.revocation_pointers(Root::Sm2))
                .map_err(|e| e.to_string())?,
            &serial,
            self.validity_days,
            crate::store::now_ms() / 1000,
        )
        .map_err(|e| e.to_string())
    }

    fn issue_encryption(&self, csr: &VerifiedCsr) -> Result<Vec<u8>, String> {
        let serial = random_serial()?;
        let subject = EndEntity {
            purpose: CertificatePurpose::KeyEncipherment,
            ..csr
                .end_entity(self.revocation_pointers(Root::Sm2))
                .map_err(|e| e.to_string())?
        };
        inkseal_pki::issue_end_entity(
            &self.key,
            &self.cert,
            &subject,
            &serial,
            self.validity_days,
            crate::store::now_ms() / 1000,
        )
        .map_err(|e| e.to_string())
    }

    fn issue_p256(&self, csr: &inkseal_pki::VerifiedP256Csr) -> Result<(Vec<u8>, Vec<u8>), String> {
        let serial = random_serial()?;
        let issued = inkseal_pki::issue_end_entity(
            &self.p256_key,
            &self.p256_cert,
            &csr.end_entity(self.revocation_pointers(Root::P256))
                .map_err(|e| e.to_string())?,
            &serial,
            self.validity_days,
            crate::store::now_ms() / 1000,
        )
        .map_err(|e| e.to_string())?;
        Ok((issued, self.p256_cert.clone()))
    }

    fn ca_certificate(&self) -> &[u8] {
        &self.cert
    }

    fn p256_ca_certificate(&self) -> Option<&[u8]> {
        Some(&self.p256_cert)
    }

    fn issue_organization_certificate(
        &self,
        root: Root,
        spki: &spki::SubjectPublicKeyInfoOwned,
        org: &inkseal_pki::Organization<'_>,
        purpose: CertificatePurpose,
    ) -> Result<(Vec<u8>, Vec<u8>), String> {
        let (key, cert) = self.issuer(root);
        let serial = random_serial()?;
        let subject = EndEntity {
            subject_public_key_info: spki.clone(),
            common_name: org.common_name,
            purpose,
            revocation: self.revocation_pointers(root),
        };
        let issued = inkseal_pki::issue_organization_certificate(
            key,
            cert,
            &subject,
            org,
            &serial,
            self.validity_days,
            crate::store::now_ms() / 1000,
        )
        .map_err(|e| e.to_string())?;
        Ok((issued, cert.to_vec()))
    }

    fn root_certificates(&self) -> Vec<&[u8]> {
        vec![&self.cert, &self.p256_cert]
    }

    /// The delegated responder of the root that issued every certificate asked about signs
    /// the answer (responderID by key, its certificate embedded); a request about another
    /// issuer, or about both roots' certificates at once, is `unauthorized`.
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
                let (key, cert): (&dyn IssuerKey, &[u8]) = match root {
                    Root::Sm2 => (&self.ocsp_sm2.key, &self.ocsp_sm2.cert),
                    Root::P256 => (&self.ocsp_p256.key, &self.ocsp_p256.cert),
                };
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
