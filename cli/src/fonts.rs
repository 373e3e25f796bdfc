//! The font seal and label text is drawn from: `--seal-font`, else `$INKSEAL_SEAL_FONT`, else
//! the first CJK font found among the Debian packages that ship one (WenQuanYi Micro Hei from
//! `fonts-wqy-microhei`, Apache-2.0, first; see `inkseal_pdf::seal::DEBIAN_CJK_FONTS`). Its
//! glyph outlines become paths in the PDF, so the reader needs no font; the licence of the
//! font chosen must allow that (the listed ones do).

use inkseal_pdf::outline::TextOutliner;
use inkseal_pdf::seal::OutlineFont;
use std::path::Path;
use std::sync::Arc;

/// The seal font, or an error that says how to get one.
pub fn seal_font(explicit: Option<&Path>) -> Result<OutlineFont, String> {
    OutlineFont::locate(explicit).map_err(|e| e.to_string())
}

/// The same font as the drawer of signature labels (signer name and date).
pub fn label_font(explicit: Option<&Path>) -> Result<Arc<dyn TextOutliner>, String> {
    Ok(Arc::new(seal_font(explicit)?))
}
