//! o200k_base's vocabulary: its 199,998 tokens and their ranks, read once from the committed
//! `o200k_base.bin` (made by `bench/tokens-vocabulary.mjs`: raw deflate of the token count, each token's length, then
//! every token's bytes, in rank order) into one blob and an open-addressing table keyed on byte strings.

use std::io::Read;
use std::sync::OnceLock;

const PACKED: &[u8] = include_bytes!("o200k_base.bin");

/// 2^19 slots for 199,998 tokens: under 40 % full, so a lookup probes one or two slots, mostly in one cache line.
const SLOT_BITS: u32 = 19;
const SLOT_MASK: usize = (1 << SLOT_BITS) - 1;

/// A token in the table. Its first eight bytes are in the slot, so a lookup of a short key (most are: byte pairs
/// and words) reads one cache line and never the blob.
#[derive(Clone, Copy, Default)]
struct Slot {
    /// The token's first eight bytes, little-endian, zero-padded.
    head: u64,
    /// `rank + 1` (bits 0..20; `0` is an empty slot), length (20..28), offset of its bytes in the blob (32..64).
    meta: u64,
}

impl Slot {
    fn rank(self) -> u32 {
        (self.meta & 0xf_ffff) as u32 - 1
    }

    fn len(self) -> usize {
        ((self.meta >> 20) & 0xff) as usize
    }

    fn offset(self) -> usize {
        (self.meta >> 32) as usize
    }
}

pub(super) struct Vocabulary {
    /// The inflated file: the header and lengths, then the tokens' bytes.
    blob: Vec<u8>,
    slots: Vec<Slot>,
    /// The rank of each two-byte token, by its bytes as a big-endian `u16` (`u32::MAX`: none): a byte-pair
    /// encoding looks up every adjacent pair of a piece first, here in 256 KiB that stay in cache.
    pairs: Vec<u32>,
}

/// A key's first eight bytes, little-endian, zero-padded.
fn head(key: &[u8]) -> u64 {
    if key.len() >= 8 {
        return u64::from_le_bytes(key[..8].try_into().expect("eight bytes"));
    }
    let mut word = [0u8; 8];
    word[..key.len()].copy_from_slice(key);
    u64::from_le_bytes(word)
}

/// An FxHash-style hash of a byte string, eight bytes at a time, multiplied: the high bits are the best mixed, and
/// pick the slot.
fn hash(key: &[u8], head: u64) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = ((key.len() as u64).rotate_left(5) ^ head).wrapping_mul(K);
    if key.len() > 8 {
        let mut words = key[8..].chunks(8);
        for word in &mut words {
            h = (h.rotate_left(5) ^ self::head(word)).wrapping_mul(K);
        }
    }
    h
}

/// Each token's bytes, in rank order, from the inflated layout.
fn tokens(blob: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let count = u32::from_le_bytes(blob[..4].try_into().expect("a count")) as usize;
    let mut at = 4 + count;
    blob[4..4 + count].iter().map(move |length| {
        let start = at;
        at += *length as usize;
        (start, &blob[start..at])
    })
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
        let mut slots = vec![Slot::default(); 1 << SLOT_BITS];
        let mut pairs = vec![u32::MAX; 1 << 16];
        let mut end = 0;
        for (rank, (offset, token)) in tokens(&blob).enumerate() {
            if let [first, second] = token {
                pairs[usize::from(u16::from_be_bytes([*first, *second]))] = rank as u32;
            }
            let head = head(token);
            let mut slot = (hash(token, head) >> (64 - SLOT_BITS)) as usize;
            while slots[slot].meta != 0 {
                slot = (slot + 1) & SLOT_MASK;
            }
            slots[slot] =
                Slot { head, meta: (rank as u64 + 1) | ((token.len() as u64) << 20) | ((offset as u64) << 32) };
            end = offset + token.len();
        }
        assert_eq!(end, blob.len(), "o200k_base.bin holds every token's bytes");
        Vocabulary { blob, slots, pairs }
    }

    /// The rank of the token whose bytes are `key`, if there is one.
    pub(super) fn rank(&self, key: &[u8]) -> Option<u32> {
        if let [first, second] = key {
            let rank = self.pairs[usize::from(u16::from_be_bytes([*first, *second]))];
            return (rank != u32::MAX).then_some(rank);
        }
        let head = head(key);
        let mut slot = (hash(key, head) >> (64 - SLOT_BITS)) as usize;
        loop {
            let entry = self.slots[slot];
            if entry.meta == 0 {
                return None;
            }
            if entry.head == head
                && entry.len() == key.len()
                && (key.len() <= 8 || self.blob[entry.offset() + 8..entry.offset() + key.len()] == key[8..])
            {
                return Some(entry.rank());
            }
            slot = (slot + 1) & SLOT_MASK;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_token_has_its_rank() {
        let vocabulary = Vocabulary::get();
        let mut count = 0;
        for (rank, (_, token)) in tokens(&vocabulary.blob).enumerate() {
            assert_eq!(vocabulary.rank(token), Some(rank as u32));
            count += 1;
        }
        assert_eq!(count, 199_998);
    }

    #[test]
    fn known_tokens_and_strangers() {
        let vocabulary = Vocabulary::get();
        // o200k_base's first rank is `!`, and ` the` is 290.
        assert_eq!(vocabulary.rank(b"!"), Some(0));
        assert_eq!(vocabulary.rank(b" the"), Some(290));
        assert_eq!(vocabulary.rank(b"xqzqxqzq"), None);
        assert_eq!(vocabulary.rank(b""), None);
        assert_eq!(vocabulary.rank(b"!\0"), None);
        for byte in 0..=255u8 {
            assert!(vocabulary.rank(&[byte]).is_some(), "byte {byte}");
        }
    }
}
