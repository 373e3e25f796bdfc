//! Plain, human-readable report PDFs (A4, text only): the evidence report a bank prints for a
//! dispute. Chinese and ASCII text in STSong-Light, long values wrapped, as many pages as needed.

use crate::cjk_font;
use crate::filters::deflate;
use crate::object::{Dictionary, Object, ObjectId, Stream, format_real, text_string};
use crate::writer::classic_file;

/// A4 in points.
const PAGE: [f64; 2] = [595.0, 842.0];
const MARGIN: f64 = 56.0;
const TITLE_SIZE: f64 = 16.0;
const HEADING_SIZE: f64 = 12.0;
const BODY_SIZE: f64 = 9.5;
const LABEL_WIDTH: f64 = 150.0;
/// Largest report accepted (rows over all sections), to bound the output.
pub const MAX_ROWS: usize = 5_000;

/// One section of a report: a heading and label/value rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportSection {
    /// Section heading.
    pub heading: String,
    /// `(label, value)` rows; long values wrap.
    pub rows: Vec<(String, String)>,
}

/// Why a report could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// More rows than [`MAX_ROWS`].
    #[error("report too long: {0} rows, at most {MAX_ROWS}")]
    TooLong(usize),
}

/// A text line placed on a page.
struct Line {
    x: f64,
    size: f64,
    text: String,
}

/// Splits `text` into pieces no wider than `width` points at `size` (by characters; CJK text
/// has no spaces to break at, hex digests neither).
fn wrap(text: &str, width: f64, size: f64) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut w = 0.0;
        for c in paragraph.chars().filter(|c| !c.is_control()) {
            let cw = cjk_font::text_width(c.encode_utf8(&mut [0; 4]), size);
            if w + cw > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                w = 0.0;
            }
            line.push(c);
            w += cw;
        }
        lines.push(line);
    }
    lines
}

/// Lays the report out into pages of positioned lines (`y` from the top margin).
fn layout(title: &str, sections: &[ReportSection]) -> Vec<Vec<(f64, Line)>> {
    let usable = PAGE[1] - 2.0 * MARGIN;
    let value_width = PAGE[0] - 2.0 * MARGIN - LABEL_WIDTH;
    let mut pages: Vec<Vec<(f64, Line)>> = vec![Vec::new()];
    let mut y = 0.0;
    let place = |pages: &mut Vec<Vec<(f64, Line)>>, y: &mut f64, advance: f64, lines: Vec<Line>| {
        if *y + advance > usable {
            pages.push(Vec::new());
            *y = 0.0;
        }
        *y += advance;
        if let Some(page) = pages.last_mut() {
            for l in lines {
                page.push((*y, l));
            }
        }
    };
    for t in wrap(title, PAGE[0] - 2.0 * MARGIN, TITLE_SIZE) {
        place(
            &mut pages,
            &mut y,
            TITLE_SIZE * 1.5,
            vec![Line {
                x: 0.0,
                size: TITLE_SIZE,
                text: t,
            }],
        );
    }
    for section in sections {
        y += HEADING_SIZE * 0.8;
        place(
            &mut pages,
            &mut y,
            HEADING_SIZE * 1.6,
            vec![Line {
                x: 0.0,
                size: HEADING_SIZE,
                text: section.heading.clone(),
            }],
        );
        for (label, value) in &section.rows {
            let labels = wrap(label, LABEL_WIDTH - 8.0, BODY_SIZE);
            let values = wrap(value, value_width, BODY_SIZE);
            for i in 0..labels.len().max(values.len()) {
                let mut row = Vec::new();
                if let Some(l) = labels.get(i) {
                    row.push(Line {
                        x: 0.0,
                        size: BODY_SIZE,
                        text: l.clone(),
                    });
                }
                if let Some(v) = values.get(i) {
                    row.push(Line {
                        x: LABEL_WIDTH,
                        size: BODY_SIZE,
                        text: v.clone(),
                    });
                }
                place(&mut pages, &mut y, BODY_SIZE * 1.45, row);
            }
        }
    }
    pages
}

/// Content stream of one page, with a "page n of m" footer.
fn page_content(lines: &[(f64, Line)], n: usize, total: usize) -> Vec<u8> {
    let mut c = String::from("0.1 0.1 0.1 rg BT\n");
    let mut put = |x: f64, y: f64, size: f64, text: &str| {
        c.push_str(&format!(
            "/F1 {} Tf 1 0 0 1 {} {} Tm <{}> Tj\n",
            format_real(size),
            format_real(x),
            format_real(y),
            cjk_font::ucs2_hex(text)
        ));
    };
    for (y, line) in lines {
        put(MARGIN + line.x, PAGE[1] - MARGIN - y, line.size, &line.text);
    }
    let footer = format!("{n} / {total}");
    put(
        PAGE[0] / 2.0 - cjk_font::text_width(&footer, 8.0) / 2.0,
        MARGIN / 2.0,
        8.0,
        &footer,
    );
    c.push_str("ET\n");
    c.into_bytes()
}

