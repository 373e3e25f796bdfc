//! The PDF object model and its serialization.

use std::fmt::Write as _;

/// An indirect object's number and generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub u32, pub u16);

/// A PDF object.
///
/// Equality is by value, as a PDF reader sees it: an integer equals the real of the same value
/// (`96` and `96.0000`), a string is the same string whether written literal or hex, and a real
/// equals another of the same value whatever digits the file used. That is what the change
/// analysis needs: a revision that rewrites an object without changing what it means has not
/// changed it.
#[derive(Clone, Debug)]
pub enum Object {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Integer(i64),
    /// A real number (with the text a file wrote it in, when it came from one).
    Real(Real),
    /// A string (bytes); `hex` records how it was written.
    String(Vec<u8>, bool),
    /// A name, without the slash, `#xx` escapes decoded.
    Name(Vec<u8>),
    /// An array.
    Array(Vec<Object>),
    /// A dictionary.
    Dictionary(Dictionary),
    /// A stream: dictionary plus raw (still encoded) data.
    Stream(Stream),
    /// `n g R`
    Reference(ObjectId),
}

/// A real number. One read from a file keeps the text it was written in, so that an object an
/// incremental update copies is written back token for token (`96.0000` stays `96.0000`,
/// `0.12345678901234567` keeps its 17 digits): validators that compare reals as decimals, as
/// pyHanko does, then see the earlier revision's values unchanged. A computed one is written
/// by [`format_real`].
#[derive(Clone, Debug)]
pub struct Real {
    value: f64,
    /// The token as read (a well-formed PDF real: sign, digits, one point), if read.
    written: Option<Box<str>>,
}

impl Real {
    /// A computed real, written by [`format_real`].
    pub fn new(value: f64) -> Self {
        Real {
            value,
            written: None,
        }
    }

    /// A real read from `text`, kept verbatim when it is a well-formed PDF real
    /// (`[+-]?(digits[.digits]|.digits)`), otherwise (e.g. a doubled sign some writers emit)
    /// written back in normal form.
    pub(crate) fn read(value: f64, text: &str) -> Self {
        let body = text.strip_prefix(['+', '-']).unwrap_or(text);
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let well_formed = !(int.is_empty() && frac.is_empty())
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit());
        Real {
            value,
            written: well_formed.then(|| text.into()),
        }
    }

    /// The value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The text it is written as: as read, or [`format_real`] of a computed value.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match &self.written {
            Some(t) => std::borrow::Cow::Borrowed(t),
            None => std::borrow::Cow::Owned(format_real(self.value)),
        }
    }
}

impl PartialEq for Real {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl PartialEq for Object {
    fn eq(&self, other: &Self) -> bool {
        use Object as O;
        match (self, other) {
            (O::Null, O::Null) => true,
            (O::Bool(a), O::Bool(b)) => a == b,
            (O::Integer(a), O::Integer(b)) => a == b,
            (O::Real(a), O::Real(b)) => a == b,
            (O::Integer(i), O::Real(r)) | (O::Real(r), O::Integer(i)) => *i as f64 == r.value,
            (O::String(a, _), O::String(b, _)) => a == b,
            (O::Name(a), O::Name(b)) => a == b,
            (O::Array(a), O::Array(b)) => a == b,
            (O::Dictionary(a), O::Dictionary(b)) => a == b,
            (O::Stream(a), O::Stream(b)) => a == b,
            (O::Reference(a), O::Reference(b)) => a == b,
            (
                O::Null
                | O::Bool(_)
                | O::Integer(_)
                | O::Real(_)
                | O::String(..)
                | O::Name(_)
                | O::Array(_)
                | O::Dictionary(_)
                | O::Stream(_)
                | O::Reference(_),
                _,
            ) => false,
        }
    }
}

/// A dictionary, keeping the order keys were written in.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dictionary(pub Vec<(Vec<u8>, Object)>);

/// A stream object.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    /// The stream dictionary.
    pub dict: Dictionary,
    /// The raw bytes between `stream` and `endstream`.
    pub data: Vec<u8>,
}

impl Dictionary {
    /// An empty dictionary.
    pub fn new() -> Self {
        Dictionary(Vec::new())
    }

    /// Look a key up.
    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Look a key up, to change its value in place.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Object> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Set a key (replacing an existing value in place).
    pub fn set(&mut self, key: &[u8], value: Object) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key.to_vec(), value)),
        }
    }

    /// Remove a key.
    pub fn remove(&mut self, key: &[u8]) -> Option<Object> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(i).1)
    }

    /// Builder-style set.
    pub fn with(mut self, key: &[u8], value: Object) -> Self {
        self.set(key, value);
        self
    }

    /// The value of a name entry, e.g. `/Type`.
    pub fn name(&self, key: &[u8]) -> Option<&[u8]> {
        match self.get(key) {
            Some(Object::Name(n)) => Some(n),
            _ => None,
        }
    }
}

impl Object {
    /// A name object from text.
    pub fn name(s: &str) -> Object {
        Object::Name(s.as_bytes().to_vec())
    }

    /// A computed real number.
    pub fn real(value: f64) -> Object {
        Object::Real(Real::new(value))
    }

    /// A literal string object from text.
    pub fn string(s: &str) -> Object {
        Object::String(s.as_bytes().to_vec(), false)
    }

