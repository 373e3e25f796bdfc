//! Constant-time multiples of one fixed point, precomputed per key.
//!
//! The phone's signing round (version 2) computes `X1 = (w1 d1)(P + G)`, where `P + G` is fixed
//! for a key and `w1 d1` is secret. The table holds `j * 256^i * B` for `j` in 1..=8 and `i` in
//! 0..=32 (about 25 KiB); a multiplication is 66 constant-time lookups and additions plus four
//! doublings, against 256 doublings without it. It is the layout and the lookup of the `sm2`
//! crate's own base-point table (`primeorder`'s `LookupTable`, signed radix-16 digits), built at
//! run time for another base, so the mobile library carries no static table.

use primeorder::{LookupTable, Radix16Decomposition, Radix16Digits};
use sm2::elliptic_curve::group::Group;
use sm2::{ProjectivePoint, Scalar, Sm2};

/// Bytes of a scalar, and so the number of radix-256 windows below the carry window.
const WINDOWS: usize = 32;

/// `tables[i]` holds `1..=8` times `256^i * B`.
pub(crate) struct FixedBaseTable {
    tables: Vec<LookupTable<ProjectivePoint>>,
}

impl FixedBaseTable {
    /// Build the table for `base` (about as much work as one scalar multiplication).
    pub(crate) fn new(base: ProjectivePoint) -> Self {
        let mut tables = Vec::with_capacity(WINDOWS + 1);
        let mut window_base = base;
        for _ in 0..=WINDOWS {
            tables.push(LookupTable::new(window_base));
            for _ in 0..8 {
                window_base = window_base.double();
            }
        }
        FixedBaseTable { tables }
    }

    /// `[k]B` in constant time: `k` may be secret.
    pub(crate) fn mul(&self, k: &Scalar) -> ProjectivePoint {
        // k = sum of digits[j] * 16^j with every digit in [-8, 8]; even positions 2i weigh
        // 256^i, odd positions 2i+1 weigh 16 * 256^i and are summed apart, then times 16.
        let digits = Radix16Decomposition::<Radix16Digits<Sm2>>::new(k);
        let mut even = self.tables[WINDOWS].select(digits[WINDOWS * 2]);
        let mut odd = ProjectivePoint::identity();
        for i in (0..WINDOWS).rev() {
            odd += &self.tables[i].select(digits[i * 2 + 1]);
            even += &self.tables[i].select(digits[i * 2]);
        }
        for _ in 0..4 {
            odd = odd.double();
        }
        even + odd
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm2::elliptic_curve::PrimeField;

    fn scalar_from_u64(v: u64) -> Scalar {
        Scalar::from(v)
    }

    #[test]
    fn agrees_with_plain_multiplication() {
        let base = ProjectivePoint::generator() * scalar_from_u64(0x1234_5678_9abc);
        let table = FixedBaseTable::new(base);
        let minus_one = -Scalar::ONE;
        let mut edge = vec![
            Scalar::ZERO,
            Scalar::ONE,
            scalar_from_u64(8),
            scalar_from_u64(9),
            scalar_from_u64(0x88),
            minus_one,
            minus_one - Scalar::ONE,
        ];
        // Every nibble 8 (the recentring carries all the way up) and every nibble 7.
        for fill in [0x88u8, 0x77, 0xff] {
            let mut bytes = [fill; 32];
            bytes[0] &= 0x7f; // stay below n
            edge.push(Option::from(Scalar::from_repr(bytes.into())).expect("below n"));
        }
        for i in 0u32..200 {
            let bytes = crate::hash::tagged_hash("table test", &[&i.to_be_bytes()]);
            edge.push(crate::codec::reduce_bytes(&bytes));
        }
        for k in edge {
            assert_eq!(
                table.mul(&k).to_affine(),
                (base * k).to_affine(),
                "k = {k:?}"
            );
        }
    }

    #[test]
    fn the_identity_as_base_gives_the_identity() {
        let table = FixedBaseTable::new(ProjectivePoint::identity());
        assert!(bool::from(table.mul(&scalar_from_u64(12345)).is_identity()));
    }
}
