//! Stamping vector art into a page's own content (not an annotation): the signing date on a
//! contract's date line, written by the institution before anyone signs.
//!
//! Page content is what every signature covers, so a stamp is refused once the document holds
//! a signature: changing it later would make every earlier signature report other changes.

use crate::appearance::VectorArt;
use crate::document::Document;
use crate::error::{Limits, PdfError};
use crate::fields::{page, signature_fields};
use crate::filters::deflate;
use crate::object::{Dictionary, Object, Stream, format_real};
use crate::writer::IncrementalUpdate;

/// Art to stamp: where its box's lower-left corner goes on the page, in points.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// 1-based page.
    pub page: u32,
    /// `[x, y]` of the art's lower-left corner, points from the page's lower-left.
    pub at: [f64; 2],
    /// The art (drawn at its natural size).
    pub art: VectorArt,
}

/// Append an incremental update drawing `stamps` over their pages' content; returns the bytes
/// to append to `input`. The existing content is wrapped in `q ... Q` so that nothing it
/// leaves in the graphics state shifts the stamp.
pub fn stamp(input: &[u8], stamps: &[Stamp], limits: &Limits) -> Result<Vec<u8>, PdfError> {
    let doc = Document::load(input, limits)?;
    if signature_fields(&doc)?.iter().any(|f| f.signed) {
        return Err(PdfError::Field(
            "stamp".into(),
            "the document is signed: stamping page content now would break its signatures; stamp before the first signature".into(),
        ));
    }
    let mut update = IncrementalUpdate::new(&doc);
    let mut pages_done: Vec<u32> = Vec::new();
    for number in stamps.iter().map(|s| s.page) {
        if pages_done.contains(&number) {
            continue;
        }
        pages_done.push(number);
        let pg = page(&doc, number)?;
        let mut body = String::new();
        for s in stamps.iter().filter(|s| s.page == number) {
            let [x, y] = s.at;
            if !(x.is_finite() && y.is_finite()) {
                return Err(PdfError::Appearance(
                    "a stamp position is not a number".into(),
                ));
            }
            body.push_str(&format!(
                "q 1 0 0 1 {} {} cm\n",
                format_real(x),
                format_real(y)
            ));
            body.push_str(&String::from_utf8_lossy(s.art.content()));
            body.push_str("Q\n");
        }
        let stream = |data: &[u8]| {
            Object::Stream(Stream {
                dict: Dictionary::new().with(b"Filter", Object::name("FlateDecode")),
                data: deflate(data),
            })
        };
        let open = update.allocate();
        update.put(open, &stream(b"q\n"));
        let close = update.allocate();
        update.put(close, &stream(format!("Q\n{body}").as_bytes()));
        let mut contents = vec![Object::Reference(open)];
        match pg
            .dict
            .get(b"Contents")
            .map(|c| doc.resolve(c))
            .transpose()?
        {
            Some(Object::Array(a)) => contents.extend(a),
            Some(Object::Stream(_)) => {
                if let Some(c) = pg.dict.get(b"Contents") {
                    contents.push(c.clone());
                }
            }
            _ => {}
        }
        contents.push(Object::Reference(close));
        let mut dict = pg.dict.clone();
        dict.set(b"Contents", Object::Array(contents));
        update.put_page(&doc, &pg, dict)?;
    }
    Ok(update.write(&doc).bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stamping a page written directly in its parent's /Kids gives it an object of its own
    /// whose content draws the stamp after the page's own.
    #[test]
    fn a_direct_page_kid_is_stamped() {
        let input = crate::testing::direct_kid_pdf();
        let art = VectorArt::new(b"0 0 m 10 10 l S\n".to_vec(), 10.0, 10.0);
        let stamps = [Stamp {
            page: 1,
            at: [100.0, 100.0],
            art,
        }];
        let tail = stamp(&input, &stamps, &Limits::default()).expect("stamp");
        let out = [input.as_slice(), &tail].concat();
        let doc = Document::load(&out, &Limits::default()).expect("load");
        let pages = crate::pages::pages(&doc).expect("pages");
        assert_eq!(pages.len(), 2);
        assert!(pages[0].id().is_some(), "{:?}", pages[0].location);
        let Some(Object::Array(contents)) = pages[0].dict.get(b"Contents") else {
            panic!("contents: {:?}", pages[0].dict);
        };
        assert_eq!(contents.len(), 3, "q, the page's content, the stamp");
        let hits = crate::text::find_text(&doc, &pages[0], "First page").expect("search");
        assert_eq!(hits.len(), 1, "the page's own text is still drawn");
    }
}
