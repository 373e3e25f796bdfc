//! Cross-reference sections: classic tables, cross-reference streams and hybrid files.
//!
//! Each section found by following `startxref` and `/Prev` is one revision of the file. Sections
//! are returned newest first, with the byte offset where the revision ends (after `%%EOF`).

use crate::error::{Limits, PdfError};
use crate::filters::decode_stream;
use crate::object::{Dictionary, Object};
use crate::parser::Parser;
use std::collections::HashSet;

/// Where an object lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XrefEntry {
    /// Free entry.
    Free,
    /// At a byte offset, with its generation.
    Offset(usize, u16),
    /// Inside an object stream: (stream object number, index).
    InStream(u32, u32),
}

/// One cross-reference section = one revision.
#[derive(Clone, Debug)]
pub struct Section {
    /// Byte offset of `xref` or of the cross-reference stream object.
    pub offset: usize,
    /// Whether this is a cross-reference stream.
    pub is_stream: bool,
    /// The trailer (or the stream's dictionary).
    pub trailer: Dictionary,
    /// Entries defined in this section.
    pub entries: Vec<(u32, XrefEntry)>,
    /// Byte offset just after this revision's `%%EOF` (and its end-of-line).
    pub end: usize,
}

/// Find the offset after `startxref` near the end of the file.
pub fn find_startxref(data: &[u8]) -> Result<usize, PdfError> {
    let tail_start = data.len().saturating_sub(2048);
    let tail = &data[tail_start..];
    let at = memchr::memmem::rfind(tail, b"startxref")
        .ok_or_else(|| PdfError::BrokenXref("no startxref".into()))?;
    let mut p = Parser::new(data, tail_start + at + 9, 4);
    let off = p
        .uint()
        .map_err(|_| PdfError::BrokenXref("startxref is not followed by an offset".into()))?;
    usize::try_from(off)
        .ok()
        .filter(|&o| o < data.len())
        .ok_or_else(|| PdfError::BrokenXref(format!("startxref {off} is outside the file")))
}

/// Load every section, newest first.
pub fn load_sections(data: &[u8], limits: &Limits) -> Result<Vec<Section>, PdfError> {
    let mut sections = Vec::new();
    let mut seen = HashSet::new();
    let mut next = Some(find_startxref(data)?);
    while let Some(offset) = next {
        if !seen.insert(offset) {
            return Err(PdfError::BrokenXref(format!(
                "/Prev loop at offset {offset}"
            )));
        }
        if sections.len() >= limits.max_revisions {
            return Err(PdfError::Limit(format!(
                "more than {} revisions",
                limits.max_revisions
            )));
        }
        let mut section = read_section(data, offset, limits)?;
        if let Some(stm) = section.trailer.get(b"XRefStm").and_then(Object::as_i64) {
            // Hybrid file: the stream adds entries (objects in object streams) to this section.
            let stm =
                usize::try_from(stm).map_err(|_| PdfError::BrokenXref("bad /XRefStm".into()))?;
            if let Ok(extra) = read_section(data, stm, limits) {
                let known: HashSet<u32> = section
                    .entries
                    .iter()
                    .filter(|(_, e)| *e != XrefEntry::Free)
                    .map(|(n, _)| *n)
                    .collect();
                section.entries.extend(
                    extra
                        .entries
                        .into_iter()
                        .filter(|(n, _)| !known.contains(n)),
                );
            }
        }
        next = match section.trailer.get(b"Prev") {
            Some(Object::Integer(p)) => Some(
                usize::try_from(*p)
                    .ok()
                    .filter(|&p| p < data.len())
                    .ok_or_else(|| PdfError::BrokenXref(format!("/Prev {p} outside the file")))?,
            ),
            _ => None,
        };
        sections.push(section);
    }
    Ok(sections)
}

fn revision_end(data: &[u8], from: usize) -> usize {
    match memchr::memmem::find(&data[from..], b"%%EOF") {
        Some(rel) => {
            let mut end = from + rel + 5;
            if data.get(end) == Some(&b'\r') {
                end += 1;
            }
            if data.get(end) == Some(&b'\n') {
                end += 1;
            }
            end
        }
        None => data.len(),
    }
}

fn read_section(data: &[u8], offset: usize, limits: &Limits) -> Result<Section, PdfError> {
    let mut p = Parser::new(data, offset, limits.max_depth);
    p.skip_ws();
    if p.rest().starts_with(b"xref") {
        p.pos += 4;
        read_table(data, offset, p, limits)
    } else {
        read_stream(data, offset, limits)
    }
}

