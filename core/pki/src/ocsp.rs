//! OCSP (RFC 6960): the embedded CA's responder answers for the certificates it issued, and
//! verifiers read the responses a PDF carries (PAdES B-LT) without going online.
//!
//! The responder is the issuing CA itself (responses signed by the CA key, responderID byKey),
//! so no delegated responder certificate has to be trusted or checked for revocation.
//! [`CertId`]s are accepted with SHA-1 (what OpenSSL and pyHanko send by default) or SHA-256
//! hashes; responses are always built with the hash the request used. Statuses: good, revoked
//! (with time and reason) and unknown (a serial this CA did not issue). A request naming
//! another issuer is answered `unauthorized`.
//!
//! The RustCrypto `x509-ocsp` crate declares these structures on `der` 0.7 / `x509-cert` 0.2;
//! this workspace is on `der` 0.8, so the few types are declared here with the same derive.

use crate::crl::RevocationReason;
use crate::error::{PkiError, encoding, malformed};
use crate::key::IssuerKey;
use const_oid::db::rfc6960::{ID_PKIX_OCSP_BASIC, ID_PKIX_OCSP_NONCE};
use der::asn1::{Any, BitString, GeneralizedTime, Null, ObjectIdentifier, OctetString};
use der::{Choice, Decode, Encode, Enumerated, Sequence};
use sha2::Digest;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::{Extension, Extensions};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

/// Largest OCSP request (DER bytes) [`parse_ocsp_request`] accepts.
pub const MAX_OCSP_REQUEST_BYTES: usize = 8 * 1024;
/// Largest OCSP response (DER bytes) [`parse_ocsp_response`] accepts.
pub const MAX_OCSP_RESPONSE_BYTES: usize = 64 * 1024;
/// Most certificates one request may ask about.
pub const MAX_OCSP_REQUESTS: usize = 16;

const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

// --- the ASN.1 --------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct CertIdAsn1 {
    hash_algorithm: AlgorithmIdentifierOwned,
    issuer_name_hash: OctetString,
    issuer_key_hash: OctetString,
    serial_number: SerialNumber,
}

#[derive(Clone, Debug, Sequence)]
struct OcspRequestAsn1 {
    tbs_request: TbsRequest,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    optional_signature: Option<Any>,
}

#[derive(Clone, Debug, Sequence)]
struct TbsRequest {
    #[asn1(
        context_specific = "0",
        tag_mode = "EXPLICIT",
        default = "Default::default"
    )]
    version: u8,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    requestor_name: Option<Any>,
    request_list: Vec<RequestAsn1>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    request_extensions: Option<Extensions>,
}

#[derive(Clone, Debug, Sequence)]
struct RequestAsn1 {
    req_cert: CertIdAsn1,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    single_request_extensions: Option<Extensions>,
}

/// OCSPResponseStatus (RFC 6960 section 4.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enumerated)]
#[repr(u32)]
pub enum OcspResponseStatus {
    /// successful (0): the response carries statuses.
    Successful = 0,
    /// malformedRequest (1).
    MalformedRequest = 1,
    /// internalError (2).
    InternalError = 2,
    /// tryLater (3).
    TryLater = 3,
    /// sigRequired (5).
    SigRequired = 5,
    /// unauthorized (6): this responder does not answer for that issuer.
    Unauthorized = 6,
}

#[derive(Clone, Debug, Sequence)]
struct OcspResponseAsn1 {
    response_status: OcspResponseStatus,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    response_bytes: Option<ResponseBytes>,
}

#[derive(Clone, Debug, Sequence)]
struct ResponseBytes {
    response_type: ObjectIdentifier,
    response: OctetString,
}

#[derive(Clone, Debug, Sequence)]
struct BasicOcspResponse {
    tbs_response_data: Any,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    certs: Option<Vec<Any>>,
}

#[derive(Clone, Debug, Sequence)]
struct ResponseData {
    #[asn1(
        context_specific = "0",
        tag_mode = "EXPLICIT",
        default = "Default::default"
    )]
    version: u8,
    responder_id: ResponderId,
    produced_at: GeneralizedTime,
    responses: Vec<SingleResponseAsn1>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    response_extensions: Option<Extensions>,
}

#[derive(Clone, Debug, Choice)]
enum ResponderId {
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    ByName(Name),
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    ByKey(OctetString),
}

#[derive(Clone, Debug, Sequence)]
struct SingleResponseAsn1 {
    cert_id: CertIdAsn1,
    cert_status: CertStatusAsn1,
    this_update: GeneralizedTime,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    next_update: Option<GeneralizedTime>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    single_extensions: Option<Extensions>,
}

