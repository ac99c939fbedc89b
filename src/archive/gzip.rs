//! The gzip layer: the block-deflate profile the writer produces, and a push-based reader for any gzip.
//!
//! Writer profile: a fixed 10-byte header, then the tar stream cut into [`BLOCK_SIZE`] blocks, each
//! raw-deflated on its own by [`deflate_block`] (level 6, or 0 for incompressible blocks; sync flush, the final block finished), then the
//! CRC-32 and length of the whole stream. Because no block depends on another, the output is the same
//! however the input was chunked, and hosts may deflate blocks on several threads.
//!
//! Reader: header fields (FEXTRA, FNAME, FCOMMENT, FHCRC) parsed incrementally, raw inflate, CRC-32 and
//! ISIZE checked per member, any number of members. It inflates only into the space the caller offers.

use super::crc::{Crc32, HostCrc};
use crate::error::{Error, ErrorCode, Result};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The writer's gzip header: deflate, no flags, no mtime, XFL 0, OS 255 (unknown).
pub const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff];
/// Length of each independently deflated block of the tar stream (the last one may be shorter or empty).
pub const BLOCK_SIZE: usize = 1 << 20;
const LEVEL: u32 = 6;
/// Bytes at the start of a block that decide whether it is worth deflating.
const SAMPLE_BYTES: usize = 64 * 1024;
/// A sample that level 1 shrinks by less than 2% is incompressible (random data, embeddings, media).
const INCOMPRESSIBLE_PERCENT: usize = 98;

/// Raw-deflates one block with a fresh compressor: ends with a sync flush, or finishes the deflate stream
/// when `last`. Concatenating the outputs of consecutive blocks gives one valid deflate stream.
pub fn deflate_block(block: &[u8], last: bool) -> Vec<u8> {
    let mut out = Vec::new();
    deflate_block_into(block, last, &mut out);
    out
}

/// Level 6, or stored deflate blocks (level 0) when the block's sample does not compress: level 6 spends
/// ~30 ms per MiB failing to shrink random data. The choice depends only on the block's bytes, so the
/// output stays reproducible.
fn block_level(block: &[u8]) -> Compression {
    if block.len() < SAMPLE_BYTES {
        return Compression::new(LEVEL);
    }
    let sample = &block[..SAMPLE_BYTES];
    let mut probe = Compress::new(Compression::fast(), false);
    let mut out = Vec::with_capacity(SAMPLE_BYTES + SAMPLE_BYTES / 1024 + 64);
    probe.compress_vec(sample, &mut out, FlushCompress::Finish).expect("deflate cannot fail on a fresh stream");
    let finished = probe.total_in() as usize == SAMPLE_BYTES && out.len() < out.capacity();
    if finished && out.len() * 100 < SAMPLE_BYTES * INCOMPRESSIBLE_PERCENT {
        Compression::new(LEVEL)
    } else {
        Compression::none()
    }
}

fn deflate_block_into(block: &[u8], last: bool, out: &mut Vec<u8>) {
    let mut compress = Compress::new(block_level(block), false);
    let flush = if last { FlushCompress::Finish } else { FlushCompress::Sync };
    // Enough for incompressible data (stored blocks cost 5 bytes per 64 KiB) plus the flush marker.
    out.reserve(block.len() + block.len() / 1024 + 64);
    loop {
        let consumed = compress.total_in() as usize;
        let status = compress
            .compress_vec(&block[consumed..], out, flush)
            .expect("deflate cannot fail on a fresh stream with a valid level");
        let all_in = compress.total_in() as usize == block.len();
        // zlib's contract: a flush is complete once it returns with output space to spare.
        let done = if last { status == Status::StreamEnd } else { all_in && out.len() < out.capacity() };
        if done {
            return;
        }
        out.reserve(out.capacity().max(64 * 1024));
    }
}

/// The 8-byte gzip trailer: CRC-32 and length (mod 2^32) of the uncompressed stream, little-endian.
pub fn gzip_trailer(crc32: u32, len: u64) -> [u8; 8] {
    let mut t = [0u8; 8];
    t[..4].copy_from_slice(&crc32.to_le_bytes());
    t[4..].copy_from_slice(&(len as u32).to_le_bytes());
    t
}

