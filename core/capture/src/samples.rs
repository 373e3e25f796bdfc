//! Synthetic but realistic sample inputs for the demo, the tests and the benchmarks: a lit,
//! sharp, textured face picture, photos of a fictitious ID card, a valid fictitious card's
//! fields, and a short audio clip. Everything is deterministic (seeded), nothing is a real
//! person. Not for production use.
//!
//! The pictures are drawn with shapes (wall, shoulders, hair, face, eyes, brows, nose, mouth)
//! plus sensor-like noise and wallpaper texture, so they pass the default blur threshold the way
//! an in-focus camera frame does, and fail it once box-blurred.

use crate::date::Date;
use crate::id_card::{IdCardFields, ValidUntil};
use crate::id_number::{Sex, check_character};
use crate::quality::FaceBox;
use image::ImageEncoder as _;
use std::io;

/// A small deterministic generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct SampleRng(u64);

impl SampleRng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        SampleRng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Roughly normal noise with standard deviation about `sigma` (sum of four uniforms).
    pub fn noise(&mut self, sigma: f32) -> f32 {
        let r = self.next_u64();
        let s: u32 = (0..4).map(|i| ((r >> (16 * i)) & 0xffff) as u32).sum();
        // Sum of 4 uniforms on [0, 65535]: mean 131070, sd ≈ 37837.
        (s as f32 - 131_070.0) / 37_837.0 * sigma
    }
}

/// An RGB canvas.
struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

fn clamp8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

impl Canvas {
    fn new(w: usize, h: usize, f: impl Fn(usize, usize) -> [f32; 3]) -> Self {
        let mut px = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                px.extend(f(x, y).map(clamp8));
            }
        }
        Canvas { w, h, px }
    }

    fn put(&mut self, x: usize, y: usize, c: [f32; 3]) {
        if x < self.w && y < self.h {
            let i = (y * self.w + x) * 3;
            self.px[i..i + 3].copy_from_slice(&c.map(clamp8));
        }
    }

    fn get(&self, x: usize, y: usize) -> [f32; 3] {
        let i = (y * self.w + x) * 3;
        [
            f32::from(self.px[i]),
            f32::from(self.px[i + 1]),
            f32::from(self.px[i + 2]),
        ]
    }

    /// Fill an ellipse; `shade(d)` gets the normalised radius (0 centre, 1 edge).
    fn ellipse(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, shade: impl Fn(f32) -> [f32; 3]) {
        let (x0, x1) = (
            (cx - rx).floor().max(0.0) as usize,
            (cx + rx).ceil() as usize,
        );
        let (y0, y1) = (
            (cy - ry).floor().max(0.0) as usize,
            (cy + ry).ceil() as usize,
        );
        for y in y0..=y1.min(self.h.saturating_sub(1)) {
            for x in x0..=x1.min(self.w.saturating_sub(1)) {
                let dx = (x as f32 + 0.5 - cx) / rx;
                let dy = (y as f32 + 0.5 - cy) / ry;
                let d2 = dx * dx + dy * dy;
                if d2 <= 1.0 {
                    self.put(x, y, shade(d2.sqrt()));
                }
            }
        }
    }

    fn rect(&mut self, x: usize, y: usize, w: usize, h: usize, c: [f32; 3]) {
        for yy in y..(y + h).min(self.h) {
            for xx in x..(x + w).min(self.w) {
                self.put(xx, yy, c);
            }
        }
    }

    /// Add sensor-like noise (luma and a little chroma).
    fn add_noise(&mut self, rng: &mut SampleRng, luma_sigma: f32, chroma_sigma: f32) {
        for px in self.px.chunks_exact_mut(3) {
            let l = rng.noise(luma_sigma);
            for c in px.iter_mut() {
                *c = clamp8(f32::from(*c) + l + rng.noise(chroma_sigma));
            }
        }
    }

    fn blit(&mut self, other: &Canvas, x0: usize, y0: usize) {
        for y in 0..other.h {
            for x in 0..other.w {
                self.put(x0 + x, y0 + y, other.get(x, y));
            }
        }
    }
}

