//! The RFC 3161 structures, declared with `der`'s derive.
//!
//! The RustCrypto `x509-tsp` crate declares the same structures but is built on `der` 0.7 and
//! `cms` 0.2, while this workspace is on `der` 0.8 and `cms` 0.3; its types cannot meet ours, so
//! the few SEQUENCEs are declared here with the same derive.

use der::asn1::{Any, BitString, Int, ObjectIdentifier, OctetString, Utf8StringRef};
use der::{
    DateTime, DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Sequence, Tag, Writer,
};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extensions;

/// `MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }`
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct MessageImprint {
    pub(crate) hash_algorithm: AlgorithmIdentifierOwned,
    pub(crate) hashed_message: OctetString,
}

/// `TimeStampReq` (RFC 3161 section 2.4.1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct TimeStampReq {
    pub(crate) version: u8,
    pub(crate) message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    pub(crate) req_policy: Option<ObjectIdentifier>,
    #[asn1(optional = "true")]
    pub(crate) nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    pub(crate) cert_req: bool,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) extensions: Option<Extensions>,
}

/// `PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
/// failInfo PKIFailureInfo OPTIONAL }` (RFC 3161 section 2.4.2).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct PkiStatusInfo<'a> {
    pub(crate) status: u8,
    #[asn1(optional = "true")]
    pub(crate) status_string: Option<Vec<Utf8StringRef<'a>>>,
    #[asn1(optional = "true")]
    pub(crate) fail_info: Option<BitString>,
}

/// `TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }`
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct TimeStampResp<'a> {
    pub(crate) status: PkiStatusInfo<'a>,
    #[asn1(optional = "true")]
    pub(crate) time_stamp_token: Option<Any>,
}

/// `Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL,
/// micros [1] INTEGER (1..999) OPTIONAL }`
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct Accuracy {
    #[asn1(optional = "true")]
    pub(crate) seconds: Option<u32>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) micros: Option<u16>,
}

/// `TSTInfo` (RFC 3161 section 2.4.2).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct TstInfo {
    pub(crate) version: u8,
    pub(crate) policy: ObjectIdentifier,
    pub(crate) message_imprint: MessageImprint,
    pub(crate) serial_number: Int,
    pub(crate) gen_time: GenTime,
    #[asn1(optional = "true")]
    pub(crate) accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    pub(crate) ordering: bool,
    #[asn1(optional = "true")]
    pub(crate) nonce: Option<Int>,
    /// `tsa [0] GeneralName OPTIONAL`: kept as the encoded GeneralName (never interpreted;
    /// the TSA is identified by its certificate).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) tsa: Option<Any>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) extensions: Option<Extensions>,
}

/// A GeneralizedTime as RFC 3161 allows in genTime: `YYYYMMDDhhmmss[.s...]Z`, the fraction
/// without trailing zeros (DER), at most nine digits. `der`'s own GeneralizedTime has no
/// fraction, which many TSAs write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GenTime {
    text: Vec<u8>,
    unix_seconds: u64,
    nanos: u32,
}

/// The longest genTime accepted: 14 digits, a dot, nine fraction digits and `Z`.
const MAX_GEN_TIME_LEN: usize = 25;