/// Streams bytes into the writer's gzip profile. Holds at most one block of input.
pub struct BlockGzipEncoder {
    block: Vec<u8>,
    crc: Crc32,
    len: u64,
    out: Vec<u8>,
    /// The deflated size of each block written so far: the layer's block index (spec §10).
    block_sizes: Vec<u64>,
}

impl Default for BlockGzipEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockGzipEncoder {
    pub fn new() -> Self {
        BlockGzipEncoder {
            block: Vec::with_capacity(BLOCK_SIZE),
            crc: Crc32::new(),
            len: 0,
            out: GZIP_HEADER.to_vec(),
            block_sizes: Vec::new(),
        }
    }

    /// Deflates one block onto the output, recording its deflated size.
    fn deflate(&mut self, block: &[u8], last: bool) {
        let before = self.out.len();
        deflate_block_into(block, last, &mut self.out);
        self.block_sizes.push((self.out.len() - before) as u64);
    }

    pub fn write(&mut self, mut data: &[u8]) {
        self.crc.update(data);
        self.len += data.len() as u64;
        while !data.is_empty() {
            // Whole blocks straight from the caller's buffer skip a copy.
            if self.block.is_empty() && data.len() >= BLOCK_SIZE {
                self.deflate(&data[..BLOCK_SIZE], false);
                data = &data[BLOCK_SIZE..];
                continue;
            }
            let take = (BLOCK_SIZE - self.block.len()).min(data.len());
            self.block.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.block.len() == BLOCK_SIZE {
                let block = std::mem::take(&mut self.block);
                self.deflate(&block, false);
                self.block = block;
                self.block.clear();
            }
        }
    }

    /// Bytes written so far (the uncompressed length).
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Deflates the final (possibly empty) block and appends the trailer.
    pub fn finish(&mut self) {
        let block = std::mem::take(&mut self.block);
        self.deflate(&block, true);
        self.out.extend_from_slice(&gzip_trailer(self.crc.finalize(), self.len));
    }

    /// Drains the gzip bytes produced so far.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Gzip bytes produced and not taken yet.
    pub fn output_len(&self) -> usize {
        self.out.len()
    }

    /// Moves the first `target.len()` (at most [`Self::output_len`]) bytes of output into `target`; returns
    /// how many. The output buffer keeps its capacity, so a host draining into its own buffer allocates nothing.
    pub fn take_output_into(&mut self, target: &mut [u8]) -> usize {
        let n = target.len().min(self.out.len());
        target[..n].copy_from_slice(&self.out[..n]);
        self.out.drain(..n);
        n
    }

    /// The deflated size of each block deflated so far, in order (after `finish`, every block's, the final
    /// one included).
    pub fn block_sizes(&self) -> &[u64] {
        &self.block_sizes
    }
}

const FLAG_HCRC: u8 = 0x02;
const FLAG_EXTRA: u8 = 0x04;
const FLAG_NAME: u8 = 0x08;
const FLAG_COMMENT: u8 = 0x10;
const FLAGS_RESERVED: u8 = 0xe0;

/// Where the incremental header parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderStage {
    Fixed,
    ExtraLen,
    Extra { remaining: usize },
    Name,
    Comment,
    HeaderCrc,
    Done,
}

#[derive(Debug)]
struct HeaderParser {
    stage: HeaderStage,
    flags: u8,
    /// Fixed-size fields being assembled (10 header bytes, XLEN or the header CRC).
    buf: [u8; 10],
    have: usize,
    crc: Crc32,
    first_member: bool,
}

impl HeaderParser {
    fn new(first_member: bool) -> Self {
        HeaderParser { stage: HeaderStage::Fixed, flags: 0, buf: [0; 10], have: 0, crc: Crc32::new(), first_member }
    }