    /// The dictionary of a dictionary or stream.
    pub fn as_dict(&self) -> Option<&Dictionary> {
        match self {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    /// A number as f64.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Object::Integer(i) => Some(*i as f64),
            Object::Real(r) => Some(r.value),
            _ => None,
        }
    }

    /// An integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Object::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// An indirect reference.
    pub fn as_ref_id(&self) -> Option<ObjectId> {
        match self {
            Object::Reference(id) => Some(*id),
            _ => None,
        }
    }

    /// Serialize into `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Object::Null => out.extend_from_slice(b"null"),
            Object::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Object::Real(r) => out.extend_from_slice(r.text().as_bytes()),
            Object::String(s, hex) => write_string(out, s, *hex),
            Object::Name(n) => write_name(out, n),
            Object::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Object::Dictionary(d) => d.write(out),
            Object::Stream(s) => {
                let mut dict = s.dict.clone();
                dict.set(b"Length", Object::Integer(s.data.len() as i64));
                dict.write(out);
                out.extend_from_slice(b"\nstream\n");
                out.extend_from_slice(&s.data);
                out.extend_from_slice(b"\nendstream");
            }
            Object::Reference(id) => {
                out.extend_from_slice(format!("{} {} R", id.0, id.1).as_bytes())
            }
        }
    }
}

impl Dictionary {
    /// Serialize into `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<<");
        for (k, v) in &self.0 {
            write_name(out, k);
            out.push(b' ');
            v.write(out);
        }
        out.extend_from_slice(b">>");
    }
}

/// A real number without exponent, at most 6 decimals, trailing zeros trimmed.
pub fn format_real(r: f64) -> String {
    if !r.is_finite() {
        return "0".into();
    }
    // A number read from a file (at most 15 significant digits) is written back exactly, so
    // rewriting an object never changes it (a /MediaBox of 595.303937007874 must stay that);
    // a computed one (16-17 digits) is rounded to 6 decimals.
    let exact = format!("{r}");
    let digits = exact
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|b| *b == b'0')
        .count();
    let mut s = if digits <= 15 {
        exact
    } else {
        let mut s = String::new();
        let _ = write!(s, "{r:.6}");
        s
    };
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".into() } else { s }
}

fn write_name(out: &mut Vec<u8>, n: &[u8]) {
    out.push(b'/');
    for &b in n {
        if b.is_ascii_alphanumeric() || b"-_.+*".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

fn write_string(out: &mut Vec<u8>, s: &[u8], hex: bool) {
    if hex {
        out.push(b'<');
        out.extend_from_slice(hex::encode_upper(s).as_bytes());
        out.push(b'>');
        return;
    }
    out.push(b'(');
    for &b in s {
        match b {
            b'(' | b')' | b'\\' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
        }
    }
    out.push(b')');
}

/// Encode text as a PDF text string: ASCII stays literal, anything else is UTF-16BE with BOM.
pub fn text_string(s: &str) -> Object {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Object::String(s.as_bytes().to_vec(), false);
    }
    let mut bytes = vec![0xfe, 0xff];
    for unit in s.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    Object::String(bytes, true)
}

#[cfg(test)]
mod tests {
    use super::{Object, format_real};

    fn reparse(text: &str) -> (Object, String) {
        let object = crate::parser::Parser::new(text.as_bytes(), 0, 32)
            .object_top(&|_| None)
            .expect("parses");
        let mut out = Vec::new();
        object.write(&mut out);
        (object, String::from_utf8(out).expect("ascii"))
    }

    #[test]
    fn copied_objects_keep_every_number_token_for_token() {
        let page = "<</MediaBox [0 0 595.303937007874 841.8897637795276] /UserUnit 96.0000 \
                    /A [.5 -.002 +1.25 1. 0.12345678901234567 -0.0 99999999999999999999]>>";
        let (_, written) = reparse(page);
        for token in [
            "595.303937007874",
            "841.8897637795276",
            "96.0000",
            ".5",
            "-.002",
            "+1.25",
            "1.",
            "0.12345678901234567",
            "-0.0",
            "99999999999999999999",
        ] {
            assert!(
                written.split([' ', '[', ']', '/']).any(|t| t == token),
                "{token} lost in {written}"
            );
        }
        // A doubled sign (tolerated on input) is not PDF syntax: written in normal form.
        assert_eq!(reparse("--5.5").1, "-5.5");
    }

    #[test]
    fn objects_are_equal_by_value() {
        let (a, _) = reparse("[96 96.0000 (Hi) 1.50]");
        let (b, _) = reparse("[96.0 96 <4869> 1.5]");
        assert_eq!(a, b);
        assert_ne!(reparse("[96.5]").0, reparse("[96]").0);
        assert_ne!(reparse("(Hi)").0, reparse("/Hi").0);
        assert_ne!(reparse("0").0, reparse("null").0);
    }

    #[test]
    fn reals_read_from_a_file_are_written_back_exactly() {
        for (value, text) in [
            (595.303937007874, "595.303937007874"),
            (841.889763779528, "841.889763779528"),
            (1.5, "1.5"),
            (612.0, "612"),
            (-0.0, "0"),
            (0.1 + 0.2, "0.3"),
            (2.0 / 3.0, "0.666667"),
            (f64::NAN, "0"),
        ] {
            assert_eq!(format_real(value), text, "{value}");
        }
        // What is written parses back to the same value when it had 15 digits or fewer.
        let v = 123.456789012345;
        assert_eq!(format_real(v).parse::<f64>().expect("number"), v);
    }
}
