//! Certificates for joint keys: CSR building and checking, an embedded SM2 CA.
//!
//! Sans-IO: every function takes bytes and returns bytes; nothing here does I/O, spawns tasks
//! or reads the clock (callers pass `now_unix`).
//!
//! * Phone: [`csr_to_be_signed`] gives the PKCS#10 CertificationRequestInfo DER for the joint
//!   key; the two-party protocol signs `e = inkseal_cosign::message_digest(&key, &tbs)` (the
//!   standard SM2 signature over those bytes, default signer ID); [`assemble_csr`] produces the
//!   CSR. When the certificate comes back, [`check_issued_for`] checks it is for the joint key
//!   and from the CA.
//! * Server: [`verify_csr`] checks the proof of possession; the embedded CA ([`CaKey`],
//!   [`self_signed_ca`], [`issue_certificate`]) issues X.509 v3 certificates and revokes them
//!   with CRLs ([`build_crl`]; [`certificate_serial`] names what to revoke, [`parse_crl`]
//!   checks a CRL against the CA certificate). [`verify_android_key_attestation`] checks the
//!   Android Key Attestation chain of a phone's P-256 device key (ECDSA P-256 / P-384 chains;
//!   the one place where algorithms other than SM2 are accepted).
//!
//! The embedded CA also keeps a P-256 root ([`P256CaKey`]) beside its SM2 root, so validators
//! without SM2 can check P-256 time-stamping, OCSP and signing certificates
//! ([`issue_end_entity`] with a [`CertificatePurpose`]); both keys sign through [`IssuerKey`].
//!
//! Otherwise only SM2 keys (id-ecPublicKey with curve sm2, 1.2.156.10197.1.301) and SM2-with-SM3
//! signatures (1.2.156.10197.1.501) are produced and accepted; signatures are DER
//! `SEQUENCE { r, s }` with the GB/T 32918 / GM/T 0009 default signer ID "1234567812345678".
//! OpenSSL 3.0 interoperates when told that ID (`-vfyopt distid:1234567812345678` to verify,
//! `-sigopt distid:1234567812345678` to sign); left to itself it hashes Z_A with an empty ID.

mod algorithm;
mod attestation;
mod ca;
mod crl;
mod csr;
mod csr_p256;
mod error;
mod key;
mod name;
mod ocsp;
mod organization;
mod pem;
mod time;
mod verify;

pub use algorithm::{
    ECDSA_WITH_SHA256, ID_EC_PUBLIC_KEY, PRIME256V1, SM2_CURVE, SM2_WITH_SM3, ec_public_key_parts,
    signature_from_der, signature_to_der,
};
pub use attestation::{
    ANDROID_KEY_ATTESTATION_OID, AndroidKeyAttestation, MAX_ATTESTATION_CHAIN_CERTIFICATES,
    SecurityLevel, key_description_der, verify_android_key_attestation,
};
pub use ca::{
    CertificatePurpose, EndEntity, RevocationPointers, certificate_ocsp_url, issue_certificate,
    issue_end_entity, self_signed_ca,
};
pub use crl::{
    MAX_CRL_BYTES, ParsedCrl, RevocationReason, RevokedCertificate, build_crl, certificate_serial,
    parse_crl,
};
pub use csr::{
    MAX_CSR_BYTES, VerifiedCsr, assemble_csr, csr_to_be_signed, read_csr_info, verify_csr,
};
pub use csr_p256::{
    VerifiedP256Csr, assemble_p256_csr, p256_csr_to_be_signed, read_p256_csr_info, verify_p256_csr,
};
pub use error::PkiError;
pub use key::{CaKey, IssuerKey, P256CaKey};
pub use name::MAX_COMMON_NAME_CHARS;
pub use ocsp::{
    CertId, CertIdHash, CertificateStatus, MAX_OCSP_REQUEST_BYTES, MAX_OCSP_REQUESTS,
    MAX_OCSP_RESPONSE_BYTES, OcspQuery, OcspResponseStatus, ParsedOcspResponse, SingleStatus,
    build_ocsp_response, ocsp_error_response, ocsp_request, parse_ocsp_request,
    parse_ocsp_response,
};
pub use organization::{
    CreditCode, CreditCodeError, MAX_ORGANIZATION_NAME_CHARS, ORGANIZATION_IDENTIFIER,
    ORGANIZATION_IDENTIFIER_PREFIX, Organization, SubjectOrganization, certificate_organization,
    issue_organization_certificate, organization_name,
};
pub use pem::{certificates_to_pem, der_to_pem, pem_to_der};
pub use time::{NOT_BEFORE_BACKDATE_SECS, certificate_validity, time_at};
pub use verify::{
    MAX_CERTIFICATE_BYTES, certificate_public_key, check_issued_for, check_p256_issued_for,
    verify_certificate_signature,
};
