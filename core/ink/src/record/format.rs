//! Binary format of the biometric record, modelled on ISO/IEC 19794-7 time-series signature data.
//!
//! All integers and floats are little-endian; floats are IEEE 754 `binary32` and must be finite.
//!
//! ```text
//! offset  size  field
//! 0       4     magic "INKR"
//! 4       2     format version (u16) = 1
//! 6       4     pad width in device units (u32)
//! 10      4     pad height in device units (u32)
//! 14      4     resolution in dots per inch (u32)
//! 18      8     capture start time, unix milliseconds (u64)
//! 26      1     channel bitmask (u8):
//!                 bit 0 x, bit 1 y, bit 2 t, bit 3 pressure  (mandatory, always set)
//!                 bit 4 tilt, bit 5 azimuth                   (optional)
//!                 bits 6-7 reserved, must be 0
//! 27      2     device info length in bytes (u16, at most MAX_DEVICE_LEN)
//! 29      n     device info, UTF-8
//! ..      4     number of strokes (u32, at most MAX_STROKES)
//! then, per stroke:
//!         4     number of points (u32, 1..=MAX_POINTS_PER_STROKE)
//!         then, per point, the present channels in bit order, each 4 bytes:
//!           x (f32), y (f32), t (u32, ms since capture start), pressure (f32),
//!           [tilt (f32, degrees)], [azimuth (f32, degrees)]
//! ```
//!
//! The optional channels are present for the whole record or not at all. The total number of
//! points is at most [`MAX_TOTAL_POINTS`], the whole encoding at most [`MAX_RECORD_BYTES`], and
//! no bytes may follow the last point.

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::RecordError;
use crate::stroke::{Pad, Stroke};

/// Magic bytes at the start of an encoded record.
pub const MAGIC: [u8; 4] = *b"INKR";
/// The format version written and accepted by this implementation.
pub const VERSION: u16 = 1;
/// Maximum size of an encoded record in bytes (16 MiB).
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;
/// Maximum length of the device info string in bytes.
pub const MAX_DEVICE_LEN: usize = 256;
/// Maximum number of strokes in a record.
pub const MAX_STROKES: usize = 10_000;
/// Maximum number of points in one stroke.
pub const MAX_POINTS_PER_STROKE: usize = 100_000;
/// Maximum number of points in the whole record.
pub const MAX_TOTAL_POINTS: usize = 500_000;

/// Channel bit: x coordinate.
pub const CH_X: u8 = 1 << 0;
/// Channel bit: y coordinate.
pub const CH_Y: u8 = 1 << 1;
/// Channel bit: time offset.
pub const CH_T: u8 = 1 << 2;
/// Channel bit: pressure.
pub const CH_PRESSURE: u8 = 1 << 3;
/// Channel bit: pen tilt.
pub const CH_TILT: u8 = 1 << 4;
/// Channel bit: pen azimuth.
pub const CH_AZIMUTH: u8 = 1 << 5;
const CH_MANDATORY: u8 = CH_X | CH_Y | CH_T | CH_PRESSURE;
const CH_KNOWN: u8 = CH_MANDATORY | CH_TILT | CH_AZIMUTH;

const FIXED_HEADER_LEN: usize = 4 + 2 + 4 + 4 + 4 + 8 + 1 + 2;

/// One raw sample of the pen.
#[derive(Debug, Clone, Copy, PartialEq, Zeroize)]
pub struct RecordPoint {
    /// Horizontal position in device units.
    pub x: f32,
    /// Vertical position in device units.
    pub y: f32,
    /// Milliseconds since the capture start.
    pub t_ms: u32,
    /// Pen pressure as reported by the device.
    pub pressure: f32,
    /// Pen tilt in degrees, if the device reports it.
    pub tilt: Option<f32>,
    /// Pen azimuth in degrees, if the device reports it.
    pub azimuth: Option<f32>,
}

/// The raw handwriting of one signature: biometric data, wiped from memory on drop.
#[derive(Clone, PartialEq, Zeroize, ZeroizeOnDrop)]
pub struct BiometricRecord {
    /// Width of the signing pad in device units.
    pub pad_width: u32,
    /// Height of the signing pad in device units.
    pub pad_height: u32,
    /// Resolution of the pad in dots per inch.
    pub dpi: u32,
    /// Free-form device description (make, model, OS), at most [`MAX_DEVICE_LEN`] bytes.
    pub device: String,
    /// Capture start time in unix milliseconds.
    pub captured_at_ms: u64,
    /// The strokes, each a non-empty sequence of points.
    pub strokes: Vec<Vec<RecordPoint>>,
}

