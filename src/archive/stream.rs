//! The inflated tar stream: compressed input in, a bounded buffer of tar bytes out, with the gzip-bomb
//! defences applied to every byte inflated.
//!
//! Nothing is inflated except into the [`TAR_BUFFER`], and only when the tar layer asks for bytes, so a
//! pushed chunk that expands a thousandfold costs no more memory than one that does not.

use super::crc::HostCrc;
use super::gzip::GzipReader;
use super::limits::Limits;
use crate::error::{Error, ErrorCode, Result};

/// Inflated bytes buffered between the gzip and tar layers; also the largest `Data` event.
pub const TAR_BUFFER: usize = 256 << 10;

/// Compressed input and the gzip decoder, with the running totals the bomb defences check.
struct Source {
    input: Vec<u8>,
    input_pos: usize,
    gzip: GzipReader,
    inflated: u64,
    compressed: u64,
    /// Inflating beyond this many bytes is an error ([`super::limits::inflated_ceiling`] once the manifest is known).
    ceiling: u64,
    limits: Limits,
}

impl Source {
    fn input_exhausted(&self) -> bool {
        self.input_pos == self.input.len()
    }

    /// Inflates into the spare capacity of `out`; returns the number of bytes produced.
    fn inflate(&mut self, out: &mut Vec<u8>) -> Result<usize> {
        let before = out.len();
        let used = self.gzip.inflate(&self.input[self.input_pos..], out)?;
        self.input_pos += used;
        self.compressed += used as u64;
        let produced = out.len() - before;
        self.inflated += produced as u64;
        if self.inflated > self.ceiling {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("the pack inflates to more than the {} bytes its manifest accounts for", self.ceiling),
            )
            .hint("the pack is malformed or a gzip bomb; discard it"));
        }
        self.limits.check_ratio(self.inflated, self.compressed)?;
        Ok(produced)
    }
}

/// The tar stream as it inflates: a bounded buffer in front of the source.
pub struct TarStream {
    source: Source,
    buf: Vec<u8>,
    pos: usize,
}

impl TarStream {
    pub fn new(limits: Limits) -> TarStream {
        let source = Source {
            input: Vec::new(),
            input_pos: 0,
            gzip: GzipReader::new(),
            inflated: 0,
            compressed: 0,
            ceiling: u64::MAX,
            limits,
        };
        TarStream { source, buf: Vec::with_capacity(TAR_BUFFER), pos: 0 }
    }

    /// True when every pushed byte has been consumed.
    pub fn wants_input(&self) -> bool {
        self.source.input_exhausted()
    }

    /// Replaces the consumed input with the next chunk.
    pub fn push(&mut self, chunk: &[u8]) {
        debug_assert!(self.wants_input());
        self.source.input.clear();
        self.source.input.extend_from_slice(chunk);
        self.source.input_pos = 0;
    }

    /// From now on the host computes the gzip CRC-32 ([`GzipReader::use_host_crc`]).
    pub fn use_host_crc(&mut self, crc: HostCrc) {
        self.source.gzip.use_host_crc(crc);
    }

    /// From now on, inflating past `ceiling` bytes in total is an error.
    pub fn set_ceiling(&mut self, ceiling: u64) {
        self.source.ceiling = ceiling;
    }

    /// Compressed bytes consumed so far.
    pub fn compressed(&self) -> u64 {
        self.source.compressed
    }

    /// True when the compressed input so far ends exactly after a complete gzip member.
    pub fn at_end_of_gzip(&self) -> bool {
        self.source.gzip.at_end_of_member()
    }

    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.available().len());
        self.pos += n;
    }

    pub fn available(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Offset in the tar stream of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.source.inflated - (self.buf.len() - self.pos) as u64
    }

    /// Makes at least `want` (≤ [`TAR_BUFFER`]) bytes available; false when more input is needed first.
    pub fn fill(&mut self, want: usize) -> Result<bool> {
        while self.buf.len() - self.pos < want {
            self.buf.drain(..self.pos);
            self.pos = 0;
            if self.source.inflate(&mut self.buf)? == 0 && self.source.input_exhausted() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Moves bytes into `acc` until it holds `total`; false when more input is needed first.
    pub fn take_into(&mut self, acc: &mut Vec<u8>, total: usize) -> Result<bool> {
        while acc.len() < total {
            if !self.fill(1)? {
                return Ok(false);
            }
            let take = (total - acc.len()).min(self.available().len());
            acc.extend_from_slice(&self.available()[..take]);
            self.pos += take;
        }
        Ok(true)
    }

    /// Skips `remaining` bytes, counting it down; false when more input is needed first.
    pub fn skip(&mut self, remaining: &mut u64) -> Result<bool> {
        while *remaining > 0 {
            if !self.fill(1)? {
                return Ok(false);
            }
            let take = self.available().len().min(usize::try_from(*remaining).unwrap_or(usize::MAX));
            self.pos += take;
            *remaining -= take as u64;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::test_support::{gzip, sample};

    #[test]
    fn a_huge_pushed_chunk_only_inflates_into_the_buffer() {
        let tar = vec![0u8; 64 << 20];
        let gz = gzip(&tar);
        let mut stream = TarStream::new(Limits::default());
        stream.push(&gz);
        assert!(stream.fill(1).unwrap());
        assert_eq!(stream.available().len(), TAR_BUFFER);
        assert!(stream.compressed() < gz.len() as u64, "the rest of the chunk waits");
        let mut skipped = tar.len() as u64;
        assert!(stream.skip(&mut skipped).unwrap());
        assert_eq!(stream.offset(), tar.len() as u64);
        assert!(!stream.fill(1).unwrap());
        assert!(stream.wants_input() && stream.at_end_of_gzip());
        assert_eq!(stream.buf.capacity(), TAR_BUFFER, "the buffer never grew");
    }

    #[test]
    fn partial_reads_resume_across_pushes() {
        let tar = sample(10_000, 7);
        let gz = gzip(&tar);
        let mut stream = TarStream::new(Limits::default());
        let mut acc = Vec::new();
        for chunk in gz.chunks(100) {
            stream.push(chunk);
            if stream.take_into(&mut acc, 6000).unwrap() {
                break;
            }
        }
        assert_eq!(acc, tar[..6000]);
        assert_eq!(stream.offset(), 6000);
    }

    #[test]
    fn the_ceiling_stops_inflation_as_soon_as_it_is_passed() {
        let gz = gzip(&vec![0u8; 1 << 20]);
        let mut stream = TarStream::new(Limits::default());
        stream.set_ceiling(1000);
        stream.push(&gz);
        let e = stream.fill(2000).unwrap_err();
        assert_eq!(e.code, ErrorCode::LimitExceeded);
    }
}
