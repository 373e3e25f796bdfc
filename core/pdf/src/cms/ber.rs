//! BER to DER for CMS objects written by other tools.
//!
//! RFC 5652 allows BER for a ContentInfo, and common signers use it: BouncyCastle's
//! `CMSSignedData.getEncoded()` (what PDFBox- and iText-based signers embed) and
//! `openssl cms -stream` write indefinite lengths and constructed (chunked) OCTET STRINGs.
//! [`to_der`] rewrites such an object as DER (definite minimal lengths, constructed universal
//! strings flattened), so the rest of the module parses one encoding. It changes no value, and
//! the signed attributes, which RFC 5652 section 5.4 digests as their DER `SET OF` encoding,
//! come out as exactly that. What DER also forbids and BER does not make (unsorted `SET OF`,
//! non-minimal integers) is left for the DER decoder to refuse.
//!
//! The input is bounded by the caller ([`super::MAX_CMS_BYTES`]); nesting by [`MAX_DEPTH`]; the
//! output is never more than a few bytes per element longer than the input.

use super::error::CmsError;

/// Deepest nesting of constructed elements accepted (a SignedData with certificates nests
/// about 12 deep).
pub const MAX_DEPTH: usize = 48;

/// Universal tag numbers of the string types whose constructed form BER allows: BIT STRING,
/// OCTET STRING and the character strings (UTF8String through BMPString).
const STRING_TAGS: &[u8] = &[3, 4, 12, 18, 19, 20, 21, 22, 25, 26, 27, 28, 30];

/// Re-encode the BER element at the start of `input` as DER. Returns the DER and the number of
/// input bytes the element took (what follows it is the caller's to judge).
pub fn to_der(input: &[u8]) -> Result<(Vec<u8>, usize), CmsError> {
    let mut reader = Reader { input, pos: 0 };
    let mut out = Vec::with_capacity(input.len());
    reader.element(&mut out, 0)?;
    Ok((out, reader.pos))
}

