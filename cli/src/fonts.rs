//! The font seal text is drawn from: `--seal-font`, else `$INKSEAL_SEAL_FONT`, else the first
//! CJK font found among the Debian packages that ship one (WenQuanYi Micro Hei from
//! `fonts-wqy-microhei`, Apache-2.0, first). Its glyph outlines become paths in the PDF, so the
//! reader needs no font; the licence of the font chosen must allow that (the listed ones do).

use inkseal_pdf::seal::OutlineFont;
use std::path::{Path, PathBuf};

/// Where Debian's CJK font packages put their files, in order of preference.
pub const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
];

/// The seal font, or an error that says how to get one.
pub fn seal_font(explicit: Option<&Path>) -> Result<OutlineFont, String> {
    let chosen: Option<PathBuf> = explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("INKSEAL_SEAL_FONT").map(PathBuf::from))
        .or_else(|| CANDIDATES.iter().map(PathBuf::from).find(|p| p.is_file()));
    let path = chosen.ok_or_else(|| {
        "no font to draw seal text from: install Debian's fonts-wqy-microhei \
         (apt-get install fonts-wqy-microhei), or pass --seal-font FILE (a TrueType or \
         OpenType font with Chinese glyphs whose licence allows embedding)"
            .to_string()
    })?;
    OutlineFont::from_file(&path).map_err(|e| format!("{}: {e}", path.display()))
}
