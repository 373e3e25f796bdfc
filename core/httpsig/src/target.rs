//! The part of a request the signature covers besides the digest: method and path.

use crate::HttpSigError;

/// Longest method accepted (bytes).
pub const MAX_METHOD_LEN: usize = 16;
/// Longest path accepted (bytes).
pub const MAX_PATH_LEN: usize = 2048;

/// The method, path and body of a request, checked to be signable.
///
/// * method: 1..=[`MAX_METHOD_LEN`] upper-case ASCII letters (`GET`, `POST`, ...). A lower-case
///   method is refused, not upper-cased: HTTP methods are case-sensitive and `@method` signs the
///   method as sent.
/// * path: 1..=[`MAX_PATH_LEN`] bytes, starting with `/`, of RFC 3986 path characters
///   (unreserved, sub-delims, `:`, `@`, `/` and well-formed `%XX` escapes). A `?` (query) or `#`
///   (fragment) is refused: `@path` would not cover it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTarget<'a> {
    method: &'a str,
    path: &'a str,
    body: &'a [u8],
}

impl<'a> RequestTarget<'a> {
    /// Checks `method` and `path` (see the type's documentation).
    pub fn new(method: &'a str, path: &'a str, body: &'a [u8]) -> Result<Self, HttpSigError> {
        check_method(method)?;
        check_path(path)?;
        Ok(Self { method, path, body })
    }

    /// The method (upper case).
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The absolute path, without query.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The body (possibly empty).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

fn check_method(method: &str) -> Result<(), HttpSigError> {
    if method.is_empty() || method.len() > MAX_METHOD_LEN {
        return Err(HttpSigError::InvalidTarget(format!(
            "method must be 1..={MAX_METHOD_LEN} characters"
        )));
    }
    if !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(HttpSigError::InvalidTarget(
            "method must be upper-case ASCII letters".into(),
        ));
    }
    Ok(())
}

fn check_path(path: &str) -> Result<(), HttpSigError> {
    let bytes = path.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_PATH_LEN {
        return Err(HttpSigError::InvalidTarget(format!(
            "path must be 1..={MAX_PATH_LEN} bytes"
        )));
    }
    if bytes[0] != b'/' {
        return Err(HttpSigError::InvalidTarget(
            "path must be absolute (start with '/')".into(),
        ));
    }
    if bytes.contains(&b'?') {
        return Err(HttpSigError::InvalidTarget(
            "path must not contain a query ('?'): @path would not cover it".into(),
        ));
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3);
            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                return Err(HttpSigError::InvalidTarget(format!(
                    "path has a malformed percent escape at byte {i}"
                )));
            }
            i += 3;
            continue;
        }
        if !is_path_char(b) {
            return Err(HttpSigError::InvalidTarget(format!(
                "path has a character outside RFC 3986 path characters at byte {i}"
            )));
        }
        i += 1;
    }
    Ok(())
}

/// RFC 3986 `pchar` minus `%` (handled by the caller), plus `/`.
fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
        )
}