#[derive(Clone, Debug, Choice)]
enum CertStatusAsn1 {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    Good(Null),
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Revoked(RevokedInfo),
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    Unknown(Null),
}

#[derive(Clone, Debug, Sequence)]
struct RevokedInfo {
    revocation_time: GeneralizedTime,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    revocation_reason: Option<CrlReason>,
}

// --- certificate identifiers -------------------------------------------------------------------

/// The hash a [`CertId`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertIdHash {
    /// SHA-1 (RFC 6960's usual choice; only an identifier, not a signature).
    Sha1,
    /// SHA-256.
    Sha256,
}

impl CertIdHash {
    fn oid(self) -> ObjectIdentifier {
        match self {
            CertIdHash::Sha1 => ID_SHA1,
            CertIdHash::Sha256 => ID_SHA256,
        }
    }

    fn digest(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            CertIdHash::Sha1 => sha1::Sha1::digest(bytes).to_vec(),
            CertIdHash::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
        }
    }
}

/// Which certificate an OCSP request or response is about: hashes of its issuer's name and
/// key, and its serial number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertId {
    asn1: CertIdAsn1,
    hash: CertIdHash,
}

impl CertId {
    /// The identifier of the certificate `cert_der` issued by `issuer_der`.
    pub fn for_certificate(
        cert_der: &[u8],
        issuer_der: &[u8],
        hash: CertIdHash,
    ) -> Result<Self, PkiError> {
        let cert = Certificate::from_der(cert_der).map_err(malformed("certificate"))?;
        Self::new(
            issuer_der,
            cert.tbs_certificate().serial_number().clone(),
            hash,
        )
    }

    /// The identifier of the certificate with serial `serial` (a big-endian magnitude)
    /// issued by `issuer_der`.
    pub fn for_serial(
        issuer_der: &[u8],
        serial: &[u8],
        hash: CertIdHash,
    ) -> Result<Self, PkiError> {
        let start = serial.iter().position(|b| *b != 0).unwrap_or(serial.len());
        let magnitude = &serial[start..];
        if magnitude.is_empty() || magnitude.len() > 20 {
            return Err(PkiError::InvalidInput(
                "a serial number is 1 to 20 octets and not zero".into(),
            ));
        }
        let serial = SerialNumber::new(magnitude).map_err(encoding("serial number"))?;
        Self::new(issuer_der, serial, hash)
    }

    fn new(issuer_der: &[u8], serial: SerialNumber, hash: CertIdHash) -> Result<Self, PkiError> {
        let (name_hash, key_hash) = issuer_hashes(issuer_der, hash)?;
        Ok(CertId {
            asn1: CertIdAsn1 {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: hash.oid(),
                    parameters: Some(Any::from(Null)),
                },
                issuer_name_hash: OctetString::new(name_hash).map_err(encoding("name hash"))?,
                issuer_key_hash: OctetString::new(key_hash).map_err(encoding("key hash"))?,
                serial_number: serial,
            },
            hash,
        })
    }

    fn from_asn1(asn1: CertIdAsn1) -> Result<Self, PkiError> {
        let hash = if asn1.hash_algorithm.oid == ID_SHA1 {
            CertIdHash::Sha1
        } else if asn1.hash_algorithm.oid == ID_SHA256 {
            CertIdHash::Sha256
        } else {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "OCSP CertID hash {} (SHA-1 and SHA-256 are supported)",
                asn1.hash_algorithm.oid
            )));
        };
        Ok(CertId { asn1, hash })
    }

    /// Whether the issuer hashes name `issuer_der` (its subject and its key).
    pub fn is_issued_by(&self, issuer_der: &[u8]) -> bool {
        issuer_hashes(issuer_der, self.hash).is_ok_and(|(name, key)| {
            name == self.asn1.issuer_name_hash.as_bytes()
                && key == self.asn1.issuer_key_hash.as_bytes()
        })
    }

    /// The serial number as a big-endian magnitude (no sign octet), as
    /// [`crate::certificate_serial`] gives it.
    pub fn serial(&self) -> &[u8] {
        let bytes = self.asn1.serial_number.as_bytes();
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        &bytes[start..]
    }

    /// The hash it uses.
    pub fn hash(&self) -> CertIdHash {
        self.hash
    }
}

