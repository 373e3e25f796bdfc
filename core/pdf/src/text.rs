//! Where text is drawn on a page: a small content-stream interpreter.
//!
//! It tracks the graphics state (`q`/`Q`, `cm`) and the text state (`BT`/`ET`, `Tm`, `Td`, `TD`,
//! `T*`, `TL`, `Tf`, `Tc`, `Tw`, `Tz`, `Ts`), shows strings (`Tj`, `TJ`, `'`, `"`), maps
//! character codes to Unicode through each font's `/ToUnicode` CMap (or its simple encoding),
//! and records where every character lands in user space. Form XObjects (`Do`) are followed
//! to a small depth; inline images are skipped.
//!
//! [`find_text`] then searches a keyword in that text, so that a visible signature can be put
//! "under the keyword" (e.g. under `借款人（签字）：`).
//!
//! Everything here reads untrusted data: loops are bounded, the `q` stack is bounded, at most
//! [`MAX_OPERATORS`] operators and [`MAX_CHARS`] characters are handled per page, and the
//! decoded content (page, forms and CMaps together) stays within
//! [`Limits::max_decoded_stream`](crate::error::Limits::max_decoded_stream).
//!
//! Approximations: glyph boxes span from 0.2 below to 0.8 above the baseline (in units of the
//! font size) rather than using font metrics; vertical writing modes are laid out horizontally;
//! simple fonts without `/ToUnicode` are read as Latin-1 (WinAnsi in 0x80..0x9F) with their
//! `/Differences`, never through the built-in encoding of an embedded font program. Only the
//! page's content is read: annotation appearances (such as existing signatures) are not.

use crate::document::Document;
use crate::error::PdfError;
use crate::filters::decode_stream;
use crate::object::{Dictionary, Object, ObjectId};
use crate::pages::PageRef;
use crate::parser::{Parser, is_delim, is_ws};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Most content-stream operators interpreted per page (including those of form XObjects).
pub const MAX_OPERATORS: usize = 10_000_000;
/// Most characters collected per page; interpretation stops there.
pub const MAX_CHARS: usize = 1 << 20;
/// Deepest `q` nesting tracked (deeper `q`/`Q` pairs are counted but not saved).
const MAX_GSTATE_STACK: usize = 256;
/// Deepest nesting of form XObjects followed.
const MAX_FORM_DEPTH: usize = 8;
/// Most operands kept before an operator (extra ones drop the oldest).
const MAX_OPERANDS: usize = 64;
/// Most entries one font expands from CMap ranges or `/W` arrays.
const MAP_BUDGET: usize = 1 << 18;
/// Object nesting accepted inside content streams and CMaps.
const MAX_OPERAND_DEPTH: usize = 32;

/// A place where the text was found, in PDF user space (points, origin bottom-left).
#[derive(Clone, Debug, PartialEq)]
pub struct TextHit {
    /// `[x0, y0, x1, y1]` of the matched glyphs (the union of their boxes).
    pub rect: [f64; 4],
    /// The largest effective font size (in user-space units) among the matched glyphs.
    pub font_size: f64,
}

/// One character drawn on a page, in PDF user space.
#[derive(Clone, Debug, PartialEq)]
pub struct TextChar {
    /// The character (`U+FFFD` when the font gives no Unicode for the glyph).
    pub ch: char,
    /// `[x0, y0, x1, y1]`: the glyph's advance box from 0.2 below to 0.8 above the baseline
    /// (in units of the font size), transformed to user space (the bounding box if rotated).
    pub rect: [f64; 4],
    /// The effective font size in user-space units (font size scaled by the text and
    /// transformation matrices).
    pub font_size: f64,
}

/// Find every occurrence of `needle` drawn on `page`, in content-stream order.
///
/// Matching ignores whitespace (the needle's and the page's, so a keyword split across `TJ`
/// fragments or spaced out still matches) and treats full-width ASCII forms as their ASCII
/// counterparts (`（）：` equal `():`). Occurrences do not overlap. An empty needle (or one of
/// whitespace only) finds nothing.
///
/// Errors only when the page's content cannot be read at all; unreadable fonts, unknown
/// operators and garbage in the content are skipped.
pub fn find_text(
    doc: &Document<'_>,
    page: &PageRef,
    needle: &str,
) -> Result<Vec<TextHit>, PdfError> {
    let chars = page_text(doc, page)?;
    Ok(search_chars(&chars, needle))
}

/// All characters drawn on `page`, in content-stream order, with their positions.
///
/// Errors only when the page's content cannot be read at all (see [`find_text`]).
pub fn page_text(doc: &Document<'_>, page: &PageRef) -> Result<Vec<TextChar>, PdfError> {
    let mut budget = doc.limits().max_decoded_stream;
    let content = page_contents(doc, &page.dict, &mut budget)?;
    let resources = page_resources(doc, &page.dict);
    Ok(interpret(doc, &content, &resources, budget))
}

/// Search `needle` in characters already extracted with [`page_text`] (same rules as
/// [`find_text`]).
pub fn search_chars(chars: &[TextChar], needle: &str) -> Vec<TextHit> {
    let want: Vec<char> = needle.chars().map(fold).filter(|c| !skipped(*c)).collect();
    if want.is_empty() {
        return Vec::new();
    }
    let hay: Vec<(char, usize)> = chars
        .iter()
        .enumerate()
        .map(|(i, c)| (fold(c.ch), i))
        .filter(|(c, _)| !skipped(*c))
        .collect();
    let mut hits = Vec::new();
    let mut i = 0;
    while i + want.len() <= hay.len() {
        let window = &hay[i..i + want.len()];
        if window.iter().zip(&want).all(|((c, _), w)| c == w) {
            let mut rect = EMPTY_RECT;
            let mut font_size = 0f64;
            for &(_, idx) in window {
                let c = &chars[idx];
                rect = union(rect, c.rect[0], c.rect[1]);
                rect = union(rect, c.rect[2], c.rect[3]);
                font_size = font_size.max(c.font_size);
            }
            hits.push(TextHit { rect, font_size });
            i += want.len();
        } else {
            i += 1;
        }
    }
    hits
}

