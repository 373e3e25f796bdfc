//! Lexing and parsing of PDF objects from a byte slice, with depth limits and byte spans.

use crate::error::PdfError;
use crate::object::{Dictionary, Object, ObjectId, Real, Stream};
use std::ops::Range;

/// PDF whitespace.
pub fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\0')
}

/// PDF delimiters.
pub fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// A cursor over PDF bytes.
pub struct Parser<'a> {
    data: &'a [u8],
    /// Current position.
    pub pos: usize,
    max_depth: usize,
    /// Spans of the values of the outermost dictionary's keys, recorded while parsing.
    pub spans: Vec<(Vec<u8>, Range<usize>)>,
}

/// Resolves an indirect `/Length` while parsing a stream.
pub type LengthResolver<'r> = &'r dyn Fn(ObjectId) -> Option<i64>;

impl<'a> Parser<'a> {
    /// A parser at `pos` (clamped to the end of `data`).
    pub fn new(data: &'a [u8], pos: usize, max_depth: usize) -> Self {
        Parser {
            data,
            pos: pos.min(data.len()),
            max_depth,
            spans: Vec::new(),
        }
    }

    fn err(&self, msg: impl Into<String>) -> PdfError {
        PdfError::syntax(self.pos, msg)
    }

    /// The bytes from the current position on.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Skip whitespace and comments.
    pub fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_ws(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Read a bare keyword or number token (no delimiters).
    pub fn token(&mut self) -> &'a [u8] {
        self.skip_ws();
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_ws(b) || is_delim(b) {
                break;
            }
            self.pos += 1;
        }
        self.data.get(start..self.pos).unwrap_or_default()
    }

    /// Expect a keyword such as `obj` or `endobj`.
    pub fn expect_keyword(&mut self, kw: &[u8]) -> Result<(), PdfError> {
        let at = self.pos;
        let t = self.token();
        if t == kw {
            Ok(())
        } else {
            Err(PdfError::syntax(
                at,
                format!(
                    "expected `{}`, found `{}`",
                    String::from_utf8_lossy(kw),
                    String::from_utf8_lossy(&t[..t.len().min(20)])
                ),
            ))
        }
    }

    /// Parse an unsigned integer token.
    pub fn uint(&mut self) -> Result<u64, PdfError> {
        let at = self.pos;
        let t = self.token();
        std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| PdfError::syntax(at, "expected an unsigned integer"))
    }

    /// Parse `n g obj <object> endobj` at the current position.
    pub fn indirect(
        &mut self,
        lengths: LengthResolver<'_>,
    ) -> Result<(ObjectId, Object), PdfError> {
        let num = self.uint()?;
        let gen_ = self.uint()?;
        self.expect_keyword(b"obj")?;
        let id = ObjectId(
            u32::try_from(num).map_err(|_| self.err("object number too large"))?,
            u16::try_from(gen_).map_err(|_| self.err("generation too large"))?,
        );
        let obj = self.object_top(lengths)?;
        Ok((id, obj))
    }

    /// Parse one object; a dictionary followed by `stream` becomes a stream.
    pub fn object_top(&mut self, lengths: LengthResolver<'_>) -> Result<Object, PdfError> {
        let obj = self.object(0)?;
        if let Object::Dictionary(dict) = obj {
            let save = self.pos;
            self.skip_ws();
            if self.rest().starts_with(b"stream") {
                self.pos += 6;
                return self.stream_body(dict, lengths);
            }
            self.pos = save;
            return Ok(Object::Dictionary(dict));
        }
        Ok(obj)
    }

    fn stream_body(
        &mut self,
        dict: Dictionary,
        lengths: LengthResolver<'_>,
    ) -> Result<Object, PdfError> {
        // EOL after `stream`: CRLF or LF (a lone CR is tolerated).
        if self.rest().starts_with(b"\r\n") {
            self.pos += 2;
        } else if matches!(self.peek(), Some(b'\n' | b'\r')) {
            self.pos += 1;
        }
        let start = self.pos;
        let declared = match dict.get(b"Length") {
            Some(Object::Integer(n)) => Some(*n),
            Some(Object::Reference(id)) => lengths(*id),
            _ => None,
        };
        let end = declared
            .and_then(|n| usize::try_from(n).ok())
            .and_then(|n| start.checked_add(n))
            .filter(|&end| end <= self.data.len() && self.followed_by_endstream(end))
            .or_else(|| self.find_endstream(start))
            .ok_or_else(|| self.err("stream without endstream"))?;
        let data = self.data[start..end].to_vec();
        self.pos = end;
        self.skip_ws();
        if self.rest().starts_with(b"endstream") {
            self.pos += 9;
        }
        Ok(Object::Stream(Stream { dict, data }))
    }

    fn followed_by_endstream(&self, end: usize) -> bool {
        let mut p = end;
        while p < self.data.len() && is_ws(self.data[p]) {
            p += 1;
        }
        self.data[p..].starts_with(b"endstream")
    }

    fn find_endstream(&self, start: usize) -> Option<usize> {
        let rel = memchr::memmem::find(&self.data[start..], b"endstream")?;
        let mut end = start + rel;
        // Drop the EOL that precedes `endstream`.
        if end > start && self.data[end - 1] == b'\n' {
            end -= 1;
        }
        if end > start && self.data[end - 1] == b'\r' {
            end -= 1;
        }
        Some(end)
    }

    /// Parse one direct object.
    pub fn object(&mut self, depth: usize) -> Result<Object, PdfError> {
        if depth > self.max_depth {
            return Err(PdfError::Limit(format!(
                "objects nested deeper than {}",
                self.max_depth
            )));
        }
        self.skip_ws();
        let Some(b) = self.peek() else {
            return Err(self.err("unexpected end of data"));
        };
        match b {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.name_body()))
            }
            b'(' => self.literal_string(),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                self.dictionary(depth + 1).map(Object::Dictionary)
            }
            b'<' => self.hex_string(),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Object::Array(items));
                        }
                        None => return Err(self.err("unterminated array")),
                        _ => items.push(self.object(depth + 1)?),
                    }
                }
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => self.number_or_reference(),
            _ => {
                let at = self.pos;
                match self.token() {
                    b"true" => Ok(Object::Bool(true)),
                    b"false" => Ok(Object::Bool(false)),
                    b"null" => Ok(Object::Null),
                    t => Err(PdfError::syntax(
                        at,
                        format!(
                            "unexpected token `{}`",
                            String::from_utf8_lossy(&t[..t.len().min(20)])
                        ),
                    )),
                }
            }
        }
    }

    fn dictionary(&mut self, depth: usize) -> Result<Dictionary, PdfError> {
        let mut dict = Dictionary::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'>') if self.data.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    return Ok(dict);
                }
                Some(b'/') => {
                    self.pos += 1;
                    let key = self.name_body();
                    self.skip_ws();
                    let start = self.pos;
                    let value = self.object(depth)?;
                    if depth == 1 {
                        self.spans.push((key.clone(), start..self.pos));
                    }
                    dict.0.push((key, value));
                }
                None => return Err(self.err("unterminated dictionary")),
                _ => return Err(self.err("dictionary key is not a name")),
            }
        }
    }

    fn name_body(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            if is_ws(b) || is_delim(b) {
                break;
            }
            if b == b'#' {
                let hex = self.data.get(self.pos + 1..self.pos + 3);
                if let Some(v) = hex
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    out.push(v);
                    self.pos += 3;
                    continue;
                }
            }
            out.push(b);
            self.pos += 1;
        }
        out
    }

    fn number_or_reference(&mut self) -> Result<Object, PdfError> {
        let at = self.pos;
        let t = self.token();
        let text = std::str::from_utf8(t).map_err(|_| PdfError::syntax(at, "bad number"))?;
        if let Ok(i) = text.parse::<i64>() {
            // `n g R`?
            let save = self.pos;
            if i >= 0 {
                self.skip_ws();
                let t2 = self.token();
                if let Some(g) = std::str::from_utf8(t2)
                    .ok()
                    .and_then(|s| s.parse::<u16>().ok())
                {
                    self.skip_ws();
                    if self.peek() == Some(b'R')
                        && self
                            .data
                            .get(self.pos + 1)
                            .is_none_or(|&c| is_ws(c) || is_delim(c))
                    {
                        self.pos += 1;
                        if let Ok(n) = u32::try_from(i) {
                            return Ok(Object::Reference(ObjectId(n, g)));
                        }
                    }
                }
            }
            self.pos = save;
            return Ok(Object::Integer(i));
        }
        // Reals; tolerate a doubled sign like `--5` that some writers emit.
        let cleaned = text.trim_start_matches(['+']);
        let cleaned = if cleaned.starts_with("--") {
            &cleaned[1..]
        } else {
            cleaned
        };
        cleaned
            .parse::<f64>()
            .ok()
            .filter(|r| r.is_finite())
            .map(|r| Object::Real(Real::read(r, text)))
            .ok_or_else(|| PdfError::syntax(at, format!("bad number `{text}`")))
    }

    fn literal_string(&mut self) -> Result<Object, PdfError> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut nesting = 1usize;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            self.pos += 1;
            match b {
                b'(' => {
                    nesting += 1;
                    out.push(b);
                }
                b')' => {
                    nesting -= 1;
                    if nesting == 0 {
                        return Ok(Object::String(out, false));
                    }
                    out.push(b);
                }
                b'\\' => {
                    let Some(c) = self.peek() else {
                        return Err(self.err("unterminated string"));
                    };
                    self.pos += 1;
                    match c {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'0'..=b'7' => {
                            let mut v = u32::from(c - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                _ => out.push(b),
            }
        }
    }

    fn hex_string(&mut self) -> Result<Object, PdfError> {
        self.pos += 1;
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated hex string"));
            };
            self.pos += 1;
            let v = match b {
                b'>' => break,
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ if is_ws(b) => continue,
                _ => return Err(self.err("bad character in hex string")),
            };
            match high.take() {
                Some(h) => out.push(h << 4 | v),
                None => high = Some(v),
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        Ok(Object::String(out, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Object {
        Parser::new(s.as_bytes(), 0, 32)
            .object_top(&|_| None)
            .expect("parses")
    }

    #[test]
    fn parses_the_basic_types() {
        assert_eq!(parse("42"), Object::Integer(42));
        assert_eq!(parse("-3.5"), Object::real(-3.5));
        assert_eq!(parse("12 0 R"), Object::Reference(ObjectId(12, 0)));
        assert_eq!(parse("/A#20B"), Object::Name(b"A B".to_vec()));
        assert_eq!(
            parse("(a\\(b\\)\\101)"),
            Object::String(b"a(b)A".to_vec(), false)
        );
        assert_eq!(
            parse("<48 65 6>"),
            Object::String(vec![0x48, 0x65, 0x60], true)
        );
        let d = parse("<</Type/Page /Kids [1 0 R 2 0 R] /N null>>");
        let d = d.as_dict().expect("dict");
        assert_eq!(d.name(b"Type"), Some(&b"Page"[..]));
        assert_eq!(
            d.get(b"Kids"),
            Some(&Object::Array(vec![
                Object::Reference(ObjectId(1, 0)),
                Object::Reference(ObjectId(2, 0))
            ]))
        );
    }

    #[test]
    fn round_trips_through_the_writer() {
        let src = "<</A [1 2.5 (x\\)y) <00FF>] /B<</C /D#23>> /E true /F 3 0 R>>";
        let obj = parse(src);
        let mut out = Vec::new();
        obj.write(&mut out);
        let again = Parser::new(&out, 0, 32)
            .object_top(&|_| None)
            .expect("reparse");
        assert_eq!(obj, again);
    }

    #[test]
    fn streams_use_length_or_find_endstream() {
        let s = b"<</Length 5>>stream\nhello\nendstream";
        match Parser::new(s, 0, 8).object_top(&|_| None).expect("stream") {
            Object::Stream(st) => assert_eq!(st.data, b"hello"),
            other => panic!("not a stream: {other:?}"),
        }
        let wrong = b"<</Length 99>>stream\r\nhello\r\nendstream";
        match Parser::new(wrong, 0, 8)
            .object_top(&|_| None)
            .expect("stream")
        {
            Object::Stream(st) => assert_eq!(st.data, b"hello"),
            other => panic!("not a stream: {other:?}"),
        }
    }

    #[test]
    fn depth_and_garbage_are_errors_not_panics() {
        let deep = "[".repeat(100);
        assert!(matches!(
            Parser::new(deep.as_bytes(), 0, 32).object(0),
            Err(PdfError::Limit(_))
        ));
        for bad in ["(", "<", "<<", "[1 2", "<</A>>x", "<<1 2>>", ")", "<zz>"] {
            let _ = Parser::new(bad.as_bytes(), 0, 32).object_top(&|_| None);
        }
        assert!(Parser::new(b"<<1 2>>", 0, 32).object(0).is_err());
    }

    #[test]
    fn a_position_past_the_end_is_an_error_not_a_panic() {
        // Found by the pdf_verify fuzz target: an offset pointing beyond the file.
        let mut p = Parser::new(b"1 0 obj", 100, 4);
        assert_eq!(p.token(), b"");
        assert!(p.indirect(&|_| None).is_err());
        assert!(p.rest().is_empty());
    }

    #[test]
    fn records_top_level_value_spans() {
        let src = b"<</Type /Sig /Contents <0011> /ByteRange [0 1 2 3]>>";
        let mut p = Parser::new(src, 0, 8);
        p.object(0).expect("dict");
        let (_, span) = p
            .spans
            .iter()
            .find(|(k, _)| k == b"Contents")
            .expect("span");
        assert_eq!(&src[span.clone()], b"<0011>");
    }
}