/// Draw a face portrait (RGB, `width × height`, row-major); returns the pixels and where the
/// face is. Different seeds move the head a little and change the noise.
pub fn face_rgb(width: u32, height: u32, seed: u64) -> (Vec<u8>, FaceBox) {
    let canvas = face_canvas(width as usize, height as usize, seed, true);
    let s = (width.min(height)) as f32;
    let (cx, cy) = face_centre(width as f32, height as f32, seed);
    let (rx, ry) = (0.22 * s, 0.29 * s);
    let face = FaceBox {
        x: (cx - rx).max(0.0) as u32,
        y: (cy - ry).max(0.0) as u32,
        width: (2.0 * rx) as u32,
        height: (2.0 * ry) as u32,
    };
    (canvas.px, face)
}

fn face_centre(w: f32, h: f32, seed: u64) -> (f32, f32) {
    let shift = (seed % 5) as f32 - 2.0;
    (w / 2.0 + shift * 0.008 * w, 0.46 * h + shift * 0.004 * h)
}

fn face_canvas(w: usize, h: usize, seed: u64, wallpaper: bool) -> Canvas {
    let mut rng = SampleRng::new(seed);
    let s = w.min(h) as f32;
    let (cx, cy) = face_centre(w as f32, h as f32, seed);
    // Wall: warm gradient, wallpaper stripes and a faint weave.
    let mut c = Canvas::new(w, h, |x, y| {
        let g = 175.0 - 45.0 * y as f32 / h as f32;
        let stripe = if wallpaper && (x / 18) % 2 == 0 {
            -9.0
        } else {
            0.0
        };
        let weave = 5.0 * ((x as f32 * 0.9).sin() * (y as f32 * 0.7).cos());
        let v = g + stripe + weave;
        [v + 8.0, v + 2.0, v - 10.0]
    });
    // A picture frame on the wall (hard edges).
    let (fx, fy) = ((0.06 * w as f32) as usize, (0.08 * h as f32) as usize);
    c.rect(
        fx,
        fy,
        (0.16 * w as f32) as usize,
        (0.22 * h as f32) as usize,
        [70.0, 55.0, 40.0],
    );
    c.rect(
        fx + 6,
        fy + 6,
        ((0.16 * w as f32) as usize).saturating_sub(12),
        ((0.22 * h as f32) as usize).saturating_sub(12),
        [120.0, 150.0, 170.0],
    );
    // Shoulders and collar.
    c.ellipse(cx, h as f32 + 0.08 * s, 0.55 * s, 0.36 * s, |d| {
        let v = 60.0 - 20.0 * d;
        [v * 0.6, v * 0.8, v * 1.6]
    });
    c.rect(
        (cx - 0.08 * s) as usize,
        (cy + 0.22 * s) as usize,
        (0.16 * s) as usize,
        (0.2 * s) as usize,
        [190.0, 140.0, 112.0],
    );
    // Hair, then the face over it.
    c.ellipse(cx, cy - 0.06 * s, 0.25 * s, 0.31 * s, |d| {
        let v = 38.0 + 12.0 * d;
        [v, v * 0.8, v * 0.6]
    });
    c.ellipse(cx, cy + 0.02 * s, 0.22 * s, 0.27 * s, |d| {
        let k = 1.0 - 0.3 * d * d;
        [228.0 * k, 178.0 * k, 146.0 * k]
    });
    // Fringe.
    c.ellipse(cx, cy - 0.2 * s, 0.2 * s, 0.07 * s, |_| [42.0, 33.0, 26.0]);
    for side in [-1.0f32, 1.0] {
        let ex = cx + side * 0.085 * s;
        let ey = cy - 0.03 * s;
        c.ellipse(ex, ey - 0.055 * s, 0.055 * s, 0.011 * s, |_| {
            [50.0, 38.0, 30.0]
        });
        c.ellipse(ex, ey, 0.046 * s, 0.021 * s, |_| [240.0, 238.0, 235.0]);
        c.ellipse(ex, ey, 0.019 * s, 0.019 * s, |d| {
            let v = 70.0 - 30.0 * d;
            [v, v * 0.7, v * 0.5]
        });
        c.ellipse(ex, ey, 0.008 * s, 0.008 * s, |_| [10.0, 10.0, 10.0]);
        c.ellipse(ex - 0.006 * s, ey - 0.006 * s, 0.003 * s, 0.003 * s, |_| {
            [250.0, 250.0, 250.0]
        });
    }
    c.ellipse(cx, cy + 0.07 * s, 0.03 * s, 0.016 * s, |_| {
        [185.0, 130.0, 105.0]
    });
    c.ellipse(cx, cy + 0.16 * s, 0.075 * s, 0.022 * s, |d| {
        if d < 0.25 {
            [120.0, 40.0, 50.0]
        } else {
            [180.0, 85.0, 90.0]
        }
    });
    c.add_noise(&mut rng, 5.0, 1.5);
    c
}

