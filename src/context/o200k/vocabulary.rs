//! o200k_base's vocabulary: its 199,998 tokens and their ranks, read once from the committed
//! `o200k_base.bin` (made by `bench/tokens-vocabulary.mjs`: raw deflate of the token count, each token's length, then
//! every token's bytes, in rank order) into one blob and an open-addressing table keyed on byte slices of it.

use std::io::Read;
use std::sync::OnceLock;

const PACKED: &[u8] = include_bytes!("o200k_base.bin");

/// 2^19 slots for 199,998 tokens: under 40 % full, so a lookup probes about one slot.
const SLOT_BITS: u32 = 19;
const SLOT_MASK: usize = (1 << SLOT_BITS) - 1;

pub(super) struct Vocabulary {
    /// The inflated file: the header and lengths, then the tokens' bytes.
    blob: Vec<u8>,
    /// Where each rank's bytes start in `blob`, and one more entry for where the last one ends.
    starts: Vec<u32>,
    /// `0` for an empty slot, else the key's hash bits 13..45 (compared before the bytes) above `rank + 1`.
    slots: Vec<u64>,
}

/// An FxHash-style hash of a byte string: eight bytes at a time, multiplied, so the high bits are the best mixed
/// (they pick the slot).
fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word.try_into().expect("eight bytes"))).wrapping_mul(K);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    h
}

impl Vocabulary {
    /// The vocabulary, read on first use.
    pub(super) fn get() -> &'static Vocabulary {
        static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
        VOCABULARY.get_or_init(Vocabulary::load)
    }

    fn load() -> Vocabulary {
        let mut blob = Vec::with_capacity(1_600_000);
        flate2::read::DeflateDecoder::new(PACKED).read_to_end(&mut blob).expect("o200k_base.bin inflates");
        let count = u32::from_le_bytes(blob[..4].try_into().expect("a count")) as usize;
        let mut starts = Vec::with_capacity(count + 1);
        let mut at = (4 + count) as u32;
        for length in &blob[4..4 + count] {
            starts.push(at);
            at += u32::from(*length);
        }
        starts.push(at);
        assert_eq!(at as usize, blob.len(), "o200k_base.bin holds every token's bytes");
        let mut vocabulary = Vocabulary { blob, starts, slots: vec![0; 1 << SLOT_BITS] };
        for rank in 0..count as u32 {
            let h = hash(vocabulary.token(rank));
            let mut slot = (h >> (64 - SLOT_BITS)) as usize;
            while vocabulary.slots[slot] != 0 {
                slot = (slot + 1) & SLOT_MASK;
            }
            vocabulary.slots[slot] = ((h >> 13) << 32) | u64::from(rank + 1);
        }
        vocabulary
    }

    fn token(&self, rank: u32) -> &[u8] {
        &self.blob[self.starts[rank as usize] as usize..self.starts[rank as usize + 1] as usize]
    }

    /// The rank of the token whose bytes are `key`, if there is one.
    pub(super) fn rank(&self, key: &[u8]) -> Option<u32> {
        let h = hash(key);
        let tag = (h >> 13) as u32;
        let mut slot = (h >> (64 - SLOT_BITS)) as usize;
        loop {
            let entry = self.slots[slot];
            if entry == 0 {
                return None;
            }
            if (entry >> 32) as u32 == tag {
                let rank = entry as u32 - 1;
                if self.token(rank) == key {
                    return Some(rank);
                }
            }
            slot = (slot + 1) & SLOT_MASK;
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.starts.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_token_has_its_rank() {
        let vocabulary = Vocabulary::get();
        assert_eq!(vocabulary.len(), 199_998);
        for rank in 0..vocabulary.len() as u32 {
            assert_eq!(vocabulary.rank(vocabulary.token(rank)), Some(rank));
        }
    }

    #[test]
    fn known_tokens_and_strangers() {
        let vocabulary = Vocabulary::get();
        // o200k_base's first rank is `!`, and ` the` is 290.
        assert_eq!(vocabulary.rank(b"!"), Some(0));
        assert_eq!(vocabulary.rank(b" the"), Some(290));
        assert_eq!(vocabulary.rank(b"xqzqxqzq"), None);
        assert_eq!(vocabulary.rank(b""), None);
        for byte in 0..=255u8 {
            assert!(vocabulary.rank(&[byte]).is_some(), "byte {byte}");
        }
    }
}