impl GenTime {
    /// The time at `unix_millis`, with a millisecond fraction when it is not zero.
    pub(crate) fn from_unix_millis(unix_millis: u64) -> der::Result<Self> {
        let seconds = unix_millis / 1000;
        let millis = (unix_millis % 1000) as u32;
        let dt = DateTime::from_unix_duration(std::time::Duration::from_secs(seconds))?;
        let mut text = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minutes(),
            dt.seconds()
        );
        if millis != 0 {
            let fraction = format!("{millis:03}");
            text.push('.');
            text.push_str(fraction.trim_end_matches('0'));
        }
        text.push('Z');
        Ok(GenTime {
            text: text.into_bytes(),
            unix_seconds: seconds,
            nanos: millis * 1_000_000,
        })
    }

    /// Seconds since the Unix epoch (the fraction dropped).
    pub(crate) fn unix_seconds(&self) -> u64 {
        self.unix_seconds
    }

    /// Milliseconds since the Unix epoch (the fraction truncated to milliseconds).
    pub(crate) fn unix_millis(&self) -> u64 {
        self.unix_seconds * 1000 + u64::from(self.nanos / 1_000_000)
    }

    fn parse(text: &[u8]) -> Option<Self> {
        if text.len() < 15 || text.len() > MAX_GEN_TIME_LEN || text.last() != Some(&b'Z') {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            text[range].iter().try_fold(0u32, |acc, b| {
                b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
            })
        };
        let dt = DateTime::new(
            u16::try_from(digits(0..4)?).ok()?,
            u8::try_from(digits(4..6)?).ok()?,
            u8::try_from(digits(6..8)?).ok()?,
            u8::try_from(digits(8..10)?).ok()?,
            u8::try_from(digits(10..12)?).ok()?,
            u8::try_from(digits(12..14)?).ok()?,
        )
        .ok()?;
        let nanos = match &text[14..text.len() - 1] {
            [] => 0,
            [b'.', fraction @ ..] => {
                // DER: no trailing zeros, and a dot only with digits after it.
                if fraction.is_empty() || fraction.len() > 9 || fraction.last() == Some(&b'0') {
                    return None;
                }
                let value = digits(15..15 + fraction.len())?;
                value * 10u32.pow(9 - fraction.len() as u32)
            }
            _ => return None,
        };
        Some(GenTime {
            text: text.to_vec(),
            unix_seconds: dt.unix_duration().as_secs(),
            nanos,
        })
    }
}

impl FixedTag for GenTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

impl<'a> DecodeValue<'a> for GenTime {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let len = usize::try_from(header.length())?;
        if len > MAX_GEN_TIME_LEN {
            return Err(reader.error(Tag::GeneralizedTime.value_error()));
        }
        let bytes = reader.read_vec(header.length())?;
        GenTime::parse(&bytes).ok_or_else(|| reader.error(Tag::GeneralizedTime.value_error()))
    }
}

impl EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.text.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.text)
    }
}

/// A positive DER INTEGER from a big-endian magnitude (leading zeros dropped, a zero octet put
/// in front when the top bit is set).
pub(crate) fn positive_int(magnitude: &[u8]) -> der::Result<Int> {
    let start = magnitude
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(magnitude.len().saturating_sub(1));
    let trimmed = &magnitude[start..];
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        let mut bytes = Vec::with_capacity(trimmed.len() + 1);
        bytes.push(0);
        bytes.extend_from_slice(trimmed);
        Int::new(&bytes)
    } else {
        Int::new(trimmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    fn decode(text: &str) -> der::Result<GenTime> {
        let mut der = vec![0x18, text.len() as u8];
        der.extend_from_slice(text.as_bytes());
        GenTime::from_der(&der)
    }

    #[test]
    fn gen_time_with_and_without_fraction() {
        let t = decode("20261206174500Z").expect("plain");
        assert_eq!(t.unix_seconds(), 1_796_579_100);
        assert_eq!(t.unix_millis(), 1_796_579_100_000);
        let t = decode("20261206174500.25Z").expect("fraction");
        assert_eq!(t.unix_millis(), 1_796_579_100_250);
        for bad in [
            "20261206174500.250Z",
            "20261206174500.Z",
            "20261206174500",
            "2026120617450Z",
            "20261306174500Z",
            "20261206174500+0800",
            "20261206174500.1234567891Z",
            "2026120617450aZ",
        ] {
            assert!(decode(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn gen_time_round_trips() {
        for ms in [0, 1_796_579_100_000, 1_796_579_100_250, 1_796_579_100_007] {
            let t = GenTime::from_unix_millis(ms).expect("time");
            assert_eq!(t.unix_millis(), ms);
            let der = t.to_der().expect("encode");
            assert_eq!(GenTime::from_der(&der).expect("decode"), t);
        }
        let t = GenTime::from_unix_millis(1_796_579_100_250).expect("time");
        assert_eq!(t.text, b"20261206174500.25Z");
    }

    #[test]
    fn positive_integers_are_minimal() {
        assert_eq!(positive_int(&[0, 0, 5]).expect("int").as_bytes(), &[5]);
        assert_eq!(positive_int(&[0x80]).expect("int").as_bytes(), &[0, 0x80]);
        assert_eq!(positive_int(&[0, 0]).expect("int").as_bytes(), &[0]);
    }
}