/// A complete PDF (classic cross-reference table) with `title` and `sections`.
pub fn text_report(title: &str, sections: &[ReportSection]) -> Result<Vec<u8>, ReportError> {
    let rows: usize = sections.iter().map(|s| s.rows.len() + 1).sum();
    if rows > MAX_ROWS {
        return Err(ReportError::TooLong(rows));
    }
    let pages = layout(title, sections);
    // Objects: 1 catalog, 2 pages, 3 font, 4 info, then (page, content) pairs.
    let id = |n: usize| ObjectId(n as u32, 0);
    let page_ids: Vec<ObjectId> = (0..pages.len()).map(|i| id(5 + 2 * i)).collect();
    let mut objects: Vec<Object> = vec![
        Object::Dictionary(
            Dictionary::new()
                .with(b"Type", Object::name("Catalog"))
                .with(b"Pages", Object::Reference(id(2))),
        ),
        Object::Dictionary(
            Dictionary::new()
                .with(b"Type", Object::name("Pages"))
                .with(
                    b"Kids",
                    Object::Array(page_ids.iter().map(|p| Object::Reference(*p)).collect()),
                )
                .with(b"Count", Object::Integer(pages.len() as i64)),
        ),
        Object::Dictionary(cjk_font::dictionary()),
        Object::Dictionary(
            Dictionary::new()
                .with(b"Title", text_string(title))
                .with(b"Producer", Object::string("inkseal")),
        ),
    ];
    for (i, lines) in pages.iter().enumerate() {
        let resources = Dictionary::new().with(
            b"Font",
            Object::Dictionary(Dictionary::new().with(b"F1", Object::Reference(id(3)))),
        );
        objects.push(Object::Dictionary(
            Dictionary::new()
                .with(b"Type", Object::name("Page"))
                .with(b"Parent", Object::Reference(id(2)))
                .with(
                    b"MediaBox",
                    Object::Array(vec![
                        Object::Integer(0),
                        Object::Integer(0),
                        Object::real(PAGE[0]),
                        Object::real(PAGE[1]),
                    ]),
                )
                .with(b"Resources", Object::Dictionary(resources))
                .with(b"Contents", Object::Reference(id(6 + 2 * i))),
        ));
        objects.push(Object::Stream(Stream {
            dict: Dictionary::new().with(b"Filter", Object::name("FlateDecode")),
            data: deflate(&page_content(lines, i + 1, pages.len())),
        }));
    }
    let bodies: Vec<Vec<u8>> = objects
        .iter()
        .map(|o| {
            let mut body = Vec::new();
            o.write(&mut body);
            body
        })
        .collect();
    Ok(classic_file(&bodies, "/Root 1 0 R /Info 4 0 R"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::find_text;
    use crate::{Document, Limits};

    fn sections(rows: usize) -> Vec<ReportSection> {
        vec![ReportSection {
            heading: "活体检测 Liveness".into(),
            rows: (0..rows)
                .map(|i| {
                    (
                        format!("检查 {i}"),
                        format!("通过 passed {}", "ab".repeat(60)),
                    )
                })
                .collect(),
        }]
    }

    #[test]
    fn the_report_loads_and_its_text_can_be_found() {
        let pdf = text_report("签署证据报告 Evidence report", &sections(3)).expect("report");
        let doc = Document::load(&pdf, &Limits::default()).expect("loads with our reader");
        let pages = crate::pages::pages(&doc).expect("pages");
        assert_eq!(pages.len(), 1);
        let hits = find_text(&doc, &pages[0], "活体检测").expect("search");
        assert_eq!(hits.len(), 1, "the heading is drawn once");
    }

    #[test]
    fn long_reports_flow_onto_more_pages_and_are_bounded() {
        let pdf = text_report("Evidence", &sections(200)).expect("report");
        let doc = Document::load(&pdf, &Limits::default()).expect("loads");
        assert!(crate::pages::pages(&doc).expect("pages").len() > 3);
        assert_eq!(
            text_report("x", &sections(MAX_ROWS + 1)),
            Err(ReportError::TooLong(MAX_ROWS + 2))
        );
    }

    #[test]
    fn wrapping_keeps_every_character() {
        let text = "借款人张三 signs 0123456789abcdef".repeat(20);
        let lines = wrap(&text, 120.0, BODY_SIZE);
        assert!(lines.len() > 5);
        assert_eq!(lines.concat(), text);
        for l in &lines {
            assert!(cjk_font::text_width(l, BODY_SIZE) <= 120.0 + 1e-9);
        }
    }
}