impl BiometricRecord {
    /// The record of strokes written on `pad`, points kept exactly as recorded (the pad's own
    /// millisecond clock included); empty strokes are skipped. `captured_at_ms` is the wall
    /// clock (unix ms) when writing started.
    pub fn from_strokes(pad: &Pad, strokes: &[Stroke], device: &str, captured_at_ms: u64) -> Self {
        let units = |v: f32| {
            if v.is_finite() && v > 0.0 {
                v.round() as u32
            } else {
                0
            }
        };
        BiometricRecord {
            pad_width: units(pad.width),
            pad_height: units(pad.height),
            dpi: units(pad.dpi),
            device: device.to_owned(),
            captured_at_ms,
            strokes: strokes
                .iter()
                .filter(|s| !s.points.is_empty())
                .map(|s| {
                    s.points
                        .iter()
                        .map(|p| RecordPoint {
                            x: p.x,
                            y: p.y,
                            t_ms: p.t_ms,
                            pressure: p.pressure,
                            tilt: p.tilt,
                            azimuth: p.azimuth,
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

impl core::fmt::Debug for BiometricRecord {
    /// Shows only the shape of the record, never the biometric samples.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BiometricRecord")
            .field("pad_width", &self.pad_width)
            .field("pad_height", &self.pad_height)
            .field("dpi", &self.dpi)
            .field("device", &self.device)
            .field("captured_at_ms", &self.captured_at_ms)
            .field("strokes", &self.strokes.len())
            .field("points", &self.strokes.iter().map(Vec::len).sum::<usize>())
            .finish()
    }
}

fn limit(what: &'static str, value: usize, max: usize) -> Result<(), RecordError> {
    if value > max {
        return Err(RecordError::LimitExceeded {
            what,
            value: value as u64,
            max: max as u64,
        });
    }
    Ok(())
}

/// Works out the channel mask of a record, checking that optional channels are consistent.
fn channels_of(record: &BiometricRecord) -> Result<u8, RecordError> {
    let mut points = record.strokes.iter().flatten();
    let Some(first) = points.next() else {
        return Ok(CH_MANDATORY);
    };
    let tilt = first.tilt.is_some();
    let azimuth = first.azimuth.is_some();
    for p in points {
        if p.tilt.is_some() != tilt {
            return Err(RecordError::InconsistentChannels("tilt"));
        }
        if p.azimuth.is_some() != azimuth {
            return Err(RecordError::InconsistentChannels("azimuth"));
        }
    }
    let mut mask = CH_MANDATORY;
    if tilt {
        mask |= CH_TILT;
    }
    if azimuth {
        mask |= CH_AZIMUTH;
    }
    Ok(mask)
}

fn point_size(channels: u8) -> usize {
    4 * (channels & CH_KNOWN).count_ones() as usize
}

fn check_finite(values: &[f32], stroke: usize, point: usize) -> Result<(), RecordError> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(RecordError::NonFinite { stroke, point })
    }
}

/// Encodes a record into the binary format described in the [module documentation](self).
///
/// Fails if a limit is exceeded, a stroke is empty, a value is not finite, or the optional
/// channels are present on some points but not on others.
pub fn encode(record: &BiometricRecord) -> Result<Vec<u8>, RecordError> {
    limit("device length", record.device.len(), MAX_DEVICE_LEN)?;
    limit("stroke count", record.strokes.len(), MAX_STROKES)?;
    let mut total = 0usize;
    for (i, stroke) in record.strokes.iter().enumerate() {
        if stroke.is_empty() {
            return Err(RecordError::EmptyStroke(i));
        }
        limit("points in stroke", stroke.len(), MAX_POINTS_PER_STROKE)?;
        total += stroke.len();
    }
    limit("total points", total, MAX_TOTAL_POINTS)?;
    let channels = channels_of(record)?;
    let size = FIXED_HEADER_LEN
        + record.device.len()
        + 4
        + 4 * record.strokes.len()
        + total * point_size(channels);
    if size > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge {
            len: size,
            max: MAX_RECORD_BYTES,
        });
    }

    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&record.pad_width.to_le_bytes());
    out.extend_from_slice(&record.pad_height.to_le_bytes());
    out.extend_from_slice(&record.dpi.to_le_bytes());
    out.extend_from_slice(&record.captured_at_ms.to_le_bytes());
    out.push(channels);
    // Both lengths were checked against their limits above, so they fit.
    out.extend_from_slice(&(record.device.len() as u16).to_le_bytes());
    out.extend_from_slice(record.device.as_bytes());
    out.extend_from_slice(&(record.strokes.len() as u32).to_le_bytes());
    for (s, stroke) in record.strokes.iter().enumerate() {
        out.extend_from_slice(&(stroke.len() as u32).to_le_bytes());
        for (i, p) in stroke.iter().enumerate() {
            check_finite(&[p.x, p.y, p.pressure], s, i)?;
            out.extend_from_slice(&p.x.to_le_bytes());
            out.extend_from_slice(&p.y.to_le_bytes());
            out.extend_from_slice(&p.t_ms.to_le_bytes());
            out.extend_from_slice(&p.pressure.to_le_bytes());
            if let Some(tilt) = p.tilt {
                check_finite(&[tilt], s, i)?;
                out.extend_from_slice(&tilt.to_le_bytes());
            }
            if let Some(azimuth) = p.azimuth {
                check_finite(&[azimuth], s, i)?;
                out.extend_from_slice(&azimuth.to_le_bytes());
            }
        }
    }
    debug_assert_eq!(out.len(), size);
    Ok(out)
}

/// A bounds-checked little-endian reader.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        if self.rest.len() < n {
            return Err(RecordError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RecordError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, RecordError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, RecordError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, RecordError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, RecordError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn f32(&mut self, stroke: usize, point: usize) -> Result<f32, RecordError> {
        let v = f32::from_le_bytes(self.array()?);
        check_finite(&[v], stroke, point)?;
        Ok(v)
    }
}

/// Decodes a record, enforcing every limit of the format.
///
/// Rejects inputs over [`MAX_RECORD_BYTES`], bad magic or version, unknown or missing channel
/// bits, over-long device strings, too many strokes or points, empty strokes, NaN or infinite
/// values, truncation and trailing bytes. Never allocates more than the input size justifies.
pub fn decode(bytes: &[u8]) -> Result<BiometricRecord, RecordError> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge {
            len: bytes.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    let mut r = Reader { rest: bytes };
    if r.array::<4>()? != MAGIC {
        return Err(RecordError::BadMagic);
    }
    let version = r.u16()?;
    if version != VERSION {
        return Err(RecordError::UnsupportedVersion(version));
    }
    let pad_width = r.u32()?;
    let pad_height = r.u32()?;
    let dpi = r.u32()?;
    let captured_at_ms = r.u64()?;
    let channels = r.u8()?;
    if channels & !CH_KNOWN != 0 || channels & CH_MANDATORY != CH_MANDATORY {
        return Err(RecordError::BadChannels(channels));
    }
    let has_tilt = channels & CH_TILT != 0;
    let has_azimuth = channels & CH_AZIMUTH != 0;
    let psize = point_size(channels);

    let device_len = usize::from(r.u16()?);
    limit("device length", device_len, MAX_DEVICE_LEN)?;
    let device = core::str::from_utf8(r.take(device_len)?)
        .map_err(|_| RecordError::InvalidDevice)?
        .to_owned();

    let stroke_count = r.u32()? as usize;
    limit("stroke count", stroke_count, MAX_STROKES)?;
    // Each stroke needs at least its count and one point: reject before allocating.
    if stroke_count.saturating_mul(4 + psize) > r.rest.len() {
        return Err(RecordError::Truncated);
    }
    let mut record = BiometricRecord {
        pad_width,
        pad_height,
        dpi,
        device,
        captured_at_ms,
        strokes: Vec::with_capacity(stroke_count),
    };
    let mut total = 0usize;
    for s in 0..stroke_count {
        let n = r.u32()? as usize;
        if n == 0 {
            return Err(RecordError::EmptyStroke(s));
        }
        limit("points in stroke", n, MAX_POINTS_PER_STROKE)?;
        total += n;
        limit("total points", total, MAX_TOTAL_POINTS)?;
        if n.saturating_mul(psize) > r.rest.len() {
            return Err(RecordError::Truncated);
        }
        // Wiped if decoding fails part-way through the stroke.
        let mut stroke = zeroize::Zeroizing::new(Vec::with_capacity(n));
        for i in 0..n {
            let x = r.f32(s, i)?;
            let y = r.f32(s, i)?;
            let t_ms = r.u32()?;
            let pressure = r.f32(s, i)?;
            let tilt = if has_tilt { Some(r.f32(s, i)?) } else { None };
            let azimuth = if has_azimuth {
                Some(r.f32(s, i)?)
            } else {
                None
            };
            stroke.push(RecordPoint {
                x,
                y,
                t_ms,
                pressure,
                tilt,
                azimuth,
            });
        }
        record.strokes.push(core::mem::take(&mut *stroke));
    }
    if !r.rest.is_empty() {
        return Err(RecordError::TrailingBytes(r.rest.len()));
    }
    Ok(record)
}
