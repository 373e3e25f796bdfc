//! Walking DER without losing the exact input bytes.

use der::asn1::AnyRef;
use der::{Decode, Reader, SliceReader};

/// The TLVs that make up the contents of a constructed value, in input order.
pub(crate) fn children(value: &[u8]) -> der::Result<Vec<AnyRef<'_>>> {
    let mut reader = SliceReader::new(value)?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        out.push(AnyRef::decode(&mut reader)?);
    }
    Ok(out)
}