/// (hash of the issuer's subject DER, hash of its subjectPublicKey bits).
fn issuer_hashes(issuer_der: &[u8], hash: CertIdHash) -> Result<(Vec<u8>, Vec<u8>), PkiError> {
    let issuer = Certificate::from_der(issuer_der).map_err(malformed("issuer certificate"))?;
    let tbs = issuer.tbs_certificate();
    let name = tbs.subject().to_der().map_err(encoding("issuer name"))?;
    let key = tbs
        .subject_public_key_info()
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| PkiError::Malformed("issuer key BIT STRING has unused bits".into()))?;
    Ok((hash.digest(&name), hash.digest(key)))
}

// --- requests ----------------------------------------------------------------------------------

/// An OCSP request as the responder reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcspQuery {
    /// The certificates asked about, in request order.
    pub cert_ids: Vec<CertId>,
    /// The nonce extension's value (its DER OCTET STRING), echoed in the response.
    pub nonce: Option<Vec<u8>>,
}

/// Parse a DER OCSP request (at most [`MAX_OCSP_REQUEST_BYTES`], at most
/// [`MAX_OCSP_REQUESTS`] certificates, SHA-1 or SHA-256 CertIDs). A signed request is read but
/// its signature is not checked (this responder answers anyone).
pub fn parse_ocsp_request(der: &[u8]) -> Result<OcspQuery, PkiError> {
    if der.len() > MAX_OCSP_REQUEST_BYTES {
        return Err(PkiError::TooLarge(MAX_OCSP_REQUEST_BYTES));
    }
    let request = OcspRequestAsn1::from_der(der).map_err(malformed("OCSPRequest"))?;
    let tbs = request.tbs_request;
    if tbs.version != 0 {
        return Err(PkiError::Malformed(format!(
            "OCSP request version {}",
            tbs.version
        )));
    }
    if tbs.request_list.is_empty() || tbs.request_list.len() > MAX_OCSP_REQUESTS {
        return Err(PkiError::InvalidInput(format!(
            "an OCSP request asks about 1 to {MAX_OCSP_REQUESTS} certificates, not {}",
            tbs.request_list.len()
        )));
    }
    let nonce = tbs
        .request_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
        .map(|e| e.extn_value.as_bytes().to_vec());
    let cert_ids = tbs
        .request_list
        .into_iter()
        .map(|r| CertId::from_asn1(r.req_cert))
        .collect::<Result<_, _>>()?;
    Ok(OcspQuery { cert_ids, nonce })
}

/// A DER OCSP request for `cert_ids`, with a nonce extension when `nonce` is given (its
/// bytes become an OCTET STRING).
pub fn ocsp_request(cert_ids: &[CertId], nonce: Option<&[u8]>) -> Result<Vec<u8>, PkiError> {
    let request_extensions = match nonce {
        None => None,
        Some(n) => Some(vec![Extension {
            extn_id: ID_PKIX_OCSP_NONCE,
            critical: false,
            extn_value: OctetString::new(
                OctetString::new(n)
                    .and_then(|o| o.to_der())
                    .map_err(encoding("nonce"))?,
            )
            .map_err(encoding("nonce"))?,
        }]),
    };
    OcspRequestAsn1 {
        tbs_request: TbsRequest {
            version: 0,
            requestor_name: None,
            request_list: cert_ids
                .iter()
                .map(|id| RequestAsn1 {
                    req_cert: id.asn1.clone(),
                    single_request_extensions: None,
                })
                .collect(),
            request_extensions,
        },
        optional_signature: None,
    }
    .to_der()
    .map_err(encoding("OCSPRequest"))
}

// --- responses ---------------------------------------------------------------------------------

/// A certificate's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateStatus {
    /// Not revoked.
    Good,
    /// Revoked at `at_unix` (seconds), for `reason` when one is given.
    Revoked {
        /// When.
        at_unix: u64,
        /// Why.
        reason: Option<RevocationReason>,
    },
    /// This responder knows no such certificate.
    Unknown,
}

