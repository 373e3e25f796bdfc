//! CMS SignedData for PAdES.