    /// Consumes header bytes from `input`; returns how many. The header is complete at `HeaderStage::Done`.
    fn feed(&mut self, input: &[u8]) -> Result<usize> {
        let mut pos = 0;
        while pos < input.len() && self.stage != HeaderStage::Done {
            let rest = &input[pos..];
            let stage = self.stage;
            let used = match stage {
                HeaderStage::Fixed | HeaderStage::ExtraLen | HeaderStage::HeaderCrc => {
                    let want = match stage {
                        HeaderStage::Fixed => 10,
                        _ => 2,
                    };
                    let take = (want - self.have).min(rest.len());
                    self.buf[self.have..self.have + take].copy_from_slice(&rest[..take]);
                    self.have += take;
                    if self.have == want {
                        self.have = 0;
                        self.complete_field()?;
                    }
                    take
                }
                HeaderStage::Extra { remaining } => {
                    let take = remaining.min(rest.len());
                    self.stage = if take == remaining {
                        self.after(FLAG_EXTRA)
                    } else {
                        HeaderStage::Extra { remaining: remaining - take }
                    };
                    take
                }
                HeaderStage::Name | HeaderStage::Comment => match rest.iter().position(|&b| b == 0) {
                    Some(nul) => {
                        let flag = if stage == HeaderStage::Name { FLAG_NAME } else { FLAG_COMMENT };
                        self.stage = self.after(flag);
                        nul + 1
                    }
                    None => rest.len(),
                },
                HeaderStage::Done => unreachable!("loop condition"),
            };
            // FHCRC covers every header byte before the CRC itself.
            if stage != HeaderStage::HeaderCrc {
                self.crc.update(&rest[..used]);
            }
            pos += used;
        }
        Ok(pos)
    }

    fn complete_field(&mut self) -> Result<()> {
        match self.stage {
            HeaderStage::Fixed => {
                if self.buf[..2] != [0x1f, 0x8b] {
                    return Err(if self.first_member {
                        corrupt("the data is not gzip (no gzip magic number)")
                    } else {
                        corrupt("data after a gzip member is not another gzip member")
                    });
                }
                if self.buf[2] != 8 {
                    return Err(corrupt(format!("gzip compression method {} is not deflate", self.buf[2])));
                }
                self.flags = self.buf[3];
                if self.flags & FLAGS_RESERVED != 0 {
                    return Err(corrupt("the gzip header sets reserved flags"));
                }
                self.stage = self.after(0);
            }
            HeaderStage::ExtraLen => {
                let remaining = usize::from(u16::from_le_bytes([self.buf[0], self.buf[1]]));
                self.stage = if remaining == 0 { self.after(FLAG_EXTRA) } else { HeaderStage::Extra { remaining } };
            }
            HeaderStage::HeaderCrc => {
                let stored = u16::from_le_bytes([self.buf[0], self.buf[1]]);
                if u32::from(stored) != self.crc.finalize() & 0xffff {
                    return Err(corrupt("the gzip header CRC does not match"));
                }
                self.stage = HeaderStage::Done;
            }
            _ => unreachable!("only fixed-size stages complete fields"),
        }
        Ok(())
    }

    /// The stage after the field for `done_flag` (0: after the fixed bytes), following RFC 1952's order.
    fn after(&self, done_flag: u8) -> HeaderStage {
        let order = [
            (FLAG_EXTRA, HeaderStage::ExtraLen),
            (FLAG_NAME, HeaderStage::Name),
            (FLAG_COMMENT, HeaderStage::Comment),
            (FLAG_HCRC, HeaderStage::HeaderCrc),
        ];
        let start = order.iter().position(|(f, _)| *f == done_flag).map_or(0, |i| i + 1);
        order[start..].iter().find(|(f, _)| self.flags & f != 0).map_or(HeaderStage::Done, |(_, s)| *s)
    }
}

#[derive(Debug)]
enum MemberState {
    /// Before the first member or after a complete one: end of input is acceptable here (after one member).
    Boundary,
    Header(HeaderParser),
    Body,
    Trailer {
        bytes: [u8; 8],
        have: usize,
    },
}

/// Push-based gzip decoder for one or more concatenated members.
pub struct GzipReader {
    state: MemberState,
    inflater: Decompress,
    crc: Crc32,
    /// Computes `crc` instead of the core when set.
    host_crc: Option<HostCrc>,
    member_len: u64,
    members: u64,
}

impl Default for GzipReader {
    fn default() -> Self {
        Self::new()
    }
}

impl GzipReader {
    pub fn new() -> Self {
        GzipReader {
            state: MemberState::Boundary,
            inflater: Decompress::new(false),
            crc: Crc32::new(),
            host_crc: None,
            member_len: 0,
            members: 0,
        }
    }

