//! Small PDFs made in code, and a deterministic random number generator, for tests.

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

/// A two-page PDF whose first page is written directly in the /Pages node's /Kids (as some
/// writers do) and whose second is an object of its own, each drawing one line of text.
pub fn direct_kid_pdf() -> Vec<u8> {
    let font = "<</Font <</F1 <</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>>>>>";
    let objects = [
        "<</Type /Catalog /Pages 2 0 R>>".to_owned(),
        format!(
            "<</Type /Pages /Count 2 /MediaBox [0 0 595 842] /Kids [<</Type /Page /Parent 2 0 R \
             /Contents 4 0 R /Resources {font}>> 3 0 R]>>"
        ),
        format!("<</Type /Page /Parent 2 0 R /Contents 5 0 R /Resources {font}>>"),
        "<</Length 41>>\nstream\nBT /F1 12 Tf 72 720 Td (First page) Tj ET\nendstream".to_owned(),
        "<</Length 42>>\nstream\nBT /F1 12 Tf 72 720 Td (Second page) Tj ET\nendstream".to_owned(),
    ];
    let bodies: Vec<Vec<u8>> = objects.iter().map(|o| o.as_bytes().to_vec()).collect();
    crate::writer::classic_file(
        &bodies,
        "/Root 1 0 R /ID [<00112233445566778899AABBCCDDEEFF> <00112233445566778899AABBCCDDEEFF>]",
    )
}

/// A deterministic random number generator for tests (SHA-256 in counter mode over a seed):
/// sealing an envelope with the same seed gives the same bytes. Never for real keys.
#[cfg(feature = "envelopes")]
pub struct CounterRng {
    seed: u64,
    counter: u64,
}

#[cfg(feature = "envelopes")]
impl CounterRng {
    /// The generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self { seed, counter: 0 }
    }
}

#[cfg(feature = "envelopes")]
impl rand_core::TryRng for CounterRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        use sha2::{Digest, Sha256};
        for chunk in dst.chunks_mut(32) {
            self.counter += 1;
            let block = Sha256::new()
                .chain_update(self.seed.to_le_bytes())
                .chain_update(self.counter.to_le_bytes())
                .finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(feature = "envelopes")]
impl rand_core::TryCryptoRng for CounterRng {}
