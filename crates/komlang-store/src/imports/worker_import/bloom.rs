//! The Bloom filter that spares a big import the lookups of keys that cannot be stored.

use sqlx::{AnyConnection, Row};

use crate::Result;

/// A big import looks up only the keys this filter says may be stored.
///
/// A Bloom filter of fixed size ([`BLOOM_BYTES`]): it never says "absent"
/// of a stored key, and says "may be stored" of an absent one rarely (about
/// 0.03% with 5 million keys, 1% with 15 million), so memory stays flat.
/// It is built, from every key in `worker_dedup_keys`, when an import has
/// read [`BLOOM_AFTER_ROWS`] valid rows, inside its transaction; the keys the
/// import writes afterwards are added as they are written. Small imports
/// never build it. On PostgreSQL, keys that other sessions commit while a
/// big import runs are not in it: a worker created in the registry during
/// the import is not compared with the import's later rows (its national ID
/// still cannot be taken twice: the unique index refuses, and the import fails).
pub(super) struct Bloom {
    bits: Vec<u64>,
}

/// Size of the filter.
pub const BLOOM_BYTES: usize = 16 << 20;
/// Valid rows after which an import builds the filter.
pub const BLOOM_AFTER_ROWS: u64 = 20_000;
/// Hashes per key.
const BLOOM_HASHES: u64 = 4;

impl Bloom {
    fn new() -> Self {
        Bloom { bits: vec![0; BLOOM_BYTES / 8] }
    }

    /// The bit positions of a key (double hashing over two FNV-1a variants).
    fn positions(&self, key: &str) -> impl Iterator<Item = usize> {
        let (mut h1, mut h2): (u64, u64) = (0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4);
        for b in key.bytes() {
            h1 = (h1 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            h2 = (h2 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(17);
        }
        let m = (self.bits.len() * 64) as u64;
        (0..BLOOM_HASHES).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2 | 1)) % m) as usize)
    }

    pub(super) fn insert(&mut self, key: &str) {
        let pos: Vec<usize> = self.positions(key).collect();
        for p in pos {
            self.bits[p / 64] |= 1 << (p % 64);
        }
    }

    pub(super) fn may_contain(&self, key: &str) -> bool {
        self.positions(key).all(|p| self.bits[p / 64] & (1 << (p % 64)) != 0)
    }

    /// A filter holding every key stored (read through the import's connection).
    pub(super) async fn load(conn: &mut AnyConnection) -> Result<Bloom> {
        let mut bloom = Bloom::new();
        let mut last = String::new();
        loop {
            let rows =
                sqlx::query("SELECT DISTINCT key FROM worker_dedup_keys WHERE key > $1 ORDER BY key LIMIT 10000")
                    .bind(&last)
                    .fetch_all(&mut *conn)
                    .await?;
            let Some(r) = rows.last() else { break };
            last = r.try_get(0)?;
            for r in &rows {
                bloom.insert(&r.try_get::<String, _>(0)?);
            }
        }
        Ok(bloom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_never_forgets_a_key() {
        let mut b = Bloom::new();
        let keys: Vec<String> = (0..50_000).map(|i| format!("k{i:016x}")).collect();
        for k in &keys {
            b.insert(k);
        }
        assert!(keys.iter().all(|k| b.may_contain(k)));
        let false_positives = (0..50_000).filter(|i| b.may_contain(&format!("x{i:016x}"))).count();
        assert!(false_positives < 5, "{false_positives}");
    }
}