fn read_table(
    data: &[u8],
    offset: usize,
    mut p: Parser<'_>,
    limits: &Limits,
) -> Result<Section, PdfError> {
    let mut entries = Vec::new();
    loop {
        p.skip_ws();
        if p.rest().starts_with(b"trailer") {
            p.pos += 7;
            break;
        }
        let start = p
            .uint()
            .map_err(|_| PdfError::BrokenXref(format!("bad subsection header at {}", p.pos)))?;
        let count = p
            .uint()
            .map_err(|_| PdfError::BrokenXref(format!("bad subsection header at {}", p.pos)))?;
        if entries.len() as u64 + count > limits.max_objects as u64 {
            return Err(PdfError::Limit(format!(
                "more than {} objects",
                limits.max_objects
            )));
        }
        for i in 0..count {
            let off = p
                .uint()
                .map_err(|_| PdfError::BrokenXref(format!("bad entry at {}", p.pos)))?;
            let gen_ = p
                .uint()
                .map_err(|_| PdfError::BrokenXref(format!("bad entry at {}", p.pos)))?;
            let kind = p.token();
            let num = u32::try_from(start + i)
                .map_err(|_| PdfError::BrokenXref("object number too large".into()))?;
            let entry = match kind {
                b"n" => XrefEntry::Offset(
                    usize::try_from(off).map_err(|_| PdfError::BrokenXref("bad offset".into()))?,
                    u16::try_from(gen_).unwrap_or(u16::MAX),
                ),
                b"f" => XrefEntry::Free,
                _ => return Err(PdfError::BrokenXref(format!("bad entry type at {}", p.pos))),
            };
            entries.push((num, entry));
        }
    }
    let trailer = match p.object(0)? {
        Object::Dictionary(d) => d,
        _ => return Err(PdfError::BrokenXref("trailer is not a dictionary".into())),
    };
    Ok(Section {
        offset,
        is_stream: false,
        end: revision_end(data, p.pos),
        trailer,
        entries,
    })
}

fn read_stream(data: &[u8], offset: usize, limits: &Limits) -> Result<Section, PdfError> {
    let mut p = Parser::new(data, offset, limits.max_depth);
    let (_, obj) = p
        .indirect(&|_| None)
        .map_err(|e| PdfError::BrokenXref(format!("no xref table or stream at {offset}: {e}")))?;
    let Object::Stream(stream) = obj else {
        return Err(PdfError::BrokenXref(format!(
            "object at {offset} is not an xref stream"
        )));
    };
    if stream.dict.name(b"Type") != Some(b"XRef") {
        return Err(PdfError::BrokenXref(format!(
            "object at {offset} is not an xref stream"
        )));
    }
    let widths: Vec<usize> = match stream.dict.get(b"W") {
        Some(Object::Array(a)) if a.len() == 3 => a
            .iter()
            .map(|w| {
                w.as_i64()
                    .and_then(|w| usize::try_from(w).ok())
                    .filter(|&w| w <= 8)
            })
            .collect::<Option<_>>()
            .ok_or_else(|| PdfError::BrokenXref("bad /W".into()))?,
        _ => return Err(PdfError::BrokenXref("missing /W".into())),
    };
    let size = stream
        .dict
        .get(b"Size")
        .and_then(Object::as_i64)
        .unwrap_or(0);
    let index: Vec<i64> = match stream.dict.get(b"Index") {
        Some(Object::Array(a)) => a.iter().filter_map(Object::as_i64).collect(),
        _ => vec![0, size],
    };
    let body = decode_stream(&stream, limits.max_decoded_stream)?;
    let row: usize = widths.iter().sum();
    if row == 0 {
        return Err(PdfError::BrokenXref("empty /W".into()));
    }
    let mut rows = body.chunks_exact(row);
    let mut entries = Vec::new();
    for pair in index.chunks(2) {
        let (start, count) = match pair {
            [s, c] if *s >= 0 && *c >= 0 => (*s as u64, *c as u64),
            _ => return Err(PdfError::BrokenXref("bad /Index".into())),
        };
        if entries.len() as u64 + count > limits.max_objects as u64 {
            return Err(PdfError::Limit(format!(
                "more than {} objects",
                limits.max_objects
            )));
        }
        for i in 0..count {
            let Some(r) = rows.next() else { break };
            let field = |k: usize| -> u64 {
                let s: usize = widths[..k].iter().sum();
                r[s..s + widths[k]]
                    .iter()
                    .fold(0u64, |acc, &b| acc << 8 | u64::from(b))
            };
            let kind = if widths[0] == 0 { 1 } else { field(0) };
            let num = u32::try_from(start + i)
                .map_err(|_| PdfError::BrokenXref("object number too large".into()))?;
            let entry = match kind {
                0 => XrefEntry::Free,
                1 => XrefEntry::Offset(
                    usize::try_from(field(1)).unwrap_or(usize::MAX),
                    u16::try_from(field(2)).unwrap_or(u16::MAX),
                ),
                2 => XrefEntry::InStream(
                    u32::try_from(field(1)).unwrap_or(u32::MAX),
                    u32::try_from(field(2)).unwrap_or(u32::MAX),
                ),
                _ => continue,
            };
            entries.push((num, entry));
        }
    }
    Ok(Section {
        offset,
        is_stream: true,
        end: revision_end(data, p.pos),
        trailer: stream.dict,
        entries,
    })
}