/// Encode RGB pixels as JPEG.
pub fn encode_jpeg(rgb: &[u8], width: u32, height: u32, quality: u8) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode(rgb, width, height, image::ExtendedColorType::Rgb8)
        .map_err(io::Error::other)?;
    Ok(out)
}

/// Encode RGB pixels as PNG.
pub fn encode_png(rgb: &[u8], width: u32, height: u32) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(rgb, width, height, image::ExtendedColorType::Rgb8)
        .map_err(io::Error::other)?;
    Ok(out)
}

/// A face portrait as JPEG (quality 90) and its face box.
pub fn face_jpeg(width: u32, height: u32, seed: u64) -> io::Result<(Vec<u8>, FaceBox)> {
    let (rgb, face) = face_rgb(width, height, seed);
    Ok((encode_jpeg(&rgb, width, height, 90)?, face))
}

/// A `(2r+1) × (2r+1)` box blur of RGB pixels (edges clamped): what an out-of-focus lens does,
/// roughly.
pub fn box_blur_rgb(rgb: &[u8], width: u32, height: u32, radius: u32) -> Vec<u8> {
    let (w, h, r) = (width as usize, height as usize, radius as usize);
    let pass = |src: &[u8], horizontal: bool| -> Vec<u8> {
        let mut out = vec![0u8; src.len()];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..3 {
                    let mut sum = 0u32;
                    for k in 0..=2 * r {
                        let (xx, yy) = if horizontal {
                            ((x + k).saturating_sub(r).min(w - 1), y)
                        } else {
                            (x, (y + k).saturating_sub(r).min(h - 1))
                        };
                        sum += u32::from(src[(yy * w + xx) * 3 + ch]);
                    }
                    out[(y * w + x) * 3 + ch] = (sum / (2 * r as u32 + 1)) as u8;
                }
            }
        }
        out
    };
    if w == 0 || h == 0 || rgb.len() != w * h * 3 {
        return rgb.to_vec();
    }
    pass(&pass(rgb, true), false)
}

/// The ID number in [`sample_id_card_fields`]: region 110101, born 1990-03-07, sequence 123
/// (odd: male), with its computed check character.
pub fn sample_id_number() -> String {
    let first17 = "11010119900307123";
    let mut n = first17.to_string();
    n.push(check_character(first17).unwrap_or('0'));
    n
}

/// A valid fictitious card: 张三, male, 汉, born 1990-03-07, valid 2020-05-01 to 2040-05-01.
pub fn sample_id_card_fields() -> IdCardFields {
    let date = |y, m, d| Date::new(y, m, d).unwrap_or_else(|_| Date::from_unix_ms(0, 0));
    IdCardFields {
        name: "张三".into(),
        sex: Some(Sex::Male),
        ethnicity: "汉".into(),
        birth_date: Some(date(1990, 3, 7)),
        address: "北京市东城区示例路1号".into(),
        id_number: sample_id_number(),
        issuing_authority: "北京市公安局东城分局".into(),
        valid_from: date(2020, 5, 1),
        valid_until: ValidUntil::Date(date(2040, 5, 1)),
    }
}

