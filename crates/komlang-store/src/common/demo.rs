//! What the demo loaders of several features share: where the demo lives, and deterministic noise.

/// Province of the provincial demo account (Battambang).
pub const DEMO_PROVINCE: &str = "02";
/// District of the district demo account (Sangkae, Battambang).
pub const DEMO_DISTRICT: &str = "0208";

/// splitmix64 over a few numbers: deterministic noise for the demo ratings.
pub(crate) fn mix(values: &[u64]) -> u64 {
    let mut x: u64 = 0x6b6f_6d70_6574_656e; // "kompeten"
    for v in values {
        x ^= v.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
    }
    x
}
