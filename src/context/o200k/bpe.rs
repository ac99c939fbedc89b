//! Byte-pair encoding of one piece, as tiktoken does it, counting the tokens only: start from single bytes and
//! merge, again and again, the adjacent pair whose bytes form the lowest-ranked token (the leftmost of equals),
//! until no adjacent pair forms a token. A piece that is a token whole is one token, without merging.

use super::vocabulary::Vocabulary;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// No token: a pair that is never merged.
const NONE: u32 = u32::MAX;

/// Pieces up to this many bytes scan for the lowest pair (quadratic, but cache-friendly and allocation-free);
/// longer ones (a long run of spaces or of one punctuation character, a long line of CJK) keep their pairs in a
/// heap.
const SCAN_MAX: usize = 256;

/// Counts pieces' tokens, reusing its buffers from piece to piece.
pub(super) struct Merger {
    vocabulary: &'static Vocabulary,
    /// Scan: each part's start and the rank of the pair it starts (tiktoken's layout, two sentinels at the end).
    parts: Vec<(u32, u32)>,
    /// Heap: by byte offset, the next part's start, the previous part's start, and the rank of the pair starting
    /// there (`NONE` for a part merged away).
    next: Vec<u32>,
    prev: Vec<u32>,
    ranks: Vec<u32>,
    heap: BinaryHeap<Reverse<(u32, u32)>>,
}

impl Merger {
    pub(super) fn new(vocabulary: &'static Vocabulary) -> Merger {
        Merger {
            vocabulary,
            parts: Vec::new(),
            next: Vec::new(),
            prev: Vec::new(),
            ranks: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// The number of tokens o200k_base encodes `piece` as.
    pub(super) fn count(&mut self, piece: &[u8]) -> u64 {
        if piece.len() <= 1 || self.vocabulary.rank(piece).is_some() {
            return piece.len().min(1) as u64;
        }
        if piece.len() <= SCAN_MAX {
            self.count_by_scan(piece)
        } else {
            self.count_by_heap(piece)
        }
    }

    fn rank(&self, bytes: &[u8]) -> u32 {
        self.vocabulary.rank(bytes).unwrap_or(NONE)
    }

    fn count_by_scan(&mut self, piece: &[u8]) -> u64 {
        let mut parts = std::mem::take(&mut self.parts);
        parts.clear();
        for start in 0..piece.len() - 1 {
            parts.push((start as u32, self.rank(&piece[start..start + 2])));
        }
        parts.push(((piece.len() - 1) as u32, NONE));
        parts.push((piece.len() as u32, NONE));
        // The rank of the pair part `i` would start once parts `i + 1` and `i + 2` are one.
        let merged_rank = |merger: &Merger, parts: &[(u32, u32)], i: usize| {
            if i + 3 < parts.len() {
                merger.rank(&piece[parts[i].0 as usize..parts[i + 3].0 as usize])
            } else {
                NONE
            }
        };
        loop {
            let mut lowest = (NONE, 0);
            for (i, (_, rank)) in parts[..parts.len() - 1].iter().enumerate() {
                if *rank < lowest.0 {
                    lowest = (*rank, i);
                }
            }
            if lowest.0 == NONE {
                break;
            }
            let i = lowest.1;
            if i > 0 {
                parts[i - 1].1 = merged_rank(self, &parts, i - 1);
            }
            parts[i].1 = merged_rank(self, &parts, i);
            parts.remove(i + 1);
        }
        let tokens = (parts.len() - 1) as u64;
        self.parts = parts;
        tokens
    }

    fn count_by_heap(&mut self, piece: &[u8]) -> u64 {
        let n = piece.len();
        let end = n as u32;
        let (mut next, mut prev, mut ranks) =
            (std::mem::take(&mut self.next), std::mem::take(&mut self.prev), std::mem::take(&mut self.ranks));
        let mut heap = std::mem::take(&mut self.heap);
        next.clear();
        next.extend(1..=end);
        prev.clear();
        prev.extend((0..n as u32).map(|p| p.wrapping_sub(1)));
        ranks.clear();
        heap.clear();
        for start in 0..n {
            let rank = if start + 1 < n { self.rank(&piece[start..start + 2]) } else { NONE };
            ranks.push(rank);
            if rank != NONE {
                heap.push(Reverse((rank, start as u32)));
            }
        }
        // The rank of the pair starting at part `p`: its bytes and the next part's.
        let pair_rank = |merger: &Merger, next: &[u32], p: u32| {
            let second = next[p as usize];
            if second >= end {
                return NONE;
            }
            let stop = if (second as usize) < n { next[second as usize] } else { end };
            merger.rank(&piece[p as usize..stop as usize])
        };
        let mut tokens = n as u64;
        while let Some(Reverse((rank, p))) = heap.pop() {
            if ranks[p as usize] != rank {
                continue;
            }
            // Part `p` takes in the part after it.
            let gone = next[p as usize];
            let after = next[gone as usize];
            next[p as usize] = after;
            if after < end {
                prev[after as usize] = p;
            }
            ranks[gone as usize] = NONE;
            tokens -= 1;
            let rank = pair_rank(self, &next, p);
            ranks[p as usize] = rank;
            if rank != NONE {
                heap.push(Reverse((rank, p)));
            }
            let before = prev[p as usize];
            if before != u32::MAX {
                let rank = pair_rank(self, &next, before);
                ranks[before as usize] = rank;
                if rank != NONE {
                    heap.push(Reverse((rank, before)));
                }
            }
        }
        (self.next, self.prev, self.ranks, self.heap) = (next, prev, ranks, heap);
        tokens
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(piece: &[u8]) -> (u64, u64) {
        let mut merger = Merger::new(Vocabulary::get());
        (merger.count_by_scan(piece), merger.count_by_heap(piece))
    }

    #[test]
    fn whole_tokens_and_single_bytes_are_one() {
        let mut merger = Merger::new(Vocabulary::get());
        assert_eq!(merger.count(b""), 0);
        assert_eq!(merger.count(b"\xff"), 1);
        assert_eq!(merger.count(b" the"), 1);
    }

    #[test]
    fn scan_and_heap_merge_alike() {
        // Counts from js-tiktoken's o200k_base.
        assert_eq!(both(b"xqzqxqzq"), (7, 7));
        let spaces = vec![b' '; 1000];
        assert_eq!(both(&spaces), (9, 9));
        let mut state = 0x9e37_79b9_u32;
        let noise: Vec<u8> = (0..600)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                b"abcdefghijklmnopqrstuvwxyz"[(state % 26) as usize]
            })
            .collect();
        let (scan, heap) = both(&noise);
        assert_eq!(scan, heap);
        assert!(scan > 100 && scan < 600, "{scan}");
    }
}
