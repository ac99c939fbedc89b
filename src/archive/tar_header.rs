//! ustar headers, PAX `x` extended headers and GNU long names: deterministic encoding for the writer and
//! strict decoding for the reader. Only header blocks live here; entry data is streamed by the callers.

use super::PackEntryKind;
use crate::error::{Error, ErrorCode, Result};

/// Size of a tar block: every header, and every entry's data rounded up.
pub const BLOCK: usize = 512;

/// Largest value an octal ustar `size` or `mtime` field holds (11 digits): 8 GiB - 1.
const MAX_OCTAL_12: u64 = (1 << 33) - 1;
/// `mode` of regular files and of PAX headers, and of executable files and symlinks.
const MODE_FILE: u32 = 0o644;
const MODE_EXECUTABLE: u32 = 0o755;
const MODE_SYMLINK: u32 = 0o777;
/// Name of every PAX header the writer emits. A fixed name keeps output independent of the entry name;
/// readers that understand PAX never see it, older readers extract it as a small file (as with Python).
const PAX_HEADER_NAME: &str = "././@PaxHeader";

/// ustar typeflags the reader distinguishes.
pub mod typeflag {
    pub const REGULAR: u8 = b'0';
    /// Pre-POSIX writers mark regular files with NUL.
    pub const REGULAR_OLD: u8 = 0;
    pub const HARD_LINK: u8 = b'1';
    pub const SYMLINK: u8 = b'2';
    pub const DIRECTORY: u8 = b'5';
    pub const PAX_EXTENDED: u8 = b'x';
    pub const PAX_GLOBAL: u8 = b'g';
    pub const GNU_LONG_NAME: u8 = b'L';
    pub const GNU_LONG_LINK: u8 = b'K';
}

// Field ranges of a ustar header block.
const NAME: (usize, usize) = (0, 100);
const MODE: (usize, usize) = (100, 108);
const UID: (usize, usize) = (108, 116);
const GID: (usize, usize) = (116, 124);
const SIZE: (usize, usize) = (124, 136);
const MTIME: (usize, usize) = (136, 148);
const CHECKSUM: (usize, usize) = (148, 156);
const TYPEFLAG: usize = 156;
const LINKNAME: (usize, usize) = (157, 257);
const MAGIC: (usize, usize) = (257, 263);
const VERSION: (usize, usize) = (263, 265);
const DEVMAJOR: (usize, usize) = (329, 337);
const DEVMINOR: (usize, usize) = (337, 345);
const PREFIX: (usize, usize) = (345, 500);

const MAGIC_POSIX: &[u8; 6] = b"ustar\0";
/// GNU tar's pre-POSIX magic + version; its prefix field holds other data, so it is never read as a prefix.
const MAGIC_GNU: &[u8; 8] = b"ustar  \0";

/// Bytes of zero padding that follow `size` bytes of entry data.
pub fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// `size` rounded up to whole blocks.
pub fn padded(size: u64) -> u64 {
    size + padding(size)
}

/// Appends the header block(s) of one entry: a PAX `x` header first when the name or link target is not
/// ASCII or does not fit ustar, or the size needs more than 11 octal digits; then the ustar header.
/// Owner 0:0, empty user/group names, mode 0644/0755 (files) or 0777 (symlinks), the given mtime.
pub fn encode_entry(out: &mut Vec<u8>, name: &str, kind: &PackEntryKind, mtime: u64) {
    let (typeflag, mode, size, link) = match kind {
        PackEntryKind::File { size, executable } => {
            (typeflag::REGULAR, if *executable { MODE_EXECUTABLE } else { MODE_FILE }, *size, "")
        }
        PackEntryKind::Symlink { target } => (typeflag::SYMLINK, MODE_SYMLINK, 0, target.as_str()),
    };
    let split = split_ustar_name(name);
    let link_fits = link_fits_ustar(link);
    let records = pax_records(name, kind);
    if !records.is_empty() {
        let pax = UstarFields {
            name: PAX_HEADER_NAME.as_bytes(),
            prefix: b"",
            mode: MODE_FILE,
            size: records.len() as u64,
            mtime,
            typeflag: typeflag::PAX_EXTENDED,
            link: b"",
        };
        out.extend_from_slice(&pax.encode());
        out.extend_from_slice(&records);
        out.resize(out.len() + padding(records.len() as u64) as usize, 0);
    }

    // When PAX carries the real name or target, the ustar fields get a deterministic truncation of it.
    let (prefix, short_name) = split.unwrap_or((b"", truncate_utf8(name, NAME.1 - NAME.0)));
    let link = if link_fits { link.as_bytes() } else { truncate_utf8(link, LINKNAME.1 - LINKNAME.0) };
    let fields = UstarFields { name: short_name, prefix, mode, size, mtime, typeflag, link };
    out.extend_from_slice(&fields.encode());
}

