//! Errors of PDF loading, signing and verification.

use thiserror::Error;

/// What went wrong with a PDF. Messages say what and where, never secrets.
///
/// Not `#[non_exhaustive]`: the SDK maps every variant to what the app should do, by name, so
/// a new variant is a compile error there rather than a silent catch-all.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PdfError {
    /// The file is larger than the configured limit.
    #[error("the PDF is {size} bytes, above the limit of {limit}")]
    TooLarge {
        /// File size.
        size: u64,
        /// Limit.
        limit: u64,
    },
    /// The file is not a PDF at all.
    #[error("not a PDF file: {0}")]
    NotPdf(String),
    /// The cross-reference data is missing or broken.
    #[error("broken cross-reference table: {0}")]
    BrokenXref(String),
    /// An object could not be parsed.
    #[error("syntax error at byte {offset}: {message}")]
    Syntax {
        /// Byte offset.
        offset: usize,
        /// What was wrong.
        message: String,
    },
    /// An object the document refers to is missing or of the wrong kind.
    #[error("malformed document: {0}")]
    Malformed(String),
    /// A loading limit (depth, object count, decompressed size) was hit.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// The document is encrypted and its user password is not empty: a reader would ask for
    /// a password. inkseal opens only encrypted PDFs whose user password is empty.
    #[error(
        "the PDF is encrypted with a user password: inkseal opens only encrypted PDFs whose \
         user password is empty (those a reader opens without asking)"
    )]
    PasswordRequired,
    /// The document is encrypted with a security handler, revision or method inkseal does
    /// not implement (e.g. the public-key handler).
    #[error("unsupported PDF encryption: {0}")]
    UnsupportedEncryption(String),
    /// The document's encryption data is broken (a malformed /Encrypt dictionary, an
    /// encrypted string or stream of a bad length or with bad padding).
    #[error("broken PDF encryption: {0}")]
    BadEncryption(String),
    /// A stream uses a filter this build cannot decode.
    #[error("unsupported stream filter {0}")]
    UnsupportedFilter(String),
    /// The requested page does not exist.
    #[error("page {page} does not exist (the document has {count} pages)")]
    NoSuchPage {
        /// Requested page (1-based).
        page: u32,
        /// Pages in the document.
        count: u32,
    },
    /// The signature rectangle is not inside the page.
    #[error("the signature rectangle {rect:?} is not inside the page box {page_box:?}")]
    RectOffPage {
        /// Requested rectangle [x0, y0, x1, y1].
        rect: [f64; 4],
        /// The page's crop box.
        page_box: [f64; 4],
    },
    /// The keyword was not found on the page.
    #[error("keyword {0:?} not found")]
    KeywordNotFound(String),
    /// A field with this name exists and cannot be used.
    #[error("signature field {0:?}: {1}")]
    Field(String, String),
    /// The CMS does not fit in the space reserved for it.
    #[error("the signature container ({needed} bytes) does not fit the reserved {reserved} bytes")]
    ContentsTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes reserved.
        reserved: usize,
    },
    /// The appearance could not be built (e.g. an unreadable handwriting image).
    #[error("signature appearance: {0}")]
    Appearance(String),
    /// The document forbids further changes (certified with DocMDP P=1).
    #[error("the document's certification signature forbids changes")]
    Locked,
    /// The document is certified with DocMDP P=2, which permits signing the signature fields
    /// the certifier left (or signing invisibly), not adding a visible one.
    #[error(
        "the document's certification (DocMDP P=2) permits signing its empty signature fields \
         ({empty_fields}) or signing invisibly, not a new visible field or new empty fields: sign \
         one of those fields, or allow breaking the certification explicitly (its signature will \
         then report the change)"
    )]
    CertifiedFieldsOnly {
        /// The names of the empty signature fields, or "none left".
        empty_fields: String,
    },
    /// Building or checking the CMS failed.
    #[error("signature container: {0}")]
    Cms(String),
    /// A time-stamp request could not be built, or a token does not fit the signature.
    #[error("time-stamp: {0}")]
    TimeStamp(#[from] crate::tsp::TspError),
    /// The signer failed.
    #[error("signer: {0}")]
    Signer(String),
    /// Reading or writing a file failed.
    #[error("I/O: {0}")]
    Io(String),
}

impl PdfError {
    pub(crate) fn syntax(offset: usize, message: impl Into<String>) -> Self {
        PdfError::Syntax {
            offset,
            message: message.into(),
        }
    }
}

/// Limits applied while loading untrusted PDFs.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest file accepted.
    pub max_file_size: u64,
    /// Deepest nesting of arrays and dictionaries.
    pub max_depth: usize,
    /// Most objects in the cross-reference data.
    pub max_objects: usize,
    /// Largest decompressed stream.
    pub max_decoded_stream: usize,
    /// Most cross-reference sections (revisions) followed.
    pub max_revisions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 2 << 30,
            max_depth: 64,
            max_objects: 4_000_000,
            max_decoded_stream: 256 << 20,
            max_revisions: 1024,
        }
    }
}