    /// From now on the host computes the CRC-32 of what is inflated; the trailer check stays here.
    pub fn use_host_crc(&mut self, crc: HostCrc) {
        self.host_crc = Some(crc);
    }

    /// Inflates from `input` into the spare capacity of `out` (never growing it), crossing member boundaries.
    /// Returns the number of input bytes consumed. Stops when `out` is full, or when `input` is used up and
    /// the inflater holds no pending output (so an empty `input` still drains what it holds).
    pub fn inflate(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match &mut self.state {
                MemberState::Body => {
                    if out.len() == out.capacity() {
                        break;
                    }
                    let (in_before, out_before) = (self.inflater.total_in(), out.len());
                    let status = self
                        .inflater
                        .decompress_vec(rest, out, FlushDecompress::None)
                        .map_err(|e| corrupt(format!("the deflate data is corrupt ({e})")))?;
                    let used = (self.inflater.total_in() - in_before) as usize;
                    let produced = &out[out_before..];
                    match &mut self.host_crc {
                        Some(host) if !produced.is_empty() => {
                            self.crc = Crc32::resume(host(self.crc.finalize(), produced)?)
                        }
                        Some(_) => {}
                        None => self.crc.update(produced),
                    }
                    self.member_len += produced.len() as u64;
                    pos += used;
                    if status == Status::StreamEnd {
                        self.state = MemberState::Trailer { bytes: [0; 8], have: 0 };
                    } else if used == 0 && produced.is_empty() {
                        if rest.is_empty() {
                            break;
                        }
                        return Err(corrupt("the deflate data cannot be decoded"));
                    }
                }
                _ if rest.is_empty() => break,
                MemberState::Boundary => self.state = MemberState::Header(HeaderParser::new(self.members == 0)),
                MemberState::Header(parser) => {
                    pos += parser.feed(rest)?;
                    if parser.stage == HeaderStage::Done {
                        self.inflater.reset(false);
                        self.crc = Crc32::new();
                        self.member_len = 0;
                        self.state = MemberState::Body;
                    }
                }
                MemberState::Trailer { bytes, have } => {
                    let take = (8 - *have).min(rest.len());
                    bytes[*have..*have + take].copy_from_slice(&rest[..take]);
                    *have += take;
                    pos += take;
                    if *have == 8 {
                        let expected = gzip_trailer(self.crc.finalize(), self.member_len);
                        if expected[..4] != bytes[..4] {
                            return Err(corrupt("the gzip CRC-32 does not match the data"));
                        }
                        if expected[4..] != bytes[4..] {
                            return Err(corrupt("the gzip length field does not match the data"));
                        }
                        self.members += 1;
                        self.state = MemberState::Boundary;
                    }
                }
            }
        }
        Ok(pos)
    }

    /// True when the input so far ends exactly after a complete member (a valid end of stream).
    pub fn at_end_of_member(&self) -> bool {
        matches!(self.state, MemberState::Boundary) && self.members > 0
    }
}