fn malformed(at: usize, what: &str) -> CmsError {
    CmsError::Malformed(format!("BER at byte {at}: {what}"))
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

/// An element's identifier and length as read.
struct Header {
    /// The identifier octets, copied to the output as they are.
    tag: Vec<u8>,
    constructed: bool,
    /// Universal class tag number (`None` for other classes or high tag numbers).
    universal: Option<u8>,
    /// `None`: indefinite.
    length: Option<usize>,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, CmsError> {
        let b = *self
            .input
            .get(self.pos)
            .ok_or_else(|| malformed(self.pos, "truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    fn header(&mut self) -> Result<Header, CmsError> {
        let start = self.pos;
        let first = self.byte()?;
        let mut tag = vec![first];
        if first & 0x1f == 0x1f {
            // High tag number: base-128, at most 4 bytes.
            loop {
                let b = self.byte()?;
                tag.push(b);
                if b & 0x80 == 0 {
                    break;
                }
                if tag.len() > 5 {
                    return Err(malformed(start, "tag number too large"));
                }
            }
        }
        let constructed = first & 0x20 != 0;
        let universal = (first & 0xc0 == 0 && first & 0x1f != 0x1f).then_some(first & 0x1f);
        let at = self.pos;
        let length = match self.byte()? {
            0x80 if constructed => None,
            0x80 => return Err(malformed(at, "indefinite length on a primitive element")),
            b if b < 0x80 => Some(usize::from(b)),
            b @ 0x81..=0x84 => {
                let mut n = 0usize;
                for _ in 0..(b & 0x7f) {
                    n = (n << 8) | usize::from(self.byte()?);
                }
                Some(n)
            }
            _ => return Err(malformed(at, "length too large")),
        };
        if let Some(n) = length
            && n > self.input.len() - self.pos
        {
            return Err(malformed(at, "length past the end of the input"));
        }
        Ok(Header {
            tag,
            constructed,
            universal,
            length,
        })
    }

    fn at_end_of_contents(&self) -> bool {
        self.input.get(self.pos..self.pos + 2) == Some(&[0, 0][..])
    }

    /// One element, appended to `out` as DER.
    fn element(&mut self, out: &mut Vec<u8>, depth: usize) -> Result<(), CmsError> {
        let start = self.pos;
        if depth > MAX_DEPTH {
            return Err(malformed(start, "nested too deeply"));
        }
        let header = self.header()?;
        if header.tag == [0] {
            return Err(malformed(start, "unexpected end-of-contents"));
        }
        if !header.constructed {
            let n = header.length.unwrap_or_default();
            out.extend_from_slice(&header.tag);
            push_length(out, n);
            out.extend_from_slice(&self.input[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(());
        }
        match header.universal {
            Some(t) if STRING_TAGS.contains(&t) => {
                let mut value = Vec::new();
                let mut unused_bits = None;
                self.string_segments(&header, t, &mut value, &mut unused_bits, depth)?;
                // The DER form is primitive: the same identifier without the constructed bit.
                out.push(header.tag[0] & !0x20);
                match unused_bits {
                    Some(u) => {
                        push_length(out, value.len() + 1);
                        out.push(u);
                    }
                    None if t == 3 => {
                        // An empty BIT STRING still has its unused-bits octet.
                        push_length(out, 1);
                        out.push(0);
                    }
                    None => push_length(out, value.len()),
                }
                out.extend_from_slice(&value);
            }
            Some(_) | None => {
                let mut contents = Vec::new();
                self.children(&header, |reader| reader.element(&mut contents, depth + 1))?;
                out.extend_from_slice(&header.tag);
                push_length(out, contents.len());
                out.extend_from_slice(&contents);
            }
        }
        Ok(())
    }

    /// Run `each` for every child of a constructed element, up to its end (definite length)
    /// or its end-of-contents octets (indefinite).
    fn children(
        &mut self,
        header: &Header,
        mut each: impl FnMut(&mut Self) -> Result<(), CmsError>,
    ) -> Result<(), CmsError> {
        match header.length {
            Some(n) => {
                // Children may not run past their parent: read them from the parent's bytes.
                let end = self.pos + n;
                let outer = self.input;
                self.input = &outer[..end];
                let mut result = Ok(());
                while result.is_ok() && self.pos < end {
                    result = each(self);
                }
                self.input = outer;
                result
            }
            None => loop {
                if self.at_end_of_contents() {
                    self.pos += 2;
                    return Ok(());
                }
                if self.pos >= self.input.len() {
                    return Err(malformed(self.pos, "missing end-of-contents"));
                }
                each(self)?;
            },
        }
    }

    /// The segments of a constructed string of universal type `t`, concatenated into `value`
    /// (for a BIT STRING, without each segment's unused-bits octet; only the last segment may
    /// leave bits unused).
    fn string_segments(
        &mut self,
        header: &Header,
        t: u8,
        value: &mut Vec<u8>,
        unused_bits: &mut Option<u8>,
        depth: usize,
    ) -> Result<(), CmsError> {
        if depth > MAX_DEPTH {
            return Err(malformed(self.pos, "nested too deeply"));
        }
        self.children(header, |reader| {
            let at = reader.pos;
            let segment = reader.header()?;
            if segment.universal != Some(t) {
                return Err(malformed(at, "a string segment of another type"));
            }
            if segment.constructed {
                return reader.string_segments(&segment, t, value, unused_bits, depth + 1);
            }
            let n = segment.length.unwrap_or_default();
            let bytes = &reader.input[reader.pos..reader.pos + n];
            reader.pos += n;
            if t == 3 {
                let (&u, bits) = bytes.split_first().ok_or_else(|| {
                    malformed(at, "BIT STRING segment without its unused-bits octet")
                })?;
                if unused_bits.is_some_and(|previous| previous != 0) || u > 7 {
                    return Err(malformed(
                        at,
                        "unused bits before the last BIT STRING segment",
                    ));
                }
                *unused_bits = Some(u);
                value.extend_from_slice(bits);
            } else {
                value.extend_from_slice(bytes);
            }
            Ok(())
        })
    }
}

/// A DER length: short form below 128, else the minimal long form.
fn push_length(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::to_der;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).expect("hex")
    }

    #[test]
    fn der_comes_back_unchanged() {
        let der = hex("30 0a 06 03 2a 03 04 04 03 01 02 03");
        assert_eq!(to_der(&der).expect("der"), (der.clone(), der.len()));
    }

    #[test]
    fn indefinite_lengths_and_chunked_strings_become_der() {
        // SEQUENCE (indefinite) { OID, [0] (indefinite) { OCTET STRING (constructed,
        // indefinite) { "ab", "c" } } } followed by zero padding.
        let ber = hex("30 80 06 01 2a a0 80 24 80 04 02 61 62 04 01 63 00 00 00 00 00 00 00 00");
        let (der, used) = to_der(&ber).expect("ber");
        assert_eq!(der, hex("30 0a 06 01 2a a0 05 04 03 61 62 63"));
        assert_eq!(used, ber.len() - 2);
    }

    #[test]
    fn long_form_lengths_become_minimal() {
        let ber = hex("04 82 00 02 61 62");
        assert_eq!(to_der(&ber).expect("ber").0, hex("04 02 61 62"));
        let big = [&[0x04, 0x82, 0x01, 0x00][..], &[7u8; 256]].concat();
        assert_eq!(to_der(&big).expect("ber").0, big);
    }

    #[test]
    fn chunked_bit_strings_keep_only_the_last_unused_bits() {
        let ber = hex("23 80 03 02 00 ff 03 02 04 f0 00 00");
        assert_eq!(to_der(&ber).expect("ber").0, hex("03 03 04 ff f0"));
        let bad = hex("23 80 03 02 04 f0 03 02 00 ff 00 00");
        assert!(to_der(&bad).is_err(), "unused bits in a middle segment");
    }

    #[test]
    fn hostile_encodings_are_typed_errors() {
        for bad in [
            "",
            "30",
            "30 80 02 01 01",          // no end-of-contents
            "04 80 00 00",             // indefinite primitive
            "30 05 02 01 01",          // length past the end
            "30 85 00 00 00 00 01 00", // length of 5 bytes
            "30 80 00 00 00",          // fine; then the caller judges the rest
            "24 80 02 01 01 00 00",    // an INTEGER inside an OCTET STRING
            "30 03 00 00 00",          // end-of-contents inside a definite length
            "1f ff ff ff ff ff 7f 00", // tag number too large
        ] {
            let input = hex(bad);
            let result = to_der(&input);
            if bad == "30 80 00 00 00" {
                assert_eq!(result.expect("empty sequence"), (hex("30 00"), 4));
            } else {
                assert!(result.is_err(), "{bad} accepted: {result:?}");
            }
        }
        let mut deep = Vec::new();
        for _ in 0..200 {
            deep.extend_from_slice(&[0x30, 0x80]);
        }
        deep.extend(std::iter::repeat_n(0, 400));
        assert!(to_der(&deep).is_err(), "nesting is bounded");
    }
}