/// 5×7 glyphs for digits, `X`, `.` and `-` (rows top to bottom, bit 4 = left column).
fn glyph(c: char) -> Option<[u8; 7]> {
    Some(match c {
        '0' => [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e],
        '1' => [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
        '2' => [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f],
        '3' => [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
        '4' => [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02],
        '5' => [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
        '6' => [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e],
        '7' => [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e],
        '9' => [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
        'X' => [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
        '.' => [0, 0, 0, 0, 0, 0x0c, 0x0c],
        '-' => [0, 0, 0, 0x1f, 0, 0, 0],
        _ => return None,
    })
}

/// Draw text: digits with the bitmap font, other characters as CJK-like stroke blocks derived
/// from the character (the same character always looks the same). Returns the end x.
fn text(c: &mut Canvas, x: usize, y: usize, s: &str, scale: usize, colour: [f32; 3]) -> usize {
    let mut pen = x;
    for ch in s.chars() {
        if let Some(rows) = glyph(ch) {
            for (ry, bits) in rows.iter().enumerate() {
                for rx in 0..5 {
                    if bits & (0x10 >> rx) != 0 {
                        c.rect(pen + rx * scale, y + ry * scale, scale, scale, colour);
                    }
                }
            }
            pen += 6 * scale;
        } else if ch.is_whitespace() {
            pen += 4 * scale;
        } else {
            let cell = 9 * scale;
            let mut rng = SampleRng::new(u64::from(u32::from(ch)));
            for _ in 0..4 + rng.next_u64() % 4 {
                let r = rng.next_u64();
                let a = (r % 8) as usize * cell / 9;
                let b = ((r >> 8) % 8) as usize * cell / 9;
                let len = cell / 3 + ((r >> 16) % 6) as usize * cell / 9;
                if (r >> 24) % 2 == 0 {
                    c.rect(
                        pen + b.min(cell / 2),
                        y + a,
                        len.min(cell - b.min(cell / 2)),
                        scale,
                        colour,
                    );
                } else {
                    c.rect(
                        pen + a,
                        y + b.min(cell / 2),
                        scale,
                        len.min(cell - b.min(cell / 2)),
                        colour,
                    );
                }
            }
            pen += cell + 2 * scale;
        }
    }
    pen
}

const CARD_W: usize = 856;
const CARD_H: usize = 540;
const MARGIN: usize = 24;

/// A photo of a card lying on a desk: desk texture, card background with guilloche lines.
fn card_canvas(seed: u64, tint: [f32; 3]) -> Canvas {
    let (w, h) = (CARD_W + 2 * MARGIN, CARD_H + 2 * MARGIN);
    let mut c = Canvas::new(w, h, |x, y| {
        let inside =
            (MARGIN..MARGIN + CARD_W).contains(&x) && (MARGIN..MARGIN + CARD_H).contains(&y);
        if inside {
            let (fx, fy) = (x as f32, y as f32);
            let g = (fx * 0.045 + 3.0 * (fy * 0.021).sin()).sin()
                * (fy * 0.037 + 2.0 * (fx * 0.013).cos()).cos();
            let line = if g > 0.92 { -22.0 } else { 0.0 };
            [tint[0] + line, tint[1] + line * 0.8, tint[2] + line * 0.5]
        } else {
            let grain = 10.0 * ((x as f32 * 0.05 + (y as f32 * 0.31).sin() * 2.0).sin());
            [120.0 + grain, 88.0 + grain * 0.8, 60.0 + grain * 0.6]
        }
    });
    c.add_noise(&mut SampleRng::new(seed), 4.0, 1.0);
    c
}

/// The front of the fictitious card (portrait side) as JPEG, 904×588.
pub fn id_card_front_jpeg(fields: &IdCardFields, seed: u64) -> io::Result<Vec<u8>> {
    let mut c = card_canvas(seed, [236.0, 232.0, 220.0]);
    let (x0, y0) = (MARGIN + 40, MARGIN + 40);
    let label = [70.0, 110.0, 150.0];
    let ink = [25.0, 25.0, 30.0];
    let row = |i: usize| y0 + i * 64;
    let lx = text(&mut c, x0, row(0), "姓名", 2, label);
    text(&mut c, lx + 20, row(0), &fields.name, 3, ink);
    let lx = text(&mut c, x0, row(1), "性别", 2, label);
    let sex = fields.sex.map(Sex::as_chinese).unwrap_or("");
    let ex = text(&mut c, lx + 20, row(1), sex, 3, ink);
    let lx = text(&mut c, ex + 40, row(1), "民族", 2, label);
    text(&mut c, lx + 20, row(1), &fields.ethnicity, 3, ink);
    let lx = text(&mut c, x0, row(2), "出生", 2, label);
    let birth = fields
        .birth_date
        .map(|d| format!("{} {} {}", d.year(), d.month(), d.day()))
        .unwrap_or_default();
    text(&mut c, lx + 20, row(2), &birth, 3, ink);
    let lx = text(&mut c, x0, row(3), "住址", 2, label);
    let addr: String = fields.address.chars().take(11).collect();
    text(&mut c, lx + 20, row(3), &addr, 3, ink);
    let lx = text(&mut c, x0, row(5) + 20, "公民身份号码", 2, label);
    text(&mut c, lx + 30, row(5) + 20, &fields.id_number, 4, ink);
    // Portrait.
    let portrait = face_canvas(200, 250, seed ^ 0xface, false);
    c.blit(&portrait, MARGIN + CARD_W - 250, MARGIN + 60);
    encode_jpeg(&c.px, c.w as u32, c.h as u32, 90)
}

/// The back of the fictitious card (emblem side) as JPEG, 904×588.
pub fn id_card_back_jpeg(fields: &IdCardFields, seed: u64) -> io::Result<Vec<u8>> {
    let mut c = card_canvas(seed, [226.0, 234.0, 236.0]);
    // Emblem: red disc, gold star.
    let (ex, ey) = ((MARGIN + 130) as f32, (MARGIN + 120) as f32);
    c.ellipse(ex, ey, 80.0, 80.0, |d| [200.0 - 30.0 * d, 30.0, 30.0]);
    c.ellipse(ex, ey, 50.0, 50.0, |d| {
        if d > 0.9 {
            [240.0, 200.0, 60.0]
        } else {
            [200.0, 30.0, 30.0]
        }
    });
    c.ellipse(ex, ey - 10.0, 22.0, 22.0, |_| [250.0, 210.0, 50.0]);
    let ink = [25.0, 25.0, 30.0];
    let label = [70.0, 110.0, 150.0];
    text(&mut c, MARGIN + 260, MARGIN + 70, "中华人民共和国", 5, ink);
    text(&mut c, MARGIN + 300, MARGIN + 170, "居民身份证", 6, ink);
    let lx = text(&mut c, MARGIN + 150, MARGIN + 380, "签发机关", 2, label);
    text(
        &mut c,
        lx + 30,
        MARGIN + 378,
        &fields.issuing_authority,
        3,
        ink,
    );
    let lx = text(&mut c, MARGIN + 150, MARGIN + 450, "有效期限", 2, label);
    let from = fields.valid_from;
    let until = match fields.valid_until {
        ValidUntil::Date(d) => format!("{:04}.{:02}.{:02}", d.year(), d.month(), d.day()),
        ValidUntil::LongTerm => "长期".to_string(),
    };
    let period = format!(
        "{:04}.{:02}.{:02}-{until}",
        from.year(),
        from.month(),
        from.day()
    );
    text(&mut c, lx + 30, MARGIN + 446, &period, 4, ink);
    encode_jpeg(&c.px, c.w as u32, c.h as u32, 90)
}

/// A mono 16-bit 8 kHz WAV of `millis` milliseconds of a `hz` tone (a stand-in for an intent
/// recording).
pub fn wav_tone(millis: u32, hz: f32) -> Vec<u8> {
    let rate = 8000u32;
    let n = rate * millis / 1000;
    let data_len = n * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..n {
        let t = i as f32 / rate as f32;
        let v = (t * hz * std::f32::consts::TAU).sin() * 8000.0;
        out.extend_from_slice(&(v as i16).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_size_draws_without_panicking() {
        for (w, h) in [(0, 0), (1, 1), (7, 5), (32, 24), (5, 300)] {
            let (rgb, face) = face_rgb(w, h, 1);
            assert_eq!(rgb.len(), (w * h * 3) as usize);
            assert!(face.x + face.width <= w.max(1) && face.y + face.height <= h.max(1));
        }
        assert_eq!(box_blur_rgb(&[1, 2, 3], 1, 1, 3), vec![1, 2, 3]);
    }

    #[test]
    fn the_sample_number_is_valid() {
        let n = sample_id_number();
        let parsed = crate::id_number::IdNumber::parse(
            &n,
            Date::new(2025, 1, 1).unwrap_or(Date::from_unix_ms(0, 0)),
        );
        assert_eq!(parsed.map(|p| p.sex), Ok(Sex::Male));
    }

    #[test]
    fn the_wav_header_matches_its_data() {
        let wav = wav_tone(500, 440.0);
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(wav.len(), 44 + 4000 * 2);
        assert_eq!(
            u32::from_le_bytes([wav[40], wav[41], wav[42], wav[43]]),
            8000
        );
    }
}
