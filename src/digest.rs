//! SHA-256 digests in their `sha256:<hex>` form, and the streaming hasher every host shares.

use crate::error::{Error, ErrorCode, Result};
use sha2::{Digest as _, Sha256};
use std::fmt;

/// A SHA-256 digest. Displays as `sha256:<64 lowercase hex>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

impl Digest {
    pub const PREFIX: &'static str = "sha256:";

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Digest(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Self {
        let mut hasher = Hasher::new();
        hasher.update(data);
        hasher.finish()
    }

    /// Parses `sha256:<64 lowercase hex>`.
    pub fn parse(s: &str) -> Result<Self> {
        let hex = s.strip_prefix(Self::PREFIX).ok_or_else(|| {
            Error::new(ErrorCode::UriInvalid, format!("digest {s:?} must start with \"sha256:\""))
                .hint("write digests as sha256:<64 lowercase hex digits>")
        })?;
        Self::from_hex(hex).map_err(|e| e.hint("write digests as sha256:<64 lowercase hex digits>"))
    }

    /// Parses exactly 64 lowercase hex digits.
    pub fn from_hex(hex: &str) -> Result<Self> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return Err(Error::new(
                ErrorCode::UriInvalid,
                format!("expected 64 hex digits, found {} characters in {hex:?}", bytes.len()),
            ));
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            out[i] = (hex_value(pair[0], hex)? << 4) | hex_value(pair[1], hex)?;
        }
        Ok(Digest(out))
    }

    /// The 64 lowercase hex digits, without the algorithm prefix.
    /// The 64 lowercase hex digits, appended to `out` (no allocation: trees write one per file).
    pub fn write_hex(&self, out: &mut Vec<u8>) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for b in self.0 {
            out.push(DIGITS[(b >> 4) as usize]);
            out.push(DIGITS[(b & 15) as usize]);
        }
    }

    pub fn hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(DIGITS[(b >> 4) as usize] as char);
            s.push(DIGITS[(b & 15) as usize] as char);
        }
        s
    }
}

fn hex_value(c: u8, whole: &str) -> Result<u8> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => {
            Err(Error::new(ErrorCode::UriInvalid, format!("{whole:?} has uppercase hex; digests are lowercase")))
        }
        _ => Err(Error::new(
            ErrorCode::UriInvalid,
            format!("{whole:?} has a character that is not hex: {:?}", c as char),
        )),
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Bytes given to the SHA-256 compression function per call. A wasm engine runs a function's first calls in
/// its baseline compiler and switches to the optimised code between calls, not within one: hashing a 1.7 MB
/// manifest in one call ran at ~33 MB/s in Node (V8's Liftoff), in 16 KiB pieces at ~10x that.
const PIECE_BYTES: usize = 16 * 1024;

/// Incremental SHA-256 that also counts bytes, so size and digest are checked in one pass.
#[derive(Clone, Default)]
pub struct Hasher {
    inner: Sha256,
    len: u64,
}

impl Hasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        for piece in data.chunks(PIECE_BYTES) {
            self.inner.update(piece);
        }
        self.len += data.len() as u64;
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn finish(self) -> Digest {
        Digest(self.inner.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(Digest::of(b"").hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(
            Digest::of(b"hello world").to_string(),
            "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
    }

    #[test]
    fn streaming_and_pieces_equal_one_shot() {
        // Past several compression pieces, with updates that straddle them.
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let one_shot: [u8; 32] = Sha256::digest(&data).into();
        let mut h = Hasher::new();
        for chunk in data.chunks(4093) {
            h.update(chunk);
        }
        assert_eq!(h.len(), data.len() as u64);
        assert_eq!(h.finish().as_bytes(), &one_shot);
        assert_eq!(Digest::of(&data).as_bytes(), &one_shot);
        assert_eq!(
            Digest::of(&data[..PIECE_BYTES]).as_bytes(),
            &<[u8; 32]>::from(Sha256::digest(&data[..PIECE_BYTES]))
        );
    }

    #[test]
    fn parse_round_trips_and_rejects_bad_forms() {
        let d = Digest::of(b"abc");
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
        for bad in [
            "md5:abc",
            "sha256:short",
            "sha256:zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            "noprefixabcdef0123456789abcdef0123456789abcdef0123456789abcdef012345",
            "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        ] {
            let e = Digest::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::UriInvalid, "{bad}");
        }
    }
}