/// Bytes [`encode_entry`] appends for this entry: the ustar block, and before it the PAX header and its
/// padded records when needed. It does not depend on the mtime, so a reader can compute where every entry's
/// data starts from the manifest alone.
pub fn encoded_len(name: &str, kind: &PackEntryKind) -> u64 {
    let records = pax_records(name, kind).len() as u64;
    let pax = if records == 0 { 0 } else { BLOCK as u64 + padded(records) };
    pax + BLOCK as u64
}

/// The PAX `x` records an entry needs, in the order `linkpath`, `path`, `size`; empty when ustar suffices.
fn pax_records(name: &str, kind: &PackEntryKind) -> Vec<u8> {
    let (size, link) = match kind {
        PackEntryKind::File { size, .. } => (*size, ""),
        PackEntryKind::Symlink { target } => (0, target.as_str()),
    };
    let mut records = Vec::new();
    if !link_fits_ustar(link) {
        push_pax_record(&mut records, "linkpath", link);
    }
    if split_ustar_name(name).is_none() {
        push_pax_record(&mut records, "path", name);
    }
    if size > MAX_OCTAL_12 {
        push_pax_record(&mut records, "size", &size.to_string());
    }
    records
}

fn link_fits_ustar(link: &str) -> bool {
    link.is_ascii() && link.len() <= LINKNAME.1 - LINKNAME.0
}

/// Splits an ASCII name into ustar (prefix, name) at the last '/' that makes both fit; None if impossible.
fn split_ustar_name(name: &str) -> Option<(&[u8], &[u8])> {
    let bytes = name.as_bytes();
    if !name.is_ascii() {
        return None;
    }
    if bytes.len() <= NAME.1 - NAME.0 {
        return Some((b"", bytes));
    }
    let max_prefix = PREFIX.1 - PREFIX.0;
    let slash = bytes[..bytes.len().min(max_prefix + 1)].iter().rposition(|&b| b == b'/')?;
    let rest = &bytes[slash + 1..];
    (!rest.is_empty() && rest.len() <= NAME.1 - NAME.0).then(|| (&bytes[..slash], rest))
}

fn truncate_utf8(s: &str, max: usize) -> &[u8] {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s.as_bytes()[..end]
}

/// Appends one PAX record, `"<len> <key>=<value>\n"`, where len counts the whole record including itself.
pub fn push_pax_record(out: &mut Vec<u8>, key: &str, value: &str) {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while len != body + decimal_digits(len) {
        len = body + decimal_digits(len);
    }
    out.extend_from_slice(format!("{len} {key}={value}\n").as_bytes());
}

fn decimal_digits(n: usize) -> usize {
    n.to_string().len()
}

/// The fields the writer sets; everything else is zero (uid, gid, uname, gname, devices).
struct UstarFields<'a> {
    name: &'a [u8],
    prefix: &'a [u8],
    mode: u32,
    size: u64,
    mtime: u64,
    typeflag: u8,
    link: &'a [u8],
}

impl UstarFields<'_> {
    fn encode(&self) -> [u8; BLOCK] {
        let mut block = [0u8; BLOCK];
        block[NAME.0..NAME.0 + self.name.len()].copy_from_slice(self.name);
        put_numeric(&mut block[MODE.0..MODE.1], u64::from(self.mode));
        put_numeric(&mut block[UID.0..UID.1], 0);
        put_numeric(&mut block[GID.0..GID.1], 0);
        put_numeric(&mut block[SIZE.0..SIZE.1], self.size);
        put_numeric(&mut block[MTIME.0..MTIME.1], self.mtime);
        block[TYPEFLAG] = self.typeflag;
        block[LINKNAME.0..LINKNAME.0 + self.link.len()].copy_from_slice(self.link);
        block[MAGIC.0..MAGIC.1].copy_from_slice(MAGIC_POSIX);
        block[VERSION.0..VERSION.1].copy_from_slice(b"00");
        put_numeric(&mut block[DEVMAJOR.0..DEVMAJOR.1], 0);
        put_numeric(&mut block[DEVMINOR.0..DEVMINOR.1], 0);
        block[PREFIX.0..PREFIX.0 + self.prefix.len()].copy_from_slice(self.prefix);
        let sum = checksum(&block);
        block[CHECKSUM.0..CHECKSUM.1].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        block
    }
}

