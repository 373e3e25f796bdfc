//! Time-stamp tokens: CMS SignedData over a TSTInfo, issued by the TSA and checked by clients
//! and verifiers.

use super::asn1::{Accuracy, GenTime, TstInfo, positive_int};
use super::request::{TimeStampRequest, imprint_suite};
use super::{ID_CT_TST_INFO, ID_KP_TIME_STAMPING, TspError, encoding, malformed};
use crate::cms::{self, CmsVerification, SignatureAlgorithm};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::ExtendedKeyUsage;

/// A time-stamp token whose CMS signature, signer certificate usage and TSTInfo were checked.
///
/// Not yet checked: that the TSA certificate chains to a trust anchor (the caller's, with
/// [`crate::cms::verify_chain`] over [`TimeStampToken::tsa_certificate`] and
/// [`TimeStampToken::certificates`]), and what the imprint covers (the caller compares
/// [`TimeStampToken::digest`] with its own digest, or uses [`TimeStampToken::covers`]).
#[derive(Debug, Clone)]
pub struct TimeStampToken {
    der: Vec<u8>,
    tst: TstInfo,
    digest_suite: SignatureAlgorithm,
    cms: CmsVerification,
}

impl TimeStampToken {
    /// Parse and check a token (a DER ContentInfo, at most [`crate::cms::MAX_CMS_BYTES`]).
    ///
    /// Checks: SignedData with one SignerInfo, SM2-with-SM3 or ECDSA P-256/SHA-256, signed
    /// attributes with content-type id-ct-TSTInfo, a message-digest equal to the digest of the
    /// encapsulated TSTInfo, a signing-certificate(-v2) attribute (RFC 3161 2.4.2 / RFC 5816),
    /// the signature; the signer certificate carries a critical extendedKeyUsage with
    /// id-kp-timeStamping only; TSTInfo is version 1 with an SM3 or SHA-256 imprint.
    pub fn parse(der: &[u8]) -> Result<Self, TspError> {
        let parsed = cms::parse(der)?;
        let (verification, tst_der) = parsed.verify_encapsulated(ID_CT_TST_INFO, true)?;
        let names_its_certificate = verification.has_signing_certificate_v2
            || verification
                .signed_attribute(&cms::ID_AA_SIGNING_CERTIFICATE)
                .is_some();
        if !names_its_certificate {
            return Err(TspError::Malformed(
                "the token has no signing-certificate attribute".into(),
            ));
        }
        check_time_stamping_certificate(&verification.signer_cert_der)?;
        let tst = TstInfo::from_der(&tst_der).map_err(malformed("TSTInfo"))?;
        if tst.version != 1 {
            return Err(TspError::Unsupported(format!(
                "TSTInfo version {}",
                tst.version
            )));
        }
        let digest_suite = imprint_suite(&tst.message_imprint)?;
        Ok(TimeStampToken {
            der: der[..parsed.encoded_len()].to_vec(),
            tst,
            digest_suite,
            cms: verification,
        })
    }

    /// The token's DER (a ContentInfo), as embedded in a signature or a document time-stamp.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The time the TSA vouches for, in milliseconds since the Unix epoch (a finer fraction is
    /// truncated).
    pub fn gen_time_unix_millis(&self) -> u64 {
        self.tst.gen_time.unix_millis()
    }

    /// The time the TSA vouches for, in seconds since the Unix epoch.
    pub fn gen_time_unix(&self) -> u64 {
        self.tst.gen_time.unix_seconds()
    }

    /// The accuracy the TSA states, in milliseconds, if it states one.
    pub fn accuracy_millis(&self) -> Option<u64> {
        self.tst.accuracy.as_ref().map(|a| {
            u64::from(a.seconds.unwrap_or(0)) * 1000
                + u64::from(a.millis.unwrap_or(0))
                + u64::from(a.micros.unwrap_or(0)).div_ceil(1000)
        })
    }

    /// The TSA's serial number of this token (DER INTEGER content octets).
    pub fn serial_number(&self) -> &[u8] {
        self.tst.serial_number.as_bytes()
    }

    /// The TSA policy under which the token was issued.
    pub fn policy(&self) -> ObjectIdentifier {
        self.tst.policy
    }

    /// The nonce echoed from the request, if any.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.tst.nonce.as_ref().map(|n| n.as_bytes())
    }

    /// Which suite's digest made the imprint.
    pub fn digest_suite(&self) -> SignatureAlgorithm {
        self.digest_suite
    }

    /// The time-stamped digest.
    pub fn digest(&self) -> &[u8] {
        self.tst.message_imprint.hashed_message.as_bytes()
    }

    /// Whether the token's imprint is the digest of the concatenation of `parts` (hashed with
    /// the imprint's own algorithm).
    pub fn covers(&self, parts: &[&[u8]]) -> bool {
        self.digest_suite.digest(parts) == self.digest()
    }

    /// What the TSA signed with: one of inkseal's suites, or (with the `other-algorithms`
    /// feature) another algorithm such as RSA.
    pub fn signature_algorithm(&self) -> cms::VerifiedAlgorithm {
        self.cms.algorithm
    }

    /// The TSA's certificate (DER).
    pub fn tsa_certificate(&self) -> &[u8] {
        &self.cms.signer_cert_der
    }

    /// The TSA certificate's subject (RFC 4514).
    pub fn tsa_subject(&self) -> &str {
        &self.cms.signer_subject
    }

    /// Every certificate embedded in the token (DER), the TSA's included.
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.cms.certificates
    }
}

