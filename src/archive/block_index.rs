//! The block index of a layer (spec §10): the deflated size of each 1 MiB block of its tar stream, which the
//! writer knows ([`super::gzip::BlockGzipEncoder::block_sizes`]). It travels as an annotation of the layer's
//! descriptor and is only a hint: a reader that seeks with it still checks the file it reads against the
//! manifest's digest, and streams the layer from its start when the index is missing or wrong.
//!
//! Encoding: the sizes in block order, the final block included, each as unsigned LEB128, concatenated and
//! written in base64 (RFC 4648 standard alphabet, with padding). A 2 GiB layer of incompressible data has
//! 2049 blocks of 3 bytes each: about 8 KB of text.

use super::gzip::{BLOCK_SIZE, GZIP_HEADER};
use crate::error::{Error, ErrorCode, Result};
use std::ops::Range;

/// What the annotation is called in errors (the OCI key lives with the OCI mapping).
const SUBJECT: &str = "dev.ctxpack.blocks";
/// Deflate never grows a 1 MiB block by more than a few hundred bytes (stored blocks cost 5 bytes per 64 KiB);
/// anything much larger is not a block of this profile.
const MAX_BLOCK_DEFLATED: u64 = 2 * BLOCK_SIZE as u64;
/// The gzip trailer: CRC-32 and length.
const TRAILER_BYTES: u64 = 8;
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A decoded block index: where each block's deflated bytes start in the layer blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockIndex {
    /// `starts[i]` is the blob offset of block i; the last element is where the trailer starts.
    starts: Vec<u64>,
}

impl BlockIndex {
    /// The annotation value for these deflated block sizes.
    pub fn encode(sizes: &[u64]) -> String {
        let mut bytes = Vec::with_capacity(sizes.len() * 3);
        for &size in sizes {
            let mut rest = size;
            loop {
                let low = (rest & 0x7f) as u8;
                rest >>= 7;
                if rest == 0 {
                    bytes.push(low);
                    break;
                }
                bytes.push(low | 0x80);
            }
        }
        base64_encode(&bytes)
    }

    /// Reads an annotation value; `CTX_OCI_INVALID` when it is not base64 of LEB128 sizes of plausible blocks.
    pub fn decode(text: &str) -> Result<BlockIndex> {
        let bytes = base64_decode(text).ok_or_else(|| invalid("is not base64 (RFC 4648, padded)"))?;
        let mut starts = vec![GZIP_HEADER.len() as u64];
        let mut value = 0u64;
        let mut shift = 0;
        for &byte in &bytes {
            if shift > 21 {
                return Err(invalid("holds a block size beyond 2 MiB"));
            }
            value |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if value == 0 || value > MAX_BLOCK_DEFLATED {
                    return Err(invalid(format!("holds a block size of {value} bytes")));
                }
                starts.push(starts[starts.len() - 1] + value);
                (value, shift) = (0, 0);
            }
        }
        if shift != 0 {
            return Err(invalid("ends inside a block size"));
        }
        if starts.len() == 1 {
            return Err(invalid("is empty"));
        }
        Ok(BlockIndex { starts })
    }

    /// The number of blocks, the final one included.
    pub fn blocks(&self) -> usize {
        self.starts.len() - 1
    }

    /// Checks the index against what is known without reading the blob: a tar stream of `tar_len` bytes has
    /// `tar_len / 1 MiB + 1` blocks, and the header, the blocks and the trailer make up the blob's size.
    pub fn check(&self, tar_len: u64, blob_size: u64) -> Result<()> {
        let blocks = tar_len / BLOCK_SIZE as u64 + 1;
        if self.blocks() as u64 != blocks {
            return Err(invalid(format!("lists {} blocks; the layer's tar stream has {blocks}", self.blocks())));
        }
        let total = self.starts[self.blocks()] + TRAILER_BYTES;
        if total != blob_size {
            return Err(invalid(format!("adds up to {total} bytes; the layer has {blob_size}")));
        }
        Ok(())
    }

    /// The blob bytes holding blocks `blocks` (a non-empty range of block numbers).
    pub fn compressed_range(&self, blocks: Range<usize>) -> Range<u64> {
        self.starts[blocks.start]..self.starts[blocks.end]
    }
}

fn invalid(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::OciInvalid, format!("the layer's block index {what}"))
        .at(SUBJECT)
        .hint("the index is only a hint: the layer is read from its start instead")
}

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            let symbol = if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize] } else { b'=' };
            out.push(char::from(symbol));
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if text.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (q, quad) in text.chunks(4).enumerate() {
        let last = q == text.len() / 4 - 1;
        let padding = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (i, &symbol) in quad[..4 - padding].iter().enumerate() {
            let value = ALPHABET.iter().position(|&a| a == symbol)? as u32;
            n |= value << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        // Padded input must not carry bits past its last byte (canonical base64).
        if padding > 0 && bytes[1 + 3 - padding..].iter().any(|&b| b != 0) {
            return None;
        }
        out.extend_from_slice(&bytes[1..4 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_sizes_through_leb128_and_base64() {
        let sizes = [1_048_661, 2, 127, 128, 16_383, 16_384, 300_000];
        let text = BlockIndex::encode(&sizes);
        let index = BlockIndex::decode(&text).unwrap();
        assert_eq!(index.blocks(), sizes.len());
        assert_eq!(index.compressed_range(0..1), 10..10 + 1_048_661);
        assert_eq!(index.compressed_range(1..3), 10 + 1_048_661..10 + 1_048_661 + 2 + 127);
        let end = 10 + sizes.iter().sum::<u64>();
        assert_eq!(index.compressed_range(0..sizes.len()).end, end);
        index.check(6 * BLOCK_SIZE as u64 + 5, end + 8).unwrap();
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (raw, text) in [(&b""[..], ""), (b"f", "Zg=="), (b"fo", "Zm8="), (b"foo", "Zm9v"), (b"foobar", "Zm9vYmFy")]
        {
            assert_eq!(base64_encode(raw), text);
            assert_eq!(base64_decode(text).unwrap(), raw);
        }
        for bad in ["Zg", "Zg=a", "Zh==", "Z===", "Zm9v!A==", "Zg==Zg=="] {
            assert!(base64_decode(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_malformed_or_inconsistent_index_is_refused() {
        let leb_zero = base64_encode(&[0]);
        let leb_huge = base64_encode(&[0x81, 0x80, 0x80, 0x01]);
        let leb_open = base64_encode(&[0x85]);
        for bad in ["", "not base64!", leb_zero.as_str(), leb_huge.as_str(), leb_open.as_str()] {
            let error = BlockIndex::decode(bad).unwrap_err();
            assert_eq!((error.code, error.subject.as_deref()), (ErrorCode::OciInvalid, Some(SUBJECT)), "{bad:?}");
        }
        let index = BlockIndex::decode(&BlockIndex::encode(&[100, 3])).unwrap();
        index.check(BLOCK_SIZE as u64, 10 + 103 + 8).unwrap();
        assert_eq!(index.check(5000, 10 + 103 + 8).unwrap_err().code, ErrorCode::OciInvalid, "block count");
        assert_eq!(index.check(BLOCK_SIZE as u64, 200).unwrap_err().code, ErrorCode::OciInvalid, "blob size");
    }
}