/// Octal with leading zeros and a NUL terminator when the value fits; otherwise GNU base-256 (first byte
/// 0x80, big-endian value in the rest), which every major tar reads.
fn put_numeric(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    if digits * 3 >= 64 || value >> (digits * 3) == 0 {
        field[..digits].copy_from_slice(format!("{value:0digits$o}").as_bytes());
        field[digits] = 0;
    } else {
        field.fill(0);
        field[0] = 0x80;
        let n = field.len();
        field[n - 8..].copy_from_slice(&value.to_be_bytes());
    }
}

/// Sum of the header bytes with the checksum field counted as spaces.
fn checksum(block: &[u8; BLOCK]) -> u64 {
    let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
    let field: u64 = block[CHECKSUM.0..CHECKSUM.1].iter().map(|&b| u64::from(b)).sum();
    sum - field + 8 * u64::from(b' ')
}

/// Historic writers summed signed bytes; GNU tar and libarchive accept either sum, so do we.
fn checksum_signed(block: &[u8; BLOCK]) -> i64 {
    let sum: i64 = block.iter().map(|&b| i64::from(b as i8)).sum();
    let field: i64 = block[CHECKSUM.0..CHECKSUM.1].iter().map(|&b| i64::from(b as i8)).sum();
    sum - field + 8 * i64::from(b' ')
}

pub fn is_zero_block(block: &[u8; BLOCK]) -> bool {
    block.iter().all(|&b| b == 0)
}

/// A decoded ustar header. Names are raw bytes: the reader decides what is acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: Vec<u8>,
    pub link_name: Vec<u8>,
    pub size: u64,
    pub mode: u32,
    pub typeflag: u8,
}

/// Decodes a non-zero header block: checksum verified, ustar (POSIX or GNU) magic required, prefix joined
/// to the name for POSIX headers.
pub fn decode(block: &[u8; BLOCK]) -> Result<Header> {
    let stored = parse_numeric(&block[CHECKSUM.0..CHECKSUM.1], "checksum")?;
    if stored != checksum(block) && i64::try_from(stored).ok() != Some(checksum_signed(block)) {
        return Err(corrupt("a tar header's checksum does not match its contents"));
    }
    let magic = &block[MAGIC.0..MAGIC.1];
    let is_gnu = block[MAGIC.0..VERSION.1] == MAGIC_GNU[..];
    if magic != MAGIC_POSIX && !is_gnu {
        return Err(corrupt("a tar header has no ustar magic"));
    }
    let mut name = field_bytes(&block[NAME.0..NAME.1]).to_vec();
    let prefix = field_bytes(&block[PREFIX.0..PREFIX.1]);
    if !is_gnu && !prefix.is_empty() {
        let mut joined = Vec::with_capacity(prefix.len() + 1 + name.len());
        joined.extend_from_slice(prefix);
        joined.push(b'/');
        joined.extend_from_slice(&name);
        name = joined;
    }
    let mode = parse_numeric(&block[MODE.0..MODE.1], "mode")?;
    Ok(Header {
        name,
        link_name: field_bytes(&block[LINKNAME.0..LINKNAME.1]).to_vec(),
        size: parse_numeric(&block[SIZE.0..SIZE.1], "size")?,
        mode: u32::try_from(mode).map_err(|_| corrupt("a tar header's mode is out of range"))?,
        typeflag: block[TYPEFLAG],
    })
}