const EMPTY_RECT: [f64; 4] = [
    f64::INFINITY,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NEG_INFINITY,
];

/// `rect` grown to include the point `(x, y)`.
fn union(rect: [f64; 4], x: f64, y: f64) -> [f64; 4] {
    [
        rect[0].min(x),
        rect[1].min(y),
        rect[2].max(x),
        rect[3].max(y),
    ]
}

/// Full-width ASCII forms (U+FF01..U+FF5E) become ASCII.
fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

fn skipped(c: char) -> bool {
    c.is_whitespace() || c.is_control()
}

// ---------------------------------------------------------------------------------------------
// Page inputs

/// The decoded content of a page: its streams joined by newlines.
fn page_contents(
    doc: &Document<'_>,
    page: &Dictionary,
    budget: &mut usize,
) -> Result<Vec<u8>, PdfError> {
    let Some(contents) = page.get(b"Contents") else {
        return Ok(Vec::new());
    };
    let items = match doc.resolve(contents)? {
        Object::Array(a) => a,
        Object::Null => return Ok(Vec::new()),
        other => vec![other],
    };
    let mut out = Vec::new();
    let mut read_any = false;
    let mut first_error = None;
    for item in &items {
        let stream = match doc.resolve(item) {
            Ok(Object::Stream(s)) => s,
            Ok(Object::Null) => continue,
            Ok(_) => {
                first_error
                    .get_or_insert(PdfError::Malformed("page content is not a stream".into()));
                continue;
            }
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        match decode_stream(&stream, *budget) {
            Ok(data) => {
                *budget = budget.saturating_sub(data.len());
                if read_any {
                    out.push(b'\n');
                }
                out.extend_from_slice(&data);
                read_any = true;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if !read_any => Err(e),
        _ => Ok(out),
    }
}

/// The page's resources, inherited from the page tree when the page has none.
fn page_resources(doc: &Document<'_>, page: &Dictionary) -> Dictionary {
    let mut node = page.clone();
    let mut seen = HashSet::new();
    for _ in 0..64 {
        if let Some(r) = node.get(b"Resources") {
            return doc.dict(r, "the page resources").unwrap_or_default();
        }
        let Some(parent) = node.get(b"Parent").and_then(Object::as_ref_id) else {
            break;
        };
        if !seen.insert(parent) {
            break;
        }
        match doc.dict(&Object::Reference(parent), "a page tree node") {
            Ok(d) => node = d,
            Err(_) => break,
        }
    }
    Dictionary::new()
}

/// A number, following one reference if needed.
fn num(doc: &Document<'_>, o: &Object) -> Option<f64> {
    match o {
        Object::Reference(_) => doc.resolve(o).ok()?.as_f64(),
        _ => o.as_f64(),
    }
    .filter(|v| v.is_finite())
}

/// A sub-dictionary of a resource dictionary (empty when missing or broken).
fn sub_dict(doc: &Document<'_>, resources: &Dictionary, key: &[u8]) -> Dictionary {
    resources
        .get(key)
        .and_then(|d| doc.dict(d, "a resource dictionary").ok())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// An operand or an operator of a content stream (or a CMap).
#[derive(Debug)]
enum Tok<'a> {
    Operand(Object),
    Op(&'a [u8]),
}

/// A tolerant tokenizer over the existing object parser: garbage is skipped byte by byte.
struct Lexer<'a> {
    p: Parser<'a>,
}

impl<'a> Lexer<'a> {
    fn new(data: &'a [u8]) -> Self {
        Lexer {
            p: Parser::new(data, 0, MAX_OPERAND_DEPTH),
        }
    }

    fn next_tok(&mut self) -> Option<Tok<'a>> {
        loop {
            self.p.skip_ws();
            let &b = self.p.rest().first()?;
            let start = self.p.pos;
            match b {
                b'/' | b'(' | b'<' | b'[' | b'+' | b'-' | b'.' | b'0'..=b'9' => {
                    match self.p.object(0) {
                        Ok(o) => return Some(Tok::Operand(o)),
                        Err(_) => {
                            if self.p.pos <= start {
                                self.p.pos = start + 1;
                            }
                        }
                    }
                }
                _ => {
                    let t = self.p.token();
                    if t.is_empty() {
                        // A stray delimiter such as `]`, `)`, `>`, `{`.
                        self.p.pos = start + 1;
                        continue;
                    }
                    return Some(match t {
                        b"true" => Tok::Operand(Object::Bool(true)),
                        b"false" => Tok::Operand(Object::Bool(false)),
                        b"null" => Tok::Operand(Object::Null),
                        _ => Tok::Op(t),
                    });
                }
            }
        }
    }

    /// Skip an inline image; the lexer has just read `BI`. Leaves the position after `EI`.
    fn skip_inline_image(&mut self) {
        let mut dict = Dictionary::new();
        let mut key: Option<Vec<u8>> = None;
        loop {
            match self.next_tok() {
                None => return,
                Some(Tok::Op(b"ID")) => break,
                Some(Tok::Op(b"EI")) => return,
                Some(Tok::Op(_)) => key = None,
                Some(Tok::Operand(o)) => match (key.take(), o) {
                    (None, Object::Name(n)) => key = Some(n),
                    (Some(k), v) => {
                        if dict.0.len() < 64 {
                            dict.0.push((k, v));
                        }
                    }
                    (None, _) => {}
                },
            }
        }
        // One whitespace byte separates `ID` from the data.
        if self.p.rest().first().is_some_and(|&b| is_ws(b)) {
            self.p.pos += 1;
        }
        let rest = self.p.rest();
        let ends_at = |end: usize| -> Option<usize> {
            let mut q = end;
            while rest.get(q).is_some_and(|&b| is_ws(b)) {
                q += 1;
            }
            let after = rest.get(q..)?;
            (after.starts_with(b"EI") && after.get(2).is_none_or(|&b| is_ws(b) || is_delim(b)))
                .then_some(q + 2)
        };
        if let Some(len) = inline_image_length(&dict) {
            if let Some(end) = (len <= rest.len()).then(|| ends_at(len)).flatten() {
                self.p.pos += end;
                return;
            }
        }
        let ws_or_end = |i: usize| rest.get(i).is_none_or(|&b| is_ws(b) || is_delim(b));
        let found = memchr::memmem::find_iter(rest, b"EI")
            .find(|&i| (i == 0 || is_ws(rest[i - 1])) && ws_or_end(i + 2))
            .or_else(|| memchr::memmem::find_iter(rest, b"EI").find(|&i| ws_or_end(i + 2)));
        self.p.pos += found.map_or(rest.len(), |i| i + 2);
    }
}

/// The byte length of an inline image's data, when it can be known: `/L` (PDF 2.0), or the
/// size of unfiltered samples.
fn inline_image_length(dict: &Dictionary) -> Option<usize> {
    let get = |short: &[u8], long: &[u8]| dict.get(short).or_else(|| dict.get(long));
    let int = |o: Option<&Object>| {
        o.and_then(Object::as_i64)
            .and_then(|v| usize::try_from(v).ok())
    };
    if let Some(l) = int(get(b"L", b"Length")) {
        return Some(l);
    }
    if get(b"F", b"Filter").is_some_and(|f| !matches!(f, Object::Array(a) if a.is_empty())) {
        return None;
    }
    let width = int(get(b"W", b"Width"))?;
    let height = int(get(b"H", b"Height"))?;
    let mask = matches!(get(b"IM", b"ImageMask"), Some(Object::Bool(true)));
    let (colors, bpc) = if mask {
        (1, 1)
    } else {
        let colors = match get(b"CS", b"ColorSpace")? {
            Object::Name(n) => match n.as_slice() {
                b"G" | b"DeviceGray" | b"CalGray" | b"I" | b"Indexed" => 1,
                b"RGB" | b"DeviceRGB" | b"CalRGB" => 3,
                b"CMYK" | b"DeviceCMYK" => 4,
                _ => return None,
            },
            Object::Array(a) => match a.first() {
                Some(Object::Name(n)) if n == b"I" || n == b"Indexed" => 1,
                _ => return None,
            },
            _ => return None,
        };
        (colors, int(get(b"BPC", b"BitsPerComponent"))?)
    };
    let row = width
        .checked_mul(colors)?
        .checked_mul(bpc)?
        .checked_add(7)?
        / 8;
    row.checked_mul(height)
}

// ---------------------------------------------------------------------------------------------
// Fonts

/// A ToUnicode map: character code to text.
type CMap = HashMap<u32, Box<str>>;

/// Glyph advances, in glyph units (thousandths of the font size for all but Type 3 fonts).
#[derive(Debug)]
enum Widths {
    Simple {
        first: i64,
        widths: Vec<f64>,
        missing: f64,
    },
    Cid {
        map: HashMap<u32, f64>,
        default: f64,
    },
}

/// What the interpreter needs of a font.
#[derive(Debug)]
struct Font {
    /// Codes are two bytes (Type0 fonts), else one.
    two_byte: bool,
    /// The `/ToUnicode` map.
    cmap: Option<Rc<CMap>>,
    /// Simple fonts: code to character through the encoding (Latin-1 / WinAnsi + Differences).
    encoding: Option<Box<[char; 256]>>,
    /// Type0 fonts with a UCS-2 / UTF-16 CMap: the code is the Unicode value.
    unicode_codes: bool,
    widths: Widths,
    /// Glyph units to text space units (1/1000, or a Type 3 font's FontMatrix).
    width_scale: f64,
}

impl Font {
    /// A font for text shown without (a readable) `Tf`: one-byte Latin-1 codes, 500 wide.
    fn fallback() -> Font {
        Font {
            two_byte: false,
            cmap: None,
            encoding: Some(Box::new(std::array::from_fn(base_char))),
            unicode_codes: false,
            widths: Widths::Simple {
                first: 0,
                widths: Vec::new(),
                missing: 500.0,
            },
            width_scale: 0.001,
        }
    }

    fn width(&self, code: u32) -> f64 {
        match &self.widths {
            Widths::Simple {
                first,
                widths,
                missing,
            } => i64::from(code)
                .checked_sub(*first)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| widths.get(i))
                .copied()
                .unwrap_or(*missing),
            Widths::Cid { map, default } => map.get(&code).copied().unwrap_or(*default),
        }
    }

    fn unicode(&self, code: u32, out: &mut Vec<char>) {
        if let Some(s) = self.cmap.as_ref().and_then(|m| m.get(&code)) {
            out.extend(s.chars());
            return;
        }
        if let Some(table) = &self.encoding {
            if let Some(c) = usize::try_from(code).ok().and_then(|i| table.get(i)) {
                out.push(*c);
                return;
            }
        }
        if self.unicode_codes {
            if let Some(c) = char::from_u32(code) {
                out.push(c);
                return;
            }
        }
        out.push('\u{FFFD}');
    }
}

/// Latin-1, with the WinAnsi characters in 0x80..0x9F.
fn base_char(code: usize) -> char {
    const WIN_ANSI_80: [char; 32] = [
        '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
        '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ',
        '\u{FFFD}', 'ž', 'Ÿ',
    ];
    match code {
        0x80..=0x9f => WIN_ANSI_80[code - 0x80],
        _ => u32::try_from(code)
            .ok()
            .and_then(char::from_u32)
            .unwrap_or('\u{FFFD}'),
    }
}

/// The character of a glyph name: `uniXXXX`, `uXXXX[XX]`, single letters, ASCII names.
fn glyph_char(name: &[u8]) -> Option<char> {
    const ASCII_NAMES: [(&[u8], char); 42] = [
        (b"space", ' '),
        (b"exclam", '!'),
        (b"quotedbl", '"'),
        (b"numbersign", '#'),
        (b"dollar", '$'),
        (b"percent", '%'),
        (b"ampersand", '&'),
        (b"quotesingle", '\''),
        (b"quoteright", '’'),
        (b"quoteleft", '‘'),
        (b"parenleft", '('),
        (b"parenright", ')'),
        (b"asterisk", '*'),
        (b"plus", '+'),
        (b"comma", ','),
        (b"hyphen", '-'),
        (b"period", '.'),
        (b"slash", '/'),
        (b"zero", '0'),
        (b"one", '1'),
        (b"two", '2'),
        (b"three", '3'),
        (b"four", '4'),
        (b"five", '5'),
        (b"six", '6'),
        (b"seven", '7'),
        (b"eight", '8'),
        (b"nine", '9'),
        (b"colon", ':'),
        (b"semicolon", ';'),
        (b"less", '<'),
        (b"equal", '='),
        (b"greater", '>'),
        (b"question", '?'),
        (b"at", '@'),
        (b"bracketleft", '['),
        (b"backslash", '\\'),
        (b"bracketright", ']'),
        (b"underscore", '_'),
        (b"braceleft", '{'),
        (b"bar", '|'),
        (b"braceright", '}'),
    ];
    if let [c] = name {
        return c.is_ascii_alphabetic().then_some(char::from(*c));
    }
    if let Some((_, c)) = ASCII_NAMES.iter().find(|(n, _)| *n == name) {
        return Some(*c);
    }
    let hex = name
        .strip_prefix(b"uni")
        .filter(|h| h.len() == 4)
        .or_else(|| {
            name.strip_prefix(b"u")
                .filter(|h| (4..=6).contains(&h.len()))
        })?;
    let v = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
    char::from_u32(v)
}

/// Parse a ToUnicode CMap (`beginbfchar` / `beginbfrange`, including the array form).
fn parse_cmap(data: &[u8]) -> CMap {
    #[derive(PartialEq)]
    enum Mode {
        None,
        Char,
        Range,
    }
    let mut map = CMap::new();
    let mut budget = MAP_BUDGET;
    let mut lx = Lexer::new(data);
    let mut mode = Mode::None;
    let mut ops: Vec<Object> = Vec::new();
    while let Some(tok) = lx.next_tok() {
        if budget == 0 {
            break;
        }
        match tok {
            Tok::Op(b"beginbfchar") => {
                mode = Mode::Char;
                ops.clear();
            }
            Tok::Op(b"beginbfrange") => {
                mode = Mode::Range;
                ops.clear();
            }
            Tok::Op(_) => {
                mode = Mode::None;
                ops.clear();
            }
            Tok::Operand(o) => {
                ops.push(o);
                match mode {
                    Mode::Char if ops.len() == 2 => {
                        if let (Some(code), Some(text)) = (code_of(&ops[0]), dest_text(&ops[1])) {
                            map.insert(code, text.into());
                            budget -= 1;
                        }
                        ops.clear();
                    }
                    Mode::Range if ops.len() == 3 => {
                        bf_range(&mut map, &mut budget, &ops);
                        ops.clear();
                    }
                    Mode::None if ops.len() > 16 => ops.clear(),
                    _ => {}
                }
            }
        }
    }
    map
}

fn bf_range(map: &mut CMap, budget: &mut usize, ops: &[Object]) {
    let (Some(lo), Some(hi)) = (code_of(&ops[0]), code_of(&ops[1])) else {
        return;
    };
    if hi < lo {
        return;
    }
    match &ops[2] {
        Object::String(dst, _) => {
            let units = utf16_units(dst);
            let Some(&last) = units.last() else {
                return;
            };
            let mut units = units.clone();
            let last_index = units.len() - 1;
            for (offset, code) in (lo..=hi).enumerate() {
                if *budget == 0 {
                    return;
                }
                // The last unit counts up (wrapping within 16 bits, like the byte it encodes).
                units[last_index] = last.wrapping_add((offset & 0xffff) as u16);
                let text: String = char::decode_utf16(units.iter().copied())
                    .map(|r| r.unwrap_or('\u{FFFD}'))
                    .collect();
                map.insert(code, text.into());
                *budget -= 1;
            }
        }
        Object::Array(items) => {
            for (code, item) in (lo..=hi).zip(items) {
                if *budget == 0 {
                    return;
                }
                if let Some(text) = dest_text(item) {
                    map.insert(code, text.into());
                    *budget -= 1;
                }
            }
        }
        _ => {}
    }
}

/// A source code: the big-endian value of a 1..4 byte string.
fn code_of(o: &Object) -> Option<u32> {
    match o {
        Object::String(b, _) if !b.is_empty() && b.len() <= 4 => {
            Some(b.iter().fold(0u32, |acc, &x| acc << 8 | u32::from(x)))
        }
        _ => None,
    }
}

fn utf16_units(b: &[u8]) -> Vec<u16> {
    if b.len() == 1 {
        return vec![u16::from(b[0])];
    }
    b.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// A destination: UTF-16BE text, or a glyph name.
fn dest_text(o: &Object) -> Option<String> {
    match o {
        Object::String(b, _) => Some(
            char::decode_utf16(utf16_units(b))
                .map(|r| r.unwrap_or('\u{FFFD}'))
                .collect(),
        ),
        Object::Name(n) => glyph_char(n).map(String::from),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The interpreter

/// A PDF matrix `[a b c d e f]` (row-vector convention: `p' = p × M`).
type Matrix = [f64; 6];

const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `a × b`: apply `a`, then `b`.
fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

fn apply(m: &Matrix, x: f64, y: f64) -> (f64, f64) {
    (x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5])
}

fn translate(tx: f64, ty: f64) -> Matrix {
    [1.0, 0.0, 0.0, 1.0, tx, ty]
}

/// The graphics state, with the text state parameters (which `q`/`Q` save too).
#[derive(Clone)]
struct GState {
    ctm: Matrix,
    font: Rc<Font>,
    size: f64,
    char_spacing: f64,
    word_spacing: f64,
    /// `Tz` / 100.
    h_scale: f64,
    leading: f64,
    rise: f64,
}

/// The resources of the content being run, with the fonts looked up so far.
struct Frame {
    fonts: Dictionary,
    xobjects: Dictionary,
    font_cache: HashMap<Vec<u8>, Rc<Font>>,
}

impl Frame {
    fn new(doc: &Document<'_>, resources: &Dictionary) -> Frame {
        Frame {
            fonts: sub_dict(doc, resources, b"Font"),
            xobjects: sub_dict(doc, resources, b"XObject"),
            font_cache: HashMap::new(),
        }
    }
}

/// A form XObject ready to run.
struct Form {
    content: Rc<Vec<u8>>,
    matrix: Matrix,
    /// Its own resources, or `None` to use the caller's.
    resources: Option<Dictionary>,
}

struct Interp<'d, 'a> {
    doc: &'d Document<'a>,
    ops_left: usize,
    /// Bytes of content that may still be run (forms run repeatedly count each time).
    run_left: usize,
    /// Bytes that may still be decoded (forms, CMaps).
    decode_left: usize,
    fonts_by_id: HashMap<ObjectId, Rc<Font>>,
    cmaps_by_id: HashMap<ObjectId, Option<Rc<CMap>>>,
    forms: HashMap<ObjectId, Option<Rc<Form>>>,
    fallback: Rc<Font>,
    chars: Vec<TextChar>,
    scratch: Vec<char>,
    stopped: bool,
}

/// Run `content` with `resources` and collect the characters it draws.
fn interpret(
    doc: &Document<'_>,
    content: &[u8],
    resources: &Dictionary,
    decode_budget: usize,
) -> Vec<TextChar> {
    let fallback = Rc::new(Font::fallback());
    let mut it = Interp {
        doc,
        ops_left: MAX_OPERATORS,
        run_left: doc.limits().max_decoded_stream.saturating_mul(2),
        decode_left: decode_budget,
        fonts_by_id: HashMap::new(),
        cmaps_by_id: HashMap::new(),
        forms: HashMap::new(),
        fallback: fallback.clone(),
        chars: Vec::new(),
        scratch: Vec::new(),
        stopped: false,
    };
    let gs = GState {
        ctm: IDENTITY,
        font: fallback,
        size: 0.0,
        char_spacing: 0.0,
        word_spacing: 0.0,
        h_scale: 1.0,
        leading: 0.0,
        rise: 0.0,
    };
    let mut frame = Frame::new(doc, resources);
    it.run(content, &mut frame, gs, 0);
    it.chars
}

/// The last `N` operands as numbers.
fn nums<const N: usize>(ops: &[Object]) -> Option<[f64; N]> {
    let start = ops.len().checked_sub(N)?;
    let mut out = [0.0; N];
    for (o, v) in ops[start..].iter().zip(out.iter_mut()) {
        *v = o.as_f64().filter(|x| x.is_finite())?;
    }
    Some(out)
}

impl Interp<'_, '_> {
    fn run(&mut self, content: &[u8], frame: &mut Frame, mut gs: GState, depth: usize) {
        if content.len() > self.run_left {
            // Forms run over and over: skip the rest, keep what the page itself draws.
            return;
        }
        self.run_left -= content.len();
        let mut lx = Lexer::new(content);
        let mut ops: Vec<Object> = Vec::new();
        let mut stack: Vec<GState> = Vec::new();
        let mut unsaved_q = 0usize;
        let mut tm = IDENTITY;
        let mut tlm = IDENTITY;
        while !self.stopped {
            let Some(tok) = lx.next_tok() else {
                break;
            };
            let op = match tok {
                Tok::Operand(o) => {
                    if ops.len() >= MAX_OPERANDS {
                        ops.remove(0);
                    }
                    ops.push(o);
                    continue;
                }
                Tok::Op(op) => op,
            };
            if self.ops_left == 0 {
                self.stopped = true;
                break;
            }
            self.ops_left -= 1;
            match op {
                b"q" => {
                    if stack.len() < MAX_GSTATE_STACK {
                        stack.push(gs.clone());
                    } else {
                        unsaved_q += 1;
                    }
                }
                b"Q" => {
                    if unsaved_q > 0 {
                        unsaved_q -= 1;
                    } else if let Some(saved) = stack.pop() {
                        gs = saved;
                    }
                }
                b"cm" => {
                    if let Some(m) = nums::<6>(&ops) {
                        gs.ctm = mul(&m, &gs.ctm);
                    }
                }
                b"BT" => {
                    tm = IDENTITY;
                    tlm = IDENTITY;
                }
                b"ET" => {}
                b"Tc" => {
                    if let Some([v]) = nums(&ops) {
                        gs.char_spacing = v;
                    }
                }
                b"Tw" => {
                    if let Some([v]) = nums(&ops) {
                        gs.word_spacing = v;
                    }
                }
                b"Tz" => {
                    if let Some([v]) = nums(&ops) {
                        gs.h_scale = v / 100.0;
                    }
                }
                b"TL" => {
                    if let Some([v]) = nums(&ops) {
                        gs.leading = v;
                    }
                }
                b"Ts" => {
                    if let Some([v]) = nums(&ops) {
                        gs.rise = v;
                    }
                }
                b"Tf" => {
                    if let [.., Object::Name(name), size] = ops.as_slice() {
                        if let Some(size) = size.as_f64().filter(|s| s.is_finite()) {
                            gs.font = self.font(frame, name);
                            gs.size = size;
                        }
                    }
                }
                b"Td" | b"TD" => {
                    if let Some([tx, ty]) = nums(&ops) {
                        if op == b"TD" {
                            gs.leading = -ty;
                        }
                        tlm = mul(&translate(tx, ty), &tlm);
                        tm = tlm;
                    }
                }
                b"Tm" => {
                    if let Some(m) = nums::<6>(&ops) {
                        tlm = m;
                        tm = m;
                    }
                }
                b"T*" => {
                    tlm = mul(&translate(0.0, -gs.leading), &tlm);
                    tm = tlm;
                }
                b"Tj" => {
                    if let Some(Object::String(s, _)) = ops.last() {
                        self.show(s, &gs, &mut tm);
                    }
                }
                b"'" | b"\"" => {
                    if op == b"\"" {
                        if let [.., aw, ac, Object::String(_, _)] = ops.as_slice() {
                            if let (Some(aw), Some(ac)) = (aw.as_f64(), ac.as_f64()) {
                                gs.word_spacing = aw;
                                gs.char_spacing = ac;
                            }
                        }
                    }
                    tlm = mul(&translate(0.0, -gs.leading), &tlm);
                    tm = tlm;
                    if let Some(Object::String(s, _)) = ops.last() {
                        self.show(s, &gs, &mut tm);
                    }
                }
                b"TJ" => {
                    if let Some(Object::Array(items)) = ops.last() {
                        for item in items {
                            match item {
                                Object::String(s, _) => self.show(s, &gs, &mut tm),
                                other => {
                                    if let Some(n) = other.as_f64().filter(|n| n.is_finite()) {
                                        let tx = -n / 1000.0 * gs.size * gs.h_scale;
                                        tm = mul(&translate(tx, 0.0), &tm);
                                    }
                                }
                            }
                        }
                    }
                }
                b"Do" => {
                    if let Some(Object::Name(name)) = ops.last() {
                        if depth < MAX_FORM_DEPTH {
                            self.run_form(frame, name, &gs, depth);
                        }
                    }
                }
                b"BI" => lx.skip_inline_image(),
                _ => {}
            }
            ops.clear();
        }
    }

    fn run_form(&mut self, frame: &mut Frame, name: &[u8], gs: &GState, depth: usize) {
        let Some(id) = frame.xobjects.get(name).and_then(Object::as_ref_id) else {
            return;
        };
        let form = match self.forms.get(&id) {
            Some(f) => f.clone(),
            None => {
                let f = self.load_form(id).map(Rc::new);
                self.forms.insert(id, f.clone());
                f
            }
        };
        let Some(form) = form else {
            return;
        };
        let mut inner = gs.clone();
        inner.ctm = mul(&form.matrix, &gs.ctm);
        match &form.resources {
            Some(res) => {
                let mut own = Frame::new(self.doc, res);
                self.run(&form.content, &mut own, inner, depth + 1);
            }
            None => self.run(&form.content, frame, inner, depth + 1),
        }
    }

    fn load_form(&mut self, id: ObjectId) -> Option<Form> {
        let Ok(Object::Stream(stream)) = self.doc.get(id) else {
            return None;
        };
        if stream.dict.name(b"Subtype") != Some(b"Form") {
            return None;
        }
        let content = decode_stream(&stream, self.decode_left).ok()?;
        self.decode_left = self.decode_left.saturating_sub(content.len());
        let mut matrix = IDENTITY;
        if let Some(Ok(Object::Array(a))) = stream.dict.get(b"Matrix").map(|m| self.doc.resolve(m))
        {
            if a.len() == 6 {
                for (v, o) in matrix.iter_mut().zip(&a) {
                    *v = num(self.doc, o)?;
                }
            }
        }
        let resources = stream
            .dict
            .get(b"Resources")
            .and_then(|r| self.doc.dict(r, "form resources").ok());
        Some(Form {
            content: Rc::new(content),
            matrix,
            resources,
        })
    }

    /// The font named `name` in the current resources (the fallback font if unreadable).
    fn font(&mut self, frame: &mut Frame, name: &[u8]) -> Rc<Font> {
        if let Some(f) = frame.font_cache.get(name) {
            return f.clone();
        }
        let font = match frame.fonts.get(name) {
            None => self.fallback.clone(),
            Some(Object::Reference(id)) => match self.fonts_by_id.get(id) {
                Some(f) => f.clone(),
                None => {
                    let f = self.load_font(&Object::Reference(*id));
                    self.fonts_by_id.insert(*id, f.clone());
                    f
                }
            },
            Some(direct) => {
                let direct = direct.clone();
                self.load_font(&direct)
            }
        };
        frame.font_cache.insert(name.to_vec(), font.clone());
        font
    }

    fn load_font(&mut self, obj: &Object) -> Rc<Font> {
        let doc = self.doc;
        let Ok(dict) = doc.dict(obj, "a font") else {
            return self.fallback.clone();
        };
        let cmap = dict.get(b"ToUnicode").and_then(|t| self.cmap(t));
        let font = if dict.name(b"Subtype") == Some(b"Type0") {
            let encoding = dict.name(b"Encoding").unwrap_or_default();
            let unicode_codes = [b"UCS2".as_slice(), b"UTF16"]
                .iter()
                .any(|k| memchr::memmem::find(encoding, k).is_some());
            let identity = encoding.starts_with(b"Identity-");
            let descendant = match dict.get(b"DescendantFonts").map(|d| doc.resolve(d)) {
                Some(Ok(Object::Array(a))) => {
                    a.first().and_then(|d| doc.dict(d, "a CID font").ok())
                }
                _ => None,
            };
            let mut default = 1000.0;
            let mut map = HashMap::new();
            if let Some(cid) = &descendant {
                default = cid.get(b"DW").and_then(|w| num(doc, w)).unwrap_or(1000.0);
                // Widths are by CID, which is the code only under Identity encodings.
                if identity {
                    if let Some(Ok(Object::Array(w))) = cid.get(b"W").map(|w| doc.resolve(w)) {
                        map = cid_widths(doc, &w);
                    }
                }
            }
            Font {
                two_byte: true,
                cmap,
                encoding: None,
                unicode_codes,
                widths: Widths::Cid { map, default },
                width_scale: 0.001,
            }
        } else {
            let first = dict
                .get(b"FirstChar")
                .and_then(|f| num(doc, f))
                .map_or(0, |f| f as i64);
            let widths = match dict.get(b"Widths").map(|w| doc.resolve(w)) {
                Some(Ok(Object::Array(a))) => a
                    .iter()
                    .take(256)
                    .map(|w| num(doc, w).unwrap_or(0.0))
                    .collect(),
                _ => Vec::new(),
            };
            let missing = dict
                .get(b"FontDescriptor")
                .and_then(|d| doc.dict(d, "a font descriptor").ok())
                .and_then(|d| d.get(b"MissingWidth").and_then(|w| num(doc, w)))
                .unwrap_or(500.0);
            let mut width_scale = 0.001;
            if dict.name(b"Subtype") == Some(b"Type3") {
                if let Some(Ok(Object::Array(fm))) = dict.get(b"FontMatrix").map(|m| doc.resolve(m))
                {
                    if let Some(s) = fm.first().and_then(|s| num(doc, s)).filter(|s| *s != 0.0) {
                        width_scale = s;
                    }
                }
            }
            Font {
                two_byte: false,
                cmap,
                encoding: Some(simple_encoding(doc, &dict)),
                unicode_codes: false,
                widths: Widths::Simple {
                    first,
                    widths,
                    missing,
                },
                width_scale,
            }
        };
        Rc::new(font)
    }

    /// A ToUnicode CMap, decoded within the budget (cached by object).
    fn cmap(&mut self, obj: &Object) -> Option<Rc<CMap>> {
        let id = obj.as_ref_id();
        if let Some(cached) = id.and_then(|id| self.cmaps_by_id.get(&id)) {
            return cached.clone();
        }
        let parsed = match self.doc.resolve(obj) {
            Ok(Object::Stream(s)) => match decode_stream(&s, self.decode_left) {
                Ok(data) => {
                    self.decode_left = self.decode_left.saturating_sub(data.len());
                    Some(Rc::new(parse_cmap(&data)))
                }
                Err(_) => None,
            },
            _ => None,
        };
        if let Some(id) = id {
            self.cmaps_by_id.insert(id, parsed.clone());
        }
        parsed
    }

    /// Show a string: one box per character, advancing the text matrix.
    fn show(&mut self, s: &[u8], gs: &GState, tm: &mut Matrix) {
        let font = gs.font.clone();
        let step = if font.two_byte { 2 } else { 1 };
        for bytes in s.chunks(step) {
            if self.chars.len() >= MAX_CHARS {
                self.stopped = true;
                return;
            }
            let code = bytes.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b));
            let w0 = font.width(code) * font.width_scale;
            let size = gs.size;
            let trm = mul(
                &mul(&[size * gs.h_scale, 0.0, 0.0, size, 0.0, gs.rise], tm),
                &gs.ctm,
            );
            let mut text = std::mem::take(&mut self.scratch);
            text.clear();
            font.unicode(code, &mut text);
            let font_size = trm[2].hypot(trm[3]);
            let n = text.len() as f64;
            for (k, &ch) in text.iter().enumerate() {
                let gx0 = w0 * k as f64 / n;
                let gx1 = w0 * (k as f64 + 1.0) / n;
                let corners = [
                    apply(&trm, gx0, -0.2),
                    apply(&trm, gx1, -0.2),
                    apply(&trm, gx0, 0.8),
                    apply(&trm, gx1, 0.8),
                ];
                let rect = corners
                    .into_iter()
                    .fold(EMPTY_RECT, |r, (x, y)| union(r, x, y));
                if rect.iter().all(|v| v.is_finite()) && font_size.is_finite() {
                    self.chars.push(TextChar {
                        ch,
                        rect,
                        font_size,
                    });
                }
            }
            self.scratch = text;
            let spacing = if step == 1 && code == 32 {
                gs.word_spacing
            } else {
                0.0
            };
            let tx = (w0 * size + gs.char_spacing + spacing) * gs.h_scale;
            *tm = mul(&translate(tx, 0.0), tm);
        }
    }
}

/// A CID font's `/W` array (`c [w1 w2 ...]` and `c1 c2 w`), codes limited to 16 bits.
fn cid_widths(doc: &Document<'_>, w: &[Object]) -> HashMap<u32, f64> {
    let code = |o: &Object| {
        num(doc, o)
            .filter(|c| (0.0..=65535.0).contains(c))
            .map(|c| c as u32)
    };
    let mut map = HashMap::new();
    let mut budget = MAP_BUDGET;
    let mut i = 0;
    while i < w.len() && budget > 0 {
        let Some(first) = code(&w[i]) else {
            i += 1;
            continue;
        };
        let next = match w.get(i + 1) {
            Some(o @ Object::Reference(_)) => doc.resolve(o).unwrap_or(Object::Null),
            Some(o) => o.clone(),
            None => break,
        };
        match next {
            Object::Array(ws) => {
                for (c, wv) in (first..=0xffff).zip(&ws) {
                    if budget == 0 {
                        break;
                    }
                    if let Some(v) = num(doc, wv) {
                        map.insert(c, v);
                    }
                    budget -= 1;
                }
                i += 2;
            }
            other => {
                let (Some(last), Some(v)) = (code(&other), w.get(i + 2).and_then(|v| num(doc, v)))
                else {
                    i += 3;
                    continue;
                };
                for c in first..=last {
                    if budget == 0 {
                        break;
                    }
                    map.insert(c, v);
                    budget -= 1;
                }
                i += 3;
            }
        }
    }
    map
}

/// A simple font's code-to-character table: Latin-1 (WinAnsi in 0x80..0x9F) plus Differences.
fn simple_encoding(doc: &Document<'_>, font: &Dictionary) -> Box<[char; 256]> {
    let mut table: Box<[char; 256]> = Box::new(std::array::from_fn(base_char));
    let encoding = font
        .get(b"Encoding")
        .and_then(|e| doc.dict(e, "an encoding").ok());
    let diffs = match encoding
        .as_ref()
        .and_then(|e| e.get(b"Differences"))
        .map(|d| doc.resolve(d))
    {
        Some(Ok(Object::Array(a))) => a,
        _ => return table,
    };
    let mut code: Option<usize> = None;
    for item in &diffs {
        match item {
            Object::Integer(n) => code = usize::try_from(*n).ok(),
            Object::Name(name) => {
                if let Some(c) = code {
                    if let (Some(slot), Some(ch)) = (table.get_mut(c), glyph_char(name)) {
                        *slot = ch;
                    }
                    code = c.checked_add(1);
                }
            }
            _ => {}
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Limits;
    use crate::testing::minimal_pdf;

    fn run(content: &[u8], resources: &Dictionary) -> Vec<TextChar> {
        let data = minimal_pdf();
        let doc = Document::load(&data, &Limits::default()).expect("loads");
        interpret(&doc, content, resources, 1 << 20)
    }

    fn text(chars: &[TextChar]) -> String {
        chars.iter().map(|c| c.ch).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn parses_bfchar_and_both_bfrange_forms() {
        let cmap = parse_cmap(
            b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
              1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
              2 beginbfchar <0003> <501F> <0004> <D83DDE00> endbfchar\n\
              2 beginbfrange <0010> <0012> <0041> <0020> <0021> [<4E2A> <00660069>] endbfrange\n\
              endcmap CMapName currentdict /CMap defineresource pop end end",
        );
        assert_eq!(cmap.get(&3).map(|s| &**s), Some("借"));
        assert_eq!(cmap.get(&4).map(|s| &**s), Some("😀"));
        assert_eq!(cmap.get(&0x10).map(|s| &**s), Some("A"));
        assert_eq!(cmap.get(&0x12).map(|s| &**s), Some("C"));
        assert_eq!(cmap.get(&0x20).map(|s| &**s), Some("个"));
        assert_eq!(cmap.get(&0x21).map(|s| &**s), Some("fi"));
        assert_eq!(cmap.get(&0x13), None);
    }

    #[test]
    fn huge_cmap_ranges_are_bounded() {
        let cmap = parse_cmap(b"1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange");
        assert_eq!(cmap.len(), MAP_BUDGET);
    }

    #[test]
    fn glyph_names() {
        assert_eq!(glyph_char(b"uni501F"), Some('借'));
        assert_eq!(glyph_char(b"u1F600"), Some('😀'));
        assert_eq!(glyph_char(b"parenleft"), Some('('));
        assert_eq!(glyph_char(b"Q"), Some('Q'));
        assert_eq!(glyph_char(b"g123"), None);
    }

    #[test]
    fn tokens_operands_and_garbage() {
        let mut lx = Lexer::new(b"1 0 0 1 5 6 cm ] ) } /F1 12 Tf [(a) -20 (b)] TJ -. q");
        let mut toks = Vec::new();
        while let Some(t) = lx.next_tok() {
            toks.push(match t {
                Tok::Op(op) => String::from_utf8_lossy(op).into_owned(),
                Tok::Operand(_) => "#".into(),
            });
        }
        assert_eq!(
            toks.join(" "),
            "# # # # # # cm # # Tf # TJ q",
            "stray delimiters and bad numbers are skipped"
        );
    }

    #[test]
    fn latin1_fallback_without_a_font() {
        let chars = run(
            b"BT 10 0 0 10 100 100 Tm (Hi\xe9) Tj ET",
            &Dictionary::new(),
        );
        assert_eq!(text(&chars), "Hié");
        // No Tf: size 0 → Tm alone gives a zero-size box at the origin of the text matrix.
        assert!(close(chars[0].rect[0], 100.0));
    }

    #[test]
    fn inline_images_are_skipped_by_length_and_by_search() {
        let font = Dictionary::new().with(
            b"F1",
            Object::Dictionary(
                Dictionary::new()
                    .with(b"Type", Object::name("Font"))
                    .with(b"Subtype", Object::name("Type1"))
                    .with(b"BaseFont", Object::name("Helvetica")),
            ),
        );
        let resources = Dictionary::new().with(b"Font", Object::Dictionary(font));
        // Unfiltered 5-byte sample data that itself contains " EI (".
        let chars = run(
            b"BI /W 5 /H 1 /BPC 8 /CS /G ID  EI ( EI BT /F1 12 Tf 1 0 0 1 50 60 Tm (A) Tj ET",
            &resources,
        );
        assert_eq!(text(&chars), "A");
        // Filtered: found by searching for EI.
        let chars = run(
            b"BI /W 2 /H 2 /BPC 8 /CS /RGB /F /AHx ID 41EI42> EI BT /F1 12 Tf (B) Tj ET",
            &resources,
        );
        assert_eq!(text(&chars), "B");
        // Unterminated: nothing after, no panic.
        assert!(run(b"BI /W 1 ID \x00\x01", &resources).is_empty());
    }

    #[test]
    fn type0_identity_with_w_array_and_tounicode() {
        let cmap =
            b"1 beginbfchar <0102> <501F> endbfchar 1 beginbfrange <0200> <0201> <6B3E> endbfrange";
        let data = minimal_pdf();
        let doc = Document::load(&data, &Limits::default()).expect("loads");
        let map = parse_cmap(cmap);
        let font = Font {
            two_byte: true,
            cmap: Some(Rc::new(map)),
            encoding: None,
            unicode_codes: false,
            widths: Widths::Cid {
                map: cid_widths(
                    &doc,
                    &[
                        Object::Integer(0x102),
                        Object::Array(vec![Object::Integer(800)]),
                        Object::Integer(0x200),
                        Object::Integer(0x201),
                        Object::Integer(600),
                    ],
                ),
                default: 1000.0,
            },
            width_scale: 0.001,
        };
        assert!(close(font.width(0x102), 800.0));
        assert!(close(font.width(0x201), 600.0));
        assert!(close(font.width(0x300), 1000.0));
        let mut out = Vec::new();
        font.unicode(0x200, &mut out);
        font.unicode(0x201, &mut out);
        font.unicode(0x999, &mut out);
        assert_eq!(out, vec!['款', '欿', '\u{FFFD}']);
    }

    #[test]
    fn search_folds_full_width_and_ignores_spaces() {
        let mk = |s: &str| -> Vec<TextChar> {
            s.chars()
                .enumerate()
                .map(|(i, ch)| TextChar {
                    ch,
                    rect: [i as f64 * 10.0, 0.0, i as f64 * 10.0 + 10.0, 10.0],
                    font_size: 10.0,
                })
                .collect()
        };
        let chars = mk("贷款人（盖章）： 借 款人(签字):");
        assert_eq!(search_chars(&chars, "借款人（签字）：").len(), 1);
        let hit = &search_chars(&chars, "借款人")[0];
        assert_eq!(hit.rect, [90.0, 0.0, 130.0, 10.0]);
        assert_eq!(search_chars(&chars, "款人").len(), 2);
        assert!(search_chars(&chars, "  ").is_empty());
        assert!(search_chars(&chars, "签章：x").is_empty());
    }
}