/// A DER OCSPResponse (status successful, id-pkix-ocsp-basic) answering `answers`, signed by
/// `responder_key`, whose certificate `responder_cert_der` is the CA that issued the
/// certificates (responderID byKey: SHA-1 of its key) and is embedded in the response.
/// producedAt and thisUpdate are `now_unix`; nextUpdate is `now_unix + validity_secs`. The
/// request's `nonce` (the extension value as [`OcspQuery::nonce`] gives it) is echoed.
pub fn build_ocsp_response(
    responder_key: &(impl IssuerKey + ?Sized),
    responder_cert_der: &[u8],
    answers: &[(CertId, CertificateStatus)],
    now_unix: u64,
    validity_secs: u64,
    nonce: Option<&[u8]>,
) -> Result<Vec<u8>, PkiError> {
    let responder =
        Certificate::from_der(responder_cert_der).map_err(malformed("responder certificate"))?;
    if *responder.tbs_certificate().subject_public_key_info()
        != responder_key.subject_public_key_info()?
    {
        return Err(PkiError::KeyMismatch);
    }
    let key_bits = responder
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| PkiError::Malformed("responder key has unused bits".into()))?;
    let time = |unix: u64| {
        GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(unix))
            .map_err(|e| PkiError::InvalidInput(format!("time {unix}: {e}")))
    };
    let responses = answers
        .iter()
        .map(|(id, status)| {
            Ok(SingleResponseAsn1 {
                cert_id: id.asn1.clone(),
                cert_status: match status {
                    CertificateStatus::Good => CertStatusAsn1::Good(Null),
                    CertificateStatus::Unknown => CertStatusAsn1::Unknown(Null),
                    CertificateStatus::Revoked { at_unix, reason } => {
                        CertStatusAsn1::Revoked(RevokedInfo {
                            revocation_time: time(*at_unix)?,
                            revocation_reason: reason.map(RevocationReason::to_x509),
                        })
                    }
                },
                this_update: time(now_unix)?,
                next_update: Some(time(now_unix.saturating_add(validity_secs))?),
                single_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, PkiError>>()?;
    let response_extensions = match nonce {
        None => None,
        Some(n) => Some(vec![Extension {
            extn_id: ID_PKIX_OCSP_NONCE,
            critical: false,
            extn_value: OctetString::new(n).map_err(encoding("nonce"))?,
        }]),
    };
    let data = ResponseData {
        version: 0,
        responder_id: ResponderId::ByKey(
            OctetString::new(CertIdHash::Sha1.digest(key_bits)).map_err(encoding("key hash"))?,
        ),
        produced_at: time(now_unix)?,
        responses,
        response_extensions,
    };
    let tbs = data.to_der().map_err(encoding("ResponseData"))?;
    let signature = responder_key.sign_to_der(&tbs)?;
    let basic = BasicOcspResponse {
        tbs_response_data: Any::from_der(&tbs).map_err(encoding("ResponseData"))?,
        signature_algorithm: responder_key.signature_algorithm(),
        signature: BitString::from_bytes(&signature).map_err(encoding("signature"))?,
        certs: Some(vec![
            Any::from_der(responder_cert_der).map_err(encoding("responder certificate"))?,
        ]),
    };
    OcspResponseAsn1 {
        response_status: OcspResponseStatus::Successful,
        response_bytes: Some(ResponseBytes {
            response_type: ID_PKIX_OCSP_BASIC,
            response: OctetString::new(basic.to_der().map_err(encoding("BasicOCSPResponse"))?)
                .map_err(encoding("response"))?,
        }),
    }
    .to_der()
    .map_err(encoding("OCSPResponse"))
}

/// An OCSPResponse without a body: `status` must not be successful.
pub fn ocsp_error_response(status: OcspResponseStatus) -> Result<Vec<u8>, PkiError> {
    if status == OcspResponseStatus::Successful {
        return Err(PkiError::InvalidInput(
            "a successful response carries statuses".into(),
        ));
    }
    OcspResponseAsn1 {
        response_status: status,
        response_bytes: None,
    }
    .to_der()
    .map_err(encoding("OCSPResponse"))
}

/// One certificate's status in a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SingleStatus {
    /// Which certificate.
    pub cert_id: CertId,
    /// Its status.
    pub status: CertificateStatus,
    /// When the status was known to be correct (seconds).
    pub this_update_unix: u64,
    /// When newer information will be available (seconds), if stated.
    pub next_update_unix: Option<u64>,
}

/// A successful basic OCSP response, decoded; its signature is not checked here (see
/// [`ParsedOcspResponse::signed_data`]).
#[derive(Clone, Debug)]
pub struct ParsedOcspResponse {
    /// When the response was signed (seconds).
    pub produced_at_unix: u64,
    /// The statuses.
    pub responses: Vec<SingleStatus>,
    /// Certificates embedded in the response (DER), e.g. the responder's.
    pub certificates: Vec<Vec<u8>>,
    /// The nonce extension's value, if any.
    pub nonce: Option<Vec<u8>>,
    tbs: Vec<u8>,
    signature_algorithm: ObjectIdentifier,
    signature: Vec<u8>,
    responder_key_hash: Option<Vec<u8>>,
    responder_name: Option<Name>,
}

impl ParsedOcspResponse {
    /// What the signature covers (the DER ResponseData), the signature algorithm OID and the
    /// signature (DER `SEQUENCE { r, s }`): the caller checks it under the responder's key.
    pub fn signed_data(&self) -> (&[u8], ObjectIdentifier, &[u8]) {
        (&self.tbs, self.signature_algorithm, &self.signature)
    }

    /// Whether the responderID names the certificate `cert_der` (by key hash or subject).
    pub fn responder_is(&self, cert_der: &[u8]) -> bool {
        let Ok(cert) = Certificate::from_der(cert_der) else {
            return false;
        };
        let tbs = cert.tbs_certificate();
        match (&self.responder_key_hash, &self.responder_name) {
            (Some(hash), _) => tbs
                .subject_public_key_info()
                .subject_public_key
                .as_bytes()
                .is_some_and(|bits| CertIdHash::Sha1.digest(bits) == *hash),
            (None, Some(name)) => tbs.subject() == name,
            (None, None) => false,
        }
    }

    /// The status of `cert_der` (issued by `issuer_der`) in this response, if it has one.
    pub fn status_of(&self, cert_der: &[u8], issuer_der: &[u8]) -> Option<&SingleStatus> {
        let serial = crate::certificate_serial(cert_der).ok()?;
        self.responses
            .iter()
            .find(|r| r.cert_id.serial() == serial.as_slice() && r.cert_id.is_issued_by(issuer_der))
    }
}

/// Decode a DER OCSP response (at most [`MAX_OCSP_RESPONSE_BYTES`]): status successful
/// (else [`PkiError::OcspStatus`]), type id-pkix-ocsp-basic, version 1.
pub fn parse_ocsp_response(der: &[u8]) -> Result<ParsedOcspResponse, PkiError> {
    if der.len() > MAX_OCSP_RESPONSE_BYTES {
        return Err(PkiError::TooLarge(MAX_OCSP_RESPONSE_BYTES));
    }
    let response = OcspResponseAsn1::from_der(der).map_err(malformed("OCSPResponse"))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(PkiError::OcspStatus(response.response_status));
    }
    let bytes = response
        .response_bytes
        .ok_or_else(|| PkiError::Malformed("successful OCSP response without a body".into()))?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "OCSP response type {}",
            bytes.response_type
        )));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(malformed("BasicOCSPResponse"))?;
    let tbs = basic
        .tbs_response_data
        .to_der()
        .map_err(malformed("ResponseData"))?;
    let data = ResponseData::from_der(&tbs).map_err(malformed("ResponseData"))?;
    if data.version != 0 {
        return Err(PkiError::Malformed(format!(
            "OCSP response version {}",
            data.version
        )));
    }
    let unix = |t: &GeneralizedTime| t.to_unix_duration().as_secs();
    let responses = data
        .responses
        .into_iter()
        .map(|r| {
            Ok(SingleStatus {
                cert_id: CertId::from_asn1(r.cert_id)?,
                status: match r.cert_status {
                    CertStatusAsn1::Good(_) => CertificateStatus::Good,
                    CertStatusAsn1::Unknown(_) => CertificateStatus::Unknown,
                    CertStatusAsn1::Revoked(info) => CertificateStatus::Revoked {
                        at_unix: unix(&info.revocation_time),
                        reason: info
                            .revocation_reason
                            .map(RevocationReason::from_x509)
                            .transpose()?,
                    },
                },
                this_update_unix: unix(&r.this_update),
                next_update_unix: r.next_update.as_ref().map(unix),
            })
        })
        .collect::<Result<Vec<_>, PkiError>>()?;
    let certificates = basic
        .certs
        .unwrap_or_default()
        .iter()
        .map(|c| c.to_der().map_err(malformed("OCSP certificate")))
        .collect::<Result<Vec<_>, _>>()?;
    let nonce = data
        .response_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
        .map(|e| e.extn_value.as_bytes().to_vec());
    let (responder_key_hash, responder_name) = match data.responder_id {
        ResponderId::ByKey(k) => (Some(k.as_bytes().to_vec()), None),
        ResponderId::ByName(n) => (None, Some(n)),
    };
    Ok(ParsedOcspResponse {
        produced_at_unix: unix(&data.produced_at),
        responses,
        certificates,
        nonce,
        tbs,
        signature_algorithm: basic.signature_algorithm.oid,
        signature: basic
            .signature
            .as_bytes()
            .ok_or_else(|| PkiError::Malformed("OCSP signature has unused bits".into()))?
            .to_vec(),
        responder_key_hash,
        responder_name,
    })
}