/// A NUL-terminated (or full-width) string field.
fn field_bytes(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// Octal (leading spaces allowed, terminated by NUL or space) or GNU base-256 (positive only).
fn parse_numeric(field: &[u8], what: &str) -> Result<u64> {
    if field[0] & 0x80 != 0 {
        if field[0] != 0x80 || field[1..field.len() - 8].iter().any(|&b| b != 0) {
            return Err(corrupt(format!("a tar header's {what} is negative or beyond 64 bits")));
        }
        let mut be = [0u8; 8];
        be.copy_from_slice(&field[field.len() - 8..]);
        return Ok(u64::from_be_bytes(be));
    }
    let start = field.iter().position(|&b| b != b' ').unwrap_or(field.len());
    let digits_end = field[start..].iter().position(|&b| b == 0 || b == b' ').map_or(field.len(), |i| start + i);
    if field[digits_end..].iter().any(|&b| b != 0 && b != b' ') {
        return Err(corrupt(format!("a tar header's {what} field is malformed")));
    }
    field[start..digits_end].iter().try_fold(0u64, |acc, &b| match b {
        b'0'..=b'7' => Ok((acc << 3) | u64::from(b - b'0')),
        _ => Err(corrupt(format!("a tar header's {what} field is not octal"))),
    })
}

/// What PAX `x` records override for the next entry. Keys other than these are ignored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PaxOverrides {
    pub path: Option<Vec<u8>>,
    pub linkpath: Option<Vec<u8>>,
    pub size: Option<u64>,
    /// A `GNU.sparse.*` key: the entry's data is a sparse map, not its content.
    pub sparse: bool,
}

impl PaxOverrides {
    /// Applies the records of one `x` header (several headers before an entry accumulate, later wins).
    /// An empty value removes the override, as POSIX says.
    pub fn apply(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let space = data.iter().position(|&b| b == b' ').ok_or_else(|| corrupt("a PAX record has no length"))?;
            let len: usize = std::str::from_utf8(&data[..space])
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| corrupt("a PAX record's length is not a decimal number"))?;
            if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
                return Err(corrupt("a PAX record's length does not match its contents"));
            }
            let record = &data[space + 1..len - 1];
            let eq = record.iter().position(|&b| b == b'=').ok_or_else(|| corrupt("a PAX record has no '='"))?;
            let (key, value) = (&record[..eq], &record[eq + 1..]);
            let value = (!value.is_empty()).then(|| value.to_vec());
            match key {
                b"path" => self.path = value,
                b"linkpath" => self.linkpath = value,
                b"size" => self.size = value.map(|v| parse_decimal(&v)).transpose()?,
                _ if key.starts_with(b"GNU.sparse.") => self.sparse = true,
                _ => {}
            }
            data = &data[len..];
        }
        Ok(())
    }
}

fn parse_decimal(v: &[u8]) -> Result<u64> {
    v.iter()
        .try_fold(0u64, |acc, &b| match b {
            b'0'..=b'9' => acc.checked_mul(10).and_then(|a| a.checked_add(u64::from(b - b'0'))),
            _ => None,
        })
        .ok_or_else(|| corrupt("a PAX size record is not a decimal number within 64 bits"))
}

/// The name a GNU `L`/`K` header carries: its data up to the first NUL.
pub fn gnu_long_name(data: &[u8]) -> Vec<u8> {
    field_bytes(data).to_vec()
}