fn corrupt(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::GzipCorrupt, message)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::sample;
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::GzBuilder;
    use std::io::{Read, Write};

    fn inflate_raw(deflated: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(deflated).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn incompressible_blocks_are_stored_and_compressible_ones_deflated() {
        // xorshift: deterministic bytes with no structure deflate can use.
        let mut state = 0x9e3779b97f4a7c15u64;
        let random: Vec<u8> = (0..BLOCK_SIZE)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        let stored = deflate_block(&random, true);
        assert!(stored.len() > random.len() && stored.len() < random.len() + random.len() / 1000, "{}", stored.len());
        assert_eq!(inflate_raw(&stored), random);
        let text = sample(BLOCK_SIZE, 7);
        let deflated = deflate_block(&text, true);
        assert!(deflated.len() * 10 < text.len() * 9, "{}", deflated.len());
        assert_eq!(inflate_raw(&deflated), text);
    }

    fn encode_in_chunks(data: &[u8], chunk: usize) -> Vec<u8> {
        let mut enc = BlockGzipEncoder::new();
        let mut out = Vec::new();
        for c in data.chunks(chunk.max(1)) {
            enc.write(c);
            out.extend(enc.take_output());
        }
        enc.finish();
        out.extend(enc.take_output());
        out
    }

    /// Decodes with our reader, pushing `chunk` bytes at a time into `out_cap`-sized output buffers.
    fn decode(gz: &[u8], chunk: usize, out_cap: usize) -> Result<Vec<u8>> {
        decode_with(GzipReader::new(), gz, chunk, out_cap)
    }

    fn decode_with(mut reader: GzipReader, gz: &[u8], chunk: usize, out_cap: usize) -> Result<Vec<u8>> {
        let mut data = Vec::new();
        for c in gz.chunks(chunk) {
            let mut pos = 0;
            loop {
                let mut out = Vec::with_capacity(out_cap);
                pos += reader.inflate(&c[pos..], &mut out)?;
                data.extend_from_slice(&out);
                if pos == c.len() && out.is_empty() {
                    break;
                }
            }
        }
        if !reader.at_end_of_member() {
            return Err(Error::new(ErrorCode::Truncated, "incomplete"));
        }
        Ok(data)
    }

    #[test]
    fn a_host_crc_is_compared_with_the_trailer() {
        let data = sample(300_000, 3);
        let gz = encode_in_chunks(&data, data.len());
        let with = |crc: HostCrc| {
            let mut reader = GzipReader::new();
            reader.use_host_crc(crc);
            decode_with(reader, &gz, 4096, 65_536)
        };
        let agrees = |running: u32, bytes: &[u8]| {
            let mut hasher = crc32fast::Hasher::new_with_initial(running);
            hasher.update(bytes);
            Ok(hasher.finalize())
        };
        assert_eq!(with(Box::new(agrees)).unwrap(), data);
        let disagrees = with(Box::new(move |running: u32, bytes: &[u8]| agrees(running, bytes).map(|crc| crc ^ 1)));
        assert_eq!(disagrees.unwrap_err().code, ErrorCode::GzipCorrupt);
        let fails = with(Box::new(|_: u32, _: &[u8]| Err(Error::new(ErrorCode::InvalidState, "no CRC here"))));
        assert_eq!(fails.unwrap_err().code, ErrorCode::InvalidState);
    }

    #[test]
    fn block_gzip_is_standard_gzip_and_independent_of_chunking() {
        let data = sample(BLOCK_SIZE * 2 + 12_345, 1);
        let reference = encode_in_chunks(&data, data.len());
        assert_eq!(reference[..10], GZIP_HEADER);
        for chunk in [1, 511, 4096, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1] {
            let chunked =
                if chunk == 1 { encode_in_chunks(&data[..50_000], 1) } else { encode_in_chunks(&data, chunk) };
            let expected = if chunk == 1 { encode_in_chunks(&data[..50_000], 50_000) } else { reference.clone() };
            assert_eq!(chunked, expected, "chunk {chunk}");
        }
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&reference[..]).read_to_end(&mut inflated).unwrap();
        assert_eq!(inflated, data);
    }

    #[test]
    fn parallel_deflate_gives_the_same_bytes_as_the_encoder() {
        let data = sample(BLOCK_SIZE * 3 + 777, 2);
        let blocks: Vec<&[u8]> = data.chunks(BLOCK_SIZE).collect();
        let last = blocks.len() - 1;
        let deflated: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> =
                blocks.iter().enumerate().map(|(i, b)| s.spawn(move || deflate_block(b, i == last))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut parallel = GZIP_HEADER.to_vec();
        deflated.iter().for_each(|d| parallel.extend_from_slice(d));
        parallel.extend_from_slice(&gzip_trailer(crc32fast::hash(&data), data.len() as u64));
        assert_eq!(parallel, encode_in_chunks(&data, 65_536));
    }

    #[test]
    fn the_encoder_records_each_blocks_deflated_size() {
        let data = sample(BLOCK_SIZE * 2 + 99, 8);
        let mut enc = BlockGzipEncoder::new();
        for c in data.chunks(300_000) {
            enc.write(c);
        }
        enc.finish();
        let expected: Vec<u64> =
            data.chunks(BLOCK_SIZE).enumerate().map(|(i, b)| deflate_block(b, i == 2).len() as u64).collect();
        assert_eq!(enc.block_sizes(), expected);
        let gz = enc.take_output();
        assert_eq!(gz.len() as u64, 10 + expected.iter().sum::<u64>() + 8);
    }

    #[test]
    fn a_stream_of_exact_blocks_ends_with_an_empty_final_block() {
        let data = sample(BLOCK_SIZE, 3);
        let gz = encode_in_chunks(&data, 1000);
        let empty_final = deflate_block(&[], true);
        assert_eq!(gz[gz.len() - 8 - empty_final.len()..gz.len() - 8], empty_final[..]);
        assert_eq!(decode(&gz, 4096, 65_536).unwrap(), data);
        assert_eq!(decode(&encode_in_chunks(&[], 1), 1, 16).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn reader_handles_any_chunking_and_tiny_output_buffers() {
        let data = sample(300_000, 4);
        let gz = encode_in_chunks(&data, 10_000);
        for (chunk, cap) in [(1, 1), (7, 100), (1000, 1), (gz.len(), 256 * 1024), (65_536, 3)] {
            assert_eq!(decode(&gz, chunk, cap).unwrap(), data, "chunk {chunk}, cap {cap}");
        }
    }

    #[test]
    fn reader_accepts_other_writers_header_fields_and_multiple_members() {
        let data = sample(100_000, 5);
        let mut enc = GzBuilder::new()
            .filename("data.tar")
            .comment("made elsewhere")
            .extra(vec![1, 2, 3, 4])
            .mtime(1_700_000_000)
            .write(Vec::new(), Compression::default());
        enc.write_all(&data[..60_000]).unwrap();
        let mut gz = enc.finish().unwrap();
        let mut second = GzEncoder::new(Vec::new(), Compression::best());
        second.write_all(&data[60_000..]).unwrap();
        gz.extend(second.finish().unwrap());
        for chunk in [1, 3, 4096, gz.len()] {
            assert_eq!(decode(&gz, chunk, 8192).unwrap(), data, "chunk {chunk}");
        }
    }

    /// A member with FHCRC set: header CRC-16 over the header bytes before it.
    fn member_with_header_crc(data: &[u8], corrupt_crc: bool) -> Vec<u8> {
        let mut header = vec![0x1f, 0x8b, 8, FLAG_HCRC | FLAG_NAME, 0, 0, 0, 0, 0, 3];
        header.extend_from_slice(b"name\0");
        let crc16 = (crc32fast::hash(&header) & 0xffff) as u16 ^ u16::from(corrupt_crc);
        header.extend_from_slice(&crc16.to_le_bytes());
        header.extend(deflate_block(data, true));
        header.extend_from_slice(&gzip_trailer(crc32fast::hash(data), data.len() as u64));
        header
    }

    #[test]
    fn header_crc_is_checked() {
        let good = member_with_header_crc(b"hello", false);
        for chunk in [1, 2, good.len()] {
            assert_eq!(decode(&good, chunk, 64).unwrap(), b"hello");
        }
        assert_eq!(decode(&member_with_header_crc(b"hello", true), 1, 64).unwrap_err().code, ErrorCode::GzipCorrupt);
    }

    #[test]
    fn corruption_is_detected() {
        let data = sample(50_000, 6);
        let gz = encode_in_chunks(&data, 50_000);
        let n = gz.len();
        let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut flip = |what, at: usize| {
            let mut g = gz.clone();
            g[at] ^= 0x01;
            cases.push((what, g));
        };
        flip("magic", 0);
        flip("method", 2);
        flip("crc32", n - 8);
        flip("isize", n - 1);
        let mut reserved = gz.clone();
        reserved[3] = 0x20;
        cases.push(("reserved flag", reserved));
        let mut garbage = gz.clone();
        garbage.extend_from_slice(b"trailing junk");
        cases.push(("trailing garbage", garbage));
        let mut bad_deflate = gz.clone();
        bad_deflate[10] = 0xff; // BTYPE 11 is reserved
        cases.push(("deflate data", bad_deflate));
        for (what, g) in cases {
            assert_eq!(decode(&g, 1000, 4096).unwrap_err().code, ErrorCode::GzipCorrupt, "{what}");
        }
        assert_eq!(decode(&gz[..n - 3], 1000, 4096).unwrap_err().code, ErrorCode::Truncated);
    }
}
