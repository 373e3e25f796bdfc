//! Small PDFs made in code, for unit tests.

/// A one-page PDF with a classic cross-reference table (offsets computed, so it is valid).
pub fn minimal_pdf() -> Vec<u8> {
    let objects = [
        "<</Type /Catalog /Pages 2 0 R>>",
        "<</Type /Pages /Kids [3 0 R] /Count 1>>",
        "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources <</Font <</F1 <</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>>>>>>>",
        "<</Length 33>>\nstream\nBT /F1 12 Tf 72 720 Td (Hi) Tj ET\nendstream",
    ];
    let bodies: Vec<Vec<u8>> = objects.iter().map(|o| o.as_bytes().to_vec()).collect();
    crate::writer::classic_file(
        &bodies,
        "/Root 1 0 R /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]",
    )
}