/// RFC 3161 section 2.3: the TSA's certificate has exactly one extendedKeyUsage,
/// id-kp-timeStamping, and it is critical.
fn check_time_stamping_certificate(cert_der: &[u8]) -> Result<(), TspError> {
    let cert = Certificate::from_der(cert_der).map_err(malformed("TSA certificate"))?;
    match cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .map_err(malformed("TSA certificate extendedKeyUsage"))?
    {
        None => Err(TspError::NotTimeStampingCertificate(
            "no extendedKeyUsage".into(),
        )),
        Some((false, _)) => Err(TspError::NotTimeStampingCertificate(
            "extendedKeyUsage is not critical".into(),
        )),
        Some((true, eku)) if eku.0.as_slice() == [ID_KP_TIME_STAMPING] => Ok(()),
        Some((true, _)) => Err(TspError::NotTimeStampingCertificate(
            "extendedKeyUsage is not id-kp-timeStamping alone".into(),
        )),
    }
}

/// What the TSA puts into a token besides the request's imprint and nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueParams<'a> {
    /// The TSA's policy (the request's policy, if any, must equal it).
    pub policy: ObjectIdentifier,
    /// The token's serial number: a big-endian magnitude, unique for this TSA, not zero.
    pub serial: &'a [u8],
    /// The time vouched for, in milliseconds since the Unix epoch (written with a millisecond
    /// fraction when not whole).
    pub gen_time_unix_millis: u64,
    /// The stated accuracy in milliseconds (written as seconds and millis), if any.
    pub accuracy_millis: Option<u32>,
}

/// Build and sign a time-stamp token (DER ContentInfo) for `request`.
///
/// `tsa_chain` is the TSA certificate first (it must be a time-stamping certificate), then any
/// intermediates; they are embedded when the request asks for certificates. `sign` signs the
/// DER signed attributes with the TSA certificate's key and returns DER `SEQUENCE { r, s }`
/// (SM2 with the default signer ID, or ECDSA P-256 with SHA-256, by the certificate's key);
/// the signature is checked before the token is returned. The signed attributes carry
/// content-type id-ct-TSTInfo, the message-digest of the TSTInfo and signing-certificate-v2.
pub fn issue_token<E: std::fmt::Display>(
    request: &TimeStampRequest,
    tsa_chain: &[Vec<u8>],
    params: &IssueParams<'_>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<Vec<u8>, TspError> {
    let tsa_cert = tsa_chain
        .first()
        .ok_or_else(|| TspError::InvalidInput("the TSA chain is empty".into()))?;
    check_time_stamping_certificate(tsa_cert)?;
    if request.policy().is_some_and(|p| p != params.policy) {
        return Err(TspError::PolicyMismatch);
    }
    if params.serial.iter().all(|b| *b == 0) || params.serial.len() > 20 {
        return Err(TspError::InvalidInput(
            "the serial number must be 1 to 20 bytes and not zero".into(),
        ));
    }
    let alg = SignatureAlgorithm::from_certificate(tsa_cert)?;
    let accuracy = params.accuracy_millis.map(|ms| Accuracy {
        seconds: (ms >= 1000).then_some(ms / 1000),
        millis: u16::try_from(ms % 1000).ok().filter(|m| *m != 0),
        micros: None,
    });
    let tst = TstInfo {
        version: 1,
        policy: params.policy,
        message_imprint: request.imprint().clone(),
        serial_number: positive_int(params.serial).map_err(encoding("serial number"))?,
        gen_time: GenTime::from_unix_millis(params.gen_time_unix_millis)
            .map_err(encoding("genTime"))?,
        accuracy,
        ordering: false,
        nonce: request.nonce_int().cloned(),
        tsa: None,
        extensions: None,
    };
    let tst_der = tst.to_der().map_err(encoding("TSTInfo"))?;
    let signed_attrs =
        cms::signed_attributes_for(ID_CT_TST_INFO, alg, &alg.digest(&[&tst_der]), tsa_cert, &[])?;
    let signature = sign(&signed_attrs)
        .map_err(|e| TspError::InvalidInput(format!("the TSA key could not sign: {e}")))?;
    let token = cms::assemble_content(
        cms::OidProfile::Rfc5652,
        cms::Content::Encapsulated(ID_CT_TST_INFO, &tst_der),
        alg,
        &signed_attrs,
        &signature,
        tsa_chain,
        &[],
    )?;
    Ok(token)
}