fn corrupt(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::TarCorrupt, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64) -> PackEntryKind {
        PackEntryKind::File { size, executable: false }
    }

    fn block(bytes: &[u8]) -> &[u8; BLOCK] {
        bytes.try_into().unwrap()
    }

    /// Decodes the output of `encode_entry` back to (name, link, size), applying any PAX header.
    fn decode_entry(bytes: &[u8]) -> (Header, PaxOverrides) {
        let first = decode(block(&bytes[..BLOCK])).unwrap();
        if first.typeflag != typeflag::PAX_EXTENDED {
            assert_eq!(bytes.len(), BLOCK);
            return (first, PaxOverrides::default());
        }
        assert_eq!(first.name, PAX_HEADER_NAME.as_bytes());
        let data_end = BLOCK + first.size as usize;
        let mut pax = PaxOverrides::default();
        pax.apply(&bytes[BLOCK..data_end]).unwrap();
        let header_at = BLOCK + padded(first.size) as usize;
        assert_eq!(bytes.len(), header_at + BLOCK);
        (decode(block(&bytes[header_at..])).unwrap(), pax)
    }

    #[test]
    fn short_ascii_name_is_a_single_ustar_block_with_fixed_fields() {
        let mut out = Vec::new();
        encode_entry(&mut out, "artifacts/a.txt", &PackEntryKind::File { size: 5, executable: true }, 1_700_000_000);
        assert_eq!(out.len(), BLOCK);
        assert_eq!(&out[..15], b"artifacts/a.txt");
        assert_eq!(&out[MODE.0..MODE.1], b"0000755\0");
        assert_eq!(&out[UID.0..GID.1], b"0000000\x000000000\0");
        assert_eq!(&out[SIZE.0..SIZE.1], b"00000000005\0");
        assert_eq!(&out[MTIME.0..MTIME.1], format!("{:011o}\0", 1_700_000_000u64).as_bytes());
        assert_eq!(&out[MAGIC.0..VERSION.1], b"ustar\x0000");
        assert!(out[265..329].iter().all(|&b| b == 0), "uname and gname are empty");
        let h = decode(block(&out)).unwrap();
        assert_eq!((h.name.as_slice(), h.size, h.mode, h.typeflag), (&b"artifacts/a.txt"[..], 5, 0o755, b'0'));
    }

    #[test]
    fn long_ascii_name_uses_prefix_and_name_without_pax() {
        let name = format!("artifacts/{}/{}", "d".repeat(120), "f".repeat(90));
        let mut out = Vec::new();
        encode_entry(&mut out, &name, &file(1), 0);
        assert_eq!(out.len(), BLOCK, "fits ustar prefix + name");
        assert_eq!(decode(block(&out)).unwrap().name, name.as_bytes());
    }

    #[test]
    fn names_that_do_not_fit_ustar_or_are_not_ascii_go_to_pax() {
        for name in [
            format!("artifacts/{}", "x".repeat(200)),
            format!("artifacts/{}/{}", "d".repeat(160), "f".repeat(10)),
            "artifacts/café/naïve.txt".to_string(),
            format!("artifacts/{}", "é".repeat(300)),
        ] {
            let mut out = Vec::new();
            encode_entry(&mut out, &name, &file(3), 0);
            let (header, pax) = decode_entry(&out);
            assert_eq!(pax.path.as_deref(), Some(name.as_bytes()), "{name}");
            assert!(header.name.len() <= 100 && std::str::from_utf8(&header.name).is_ok());
            assert_eq!(header.size, 3);
        }
    }

    #[test]
    fn symlink_targets_go_to_pax_when_long_or_not_ascii() {
        let mut out = Vec::new();
        encode_entry(&mut out, "artifacts/l", &PackEntryKind::Symlink { target: "a/b".into() }, 0);
        let h = decode(block(&out)).unwrap();
        assert_eq!((h.typeflag, h.mode, h.link_name.as_slice(), h.size), (b'2', 0o777, &b"a/b"[..], 0));

        for target in ["t".repeat(101), "ünï".to_string()] {
            let mut out = Vec::new();
            encode_entry(&mut out, "artifacts/l", &PackEntryKind::Symlink { target: target.clone() }, 0);
            let (_, pax) = decode_entry(&out);
            assert_eq!(pax.linkpath.as_deref(), Some(target.as_bytes()));
            assert_eq!(pax.path, None);
        }
    }

    #[test]
    fn sizes_of_8_gib_and_more_use_pax_and_base_256() {
        let size = 9 * (1u64 << 30) + 7;
        let mut out = Vec::new();
        encode_entry(&mut out, "artifacts/big.bin", &file(size), 0);
        let (header, pax) = decode_entry(&out);
        assert_eq!(pax.size, Some(size));
        assert_eq!(header.size, size, "base-256 size field agrees with the PAX record");

        let mut out = Vec::new();
        encode_entry(&mut out, "artifacts/edge.bin", &file(MAX_OCTAL_12), 0);
        assert_eq!(out.len(), BLOCK, "8 GiB - 1 still fits octal");
        assert_eq!(decode(block(&out)).unwrap().size, MAX_OCTAL_12);
    }

    #[test]
    fn encoded_len_is_what_encode_entry_writes() {
        let long_ascii = format!("{}/{}", "d".repeat(150), "f".repeat(90));
        let unsplittable = "x".repeat(180);
        let huge_pax_name = format!("{}ü", "n".repeat(600));
        let names =
            ["a", "manifest.json", long_ascii.as_str(), unsplittable.as_str(), "ünïcode", huge_pax_name.as_str()];
        let kinds = [
            file(0),
            file(12_345),
            file(MAX_OCTAL_12 + 1),
            PackEntryKind::Symlink { target: "short".into() },
            PackEntryKind::Symlink { target: "t".repeat(101) },
            PackEntryKind::Symlink { target: "zielö".into() },
        ];
        for name in names {
            for kind in &kinds {
                let mut out = Vec::new();
                encode_entry(&mut out, name, kind, 1_700_000_000);
                assert_eq!(encoded_len(name, kind), out.len() as u64, "{name:?} {kind:?}");
            }
        }
    }

    #[test]
    fn pax_record_lengths_count_themselves() {
        for value_len in 0..300 {
            let mut rec = Vec::new();
            push_pax_record(&mut rec, "path", &"v".repeat(value_len));
            let space = rec.iter().position(|&b| b == b' ').unwrap();
            let len: usize = std::str::from_utf8(&rec[..space]).unwrap().parse().unwrap();
            assert_eq!(len, rec.len(), "value length {value_len}");
        }
    }

    #[test]
    fn corrupt_headers_are_rejected() {
        let mut out = Vec::new();
        encode_entry(&mut out, "artifacts/a", &file(1), 0);
        let mut bad_sum = out.clone();
        bad_sum[0] ^= 1;
        assert_eq!(decode(block(&bad_sum)).unwrap_err().code, ErrorCode::TarCorrupt);

        let mut no_magic = out.clone();
        no_magic[MAGIC.0..VERSION.1].fill(0);
        let sum = checksum(block(&no_magic));
        no_magic[CHECKSUM.0..CHECKSUM.1].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        assert_eq!(decode(block(&no_magic)).unwrap_err().code, ErrorCode::TarCorrupt);

        let mut bad_size = out.clone();
        bad_size[SIZE.0] = b'9';
        let sum = checksum(block(&bad_size));
        bad_size[CHECKSUM.0..CHECKSUM.1].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        assert_eq!(decode(block(&bad_size)).unwrap_err().code, ErrorCode::TarCorrupt);
    }

    #[test]
    fn numeric_fields_accept_common_writer_variants() {
        assert_eq!(parse_numeric(b"  755 \0\0", "mode").unwrap(), 0o755);
        assert_eq!(parse_numeric(b"\0\0\0\0\0\0\0\0", "mode").unwrap(), 0);
        assert_eq!(parse_numeric(b"00000000012 ", "size").unwrap(), 10);
        let mut base256 = [0u8; 12];
        base256[0] = 0x80;
        base256[4..].copy_from_slice(&(1u64 << 40).to_be_bytes());
        assert_eq!(parse_numeric(&base256, "size").unwrap(), 1 << 40);
        base256[0] = 0xff;
        assert!(parse_numeric(&base256, "size").is_err(), "negative base-256");
        assert!(parse_numeric(b"0000001x000\0", "size").is_err());
        assert!(parse_numeric(b"00000 01\0", "mode").is_err(), "digits after the terminator");
    }

    #[test]
    fn gnu_headers_do_not_read_the_prefix_field() {
        let mut b =
            UstarFields { name: b"n", prefix: b"", mode: 0o644, size: 0, mtime: 0, typeflag: b'0', link: b"" }.encode();
        b[MAGIC.0..VERSION.1].copy_from_slice(MAGIC_GNU);
        b[PREFIX.0..PREFIX.0 + 4].copy_from_slice(b"junk");
        let sum = checksum(&b);
        b[CHECKSUM.0..CHECKSUM.1].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        assert_eq!(decode(&b).unwrap().name, b"n");
    }

    #[test]
    fn pax_records_parse_and_reject_malformed_input() {
        let mut p = PaxOverrides::default();
        p.apply(b"12 path=a/b\n21 linkpath=target/x\n16 size=1234567\n13 mtime=1.5\n").unwrap();
        assert_eq!(p.path.as_deref(), Some(&b"a/b"[..]));
        assert_eq!(p.linkpath.as_deref(), Some(&b"target/x"[..]));
        assert_eq!(p.size, Some(1_234_567));
        assert!(!p.sparse);
        p.apply(b"8 path=\n").unwrap();
        assert_eq!(p.path, None, "an empty value removes the override");
        let mut sparse = PaxOverrides::default();
        sparse.apply(b"22 GNU.sparse.major=1\n").unwrap();
        assert!(sparse.sparse);
        for bad in
            [&b"13 path=a/b\n"[..], b"x path=a\n", b"7 path\n", b"11 path=a/b\n", b"11 size=1x\n", b"99 path=a\n"]
        {
            assert_eq!(PaxOverrides::default().apply(bad).unwrap_err().code, ErrorCode::TarCorrupt, "{bad:?}");
        }
    }

    #[test]
    fn base_256_is_used_for_times_beyond_octal() {
        let mut out = Vec::new();
        encode_entry(&mut out, "a", &file(0), 1 << 40);
        assert_eq!(out[MTIME.0], 0x80);
        assert_eq!(parse_numeric(&out[MTIME.0..MTIME.1], "mtime").unwrap(), 1 << 40);
    }
}
