//! The tar layer both readers drive: header blocks, PAX/GNU extension headers, entry data and its
//! padding, the end-of-archive marker and the zeros allowed after it. It decides nothing about entries:
//! each reader judges an entry's header and chooses how its data is read.

use super::crc::HostCrc;
use super::limits::{Limits, MAX_EXTENSION_BYTES, MAX_EXTENSION_HEADERS, MAX_TRAILING_ZEROS};
use super::stream::TarStream;
use super::tar_header::{self, is_zero_block, padding, typeflag, PaxOverrides, BLOCK};
use crate::error::{Error, ErrorCode, Result};

/// An entry's header with the extension headers before it applied.
pub(super) struct RawEntry {
    /// PAX `path`, else the GNU long name, else the ustar name.
    pub name: Vec<u8>,
    /// PAX `linkpath`, else the GNU long link name, else the ustar link name.
    pub link_name: Vec<u8>,
    pub typeflag: u8,
    /// PAX `size`, else the ustar size.
    pub size: u64,
    pub mode: u32,
    /// A PAX `GNU.sparse.*` record came with it: its data is a sparse map, not its content.
    pub sparse: bool,
}

pub(super) enum TarEvent {
    /// An entry's header. Its data follows as `Data` pieces and a `DataEnd`, unless the reader calls
    /// [`TarScanner::collect_data`] or [`TarScanner::skip_data`] first.
    Entry(RawEntry),
    /// The next piece of the entry's data (at most [`super::stream::TAR_BUFFER`] bytes).
    Data(Vec<u8>),
    /// The entry's data is complete; its padding is skipped on the way to the next header.
    DataEnd,
    /// The entry's whole data, as [`TarScanner::collect_data`] asked.
    Collected(Vec<u8>),
    /// The end-of-archive marker; only zero bytes may follow.
    EndOfArchive,
}

enum State {
    Header,
    Extension {
        typeflag: u8,
        size: usize,
        data: Vec<u8>,
    },
    /// `padding`: zeros after the data, skipped once it is read.
    Data {
        remaining: u64,
        padding: u64,
    },
    Collect {
        size: usize,
        data: Vec<u8>,
    },
    /// One zero block was read; the end-of-archive marker needs a second.
    SecondZeroBlock,
    /// After the end-of-archive marker: only zero bytes may follow, at most [`MAX_TRAILING_ZEROS`].
    Trailing {
        zeros: u64,
    },
}

/// The tar entries of an inflating stream, in bounded memory: at most [`MAX_EXTENSION_HEADERS`] small
/// extension headers and the data a reader asks to collect.
pub(super) struct TarScanner {
    stream: TarStream,
    state: State,
    /// Padding to skip before the state proceeds.
    skip: u64,
    extensions: Extensions,
}

impl TarScanner {
    pub fn new(limits: Limits) -> TarScanner {
        TarScanner { stream: TarStream::new(limits), state: State::Header, skip: 0, extensions: Extensions::default() }
    }

    pub fn stream(&self) -> &TarStream {
        &self.stream
    }

    pub fn use_host_crc(&mut self, crc: HostCrc) {
        self.stream.use_host_crc(crc);
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.stream.push(chunk);
    }

    /// From now on, inflating past `ceiling` bytes in total is an error.
    pub fn set_ceiling(&mut self, ceiling: u64) {
        self.stream.set_ceiling(ceiling);
    }

    /// Offset in the tar stream of the next header, once the pending padding is skipped.
    pub fn next_header_offset(&self) -> u64 {
        self.stream.offset() + self.skip
    }

    /// True once the end-of-archive marker has been read.
    pub fn at_end(&self) -> bool {
        matches!(self.state, State::Trailing { .. })
    }

    /// Reads the current entry's data whole, as one `Collected` event; `size` is its size, which the
    /// reader has checked is small enough to hold.
    pub fn collect_data(&mut self, size: usize) {
        self.state = State::Collect { size, data: Vec::with_capacity(size) };
    }

    /// Reads the next header right after the current one, as if the entry had no data.
    pub fn ignore_data(&mut self) {
        self.state = State::Header;
    }

    /// Skips the current entry's data: no `Data` or `DataEnd` events.
    pub fn skip_data(&mut self) {
        if let State::Data { remaining, padding } = self.state {
            self.skip = remaining + padding;
        }
        self.state = State::Header;
    }

    /// The next event, or None when more input is needed (or, after the end marker, none remain).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<TarEvent>> {
        loop {
            if self.skip > 0 && !self.stream.skip(&mut self.skip)? {
                return Ok(None);
            }
            match &mut self.state {
                State::Header => {
                    if !self.stream.fill(BLOCK)? {
                        return Ok(None);
                    }
                    let block: [u8; BLOCK] = self.stream.available()[..BLOCK].try_into().expect("filled");
                    self.stream.consume(BLOCK);
                    if let Some(entry) = self.on_header(&block)? {
                        return Ok(Some(TarEvent::Entry(entry)));
                    }
                }
                State::Extension { typeflag, size, data } => {
                    if !self.stream.take_into(data, *size)? {
                        return Ok(None);
                    }
                    let (typeflag, data) = (*typeflag, std::mem::take(data));
                    self.extensions.apply(typeflag, &data)?;
                    self.skip = padding(data.len() as u64);
                    self.state = State::Header;
                }
                State::Data { remaining, padding } => {
                    if *remaining == 0 {
                        self.skip = *padding;
                        self.state = State::Header;
                        return Ok(Some(TarEvent::DataEnd));
                    }
                    if !self.stream.fill(1)? {
                        return Ok(None);
                    }
                    let available = self.stream.available();
                    let take = available.len().min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                    let data = available[..take].to_vec();
                    self.stream.consume(take);
                    *remaining -= take as u64;
                    return Ok(Some(TarEvent::Data(data)));
                }
                State::Collect { size, data } => {
                    if !self.stream.take_into(data, *size)? {
                        return Ok(None);
                    }
                    let data = std::mem::take(data);
                    self.skip = padding(data.len() as u64);
                    self.state = State::Header;
                    return Ok(Some(TarEvent::Collected(data)));
                }
                State::SecondZeroBlock => {
                    if !self.stream.fill(BLOCK)? {
                        return Ok(None);
                    }
                    if self.stream.available()[..BLOCK].iter().any(|&b| b != 0) {
                        return Err(Error::new(ErrorCode::TarCorrupt, "a lone zero block is followed by more entries"));
                    }
                    self.stream.consume(BLOCK);
                    self.state = State::Trailing { zeros: 0 };
                    return Ok(Some(TarEvent::EndOfArchive));
                }
                State::Trailing { zeros } => {
                    if !self.stream.fill(1)? {
                        return Ok(None);
                    }
                    let available = self.stream.available();
                    if available.iter().any(|&b| b != 0) {
                        return Err(Error::new(ErrorCode::TarCorrupt, "data follows the end-of-archive marker"));
                    }
                    *zeros += available.len() as u64;
                    if *zeros > MAX_TRAILING_ZEROS {
                        return Err(Error::new(
                            ErrorCode::LimitExceeded,
                            format!("more than {MAX_TRAILING_ZEROS} zero bytes follow the end-of-archive marker"),
                        ));
                    }
                    self.stream.consume(available.len());
                }
            }
        }
    }

    /// Handles one header block; returns the entry it completes, if any, and sets the next state.
    fn on_header(&mut self, block: &[u8; BLOCK]) -> Result<Option<RawEntry>> {
        if is_zero_block(block) {
            if self.extensions.headers > 0 {
                return Err(Error::new(
                    ErrorCode::TarCorrupt,
                    "an extension header is followed by the end-of-archive marker",
                ));
            }
            self.state = State::SecondZeroBlock;
            return Ok(None);
        }
        let header = tar_header::decode(block)?;
        if is_extension(header.typeflag) {
            let size = self.extensions.begin(header.size)?;
            self.state = State::Extension { typeflag: header.typeflag, size, data: Vec::with_capacity(size) };
            return Ok(None);
        }
        let extensions = std::mem::take(&mut self.extensions);
        let size = extensions.pax.size.unwrap_or(header.size);
        self.state = State::Data { remaining: size, padding: padding(size) };
        Ok(Some(RawEntry {
            name: extensions.pax.path.or(extensions.long_name).unwrap_or(header.name),
            link_name: extensions.pax.linkpath.or(extensions.long_link).unwrap_or(header.link_name),
            typeflag: header.typeflag,
            size,
            mode: header.mode,
            sparse: extensions.pax.sparse,
        }))
    }
}

/// Extension headers seen since the last entry header.
#[derive(Default)]
struct Extensions {
    pax: PaxOverrides,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    headers: usize,
}

impl Extensions {
    /// Records one extension header's payload.
    fn apply(&mut self, typeflag: u8, data: &[u8]) -> Result<()> {
        match typeflag {
            typeflag::PAX_EXTENDED => self.pax.apply(data)?,
            typeflag::GNU_LONG_NAME => self.long_name = Some(tar_header::gnu_long_name(data)),
            typeflag::GNU_LONG_LINK => self.long_link = Some(tar_header::gnu_long_name(data)),
            _ => {} // PAX global headers set defaults for other tools' metadata; nothing a reader relies on.
        }
        Ok(())
    }

    /// Counts an extension header about to be read; its payload must be small.
    fn begin(&mut self, size: u64) -> Result<usize> {
        self.headers += 1;
        if self.headers > MAX_EXTENSION_HEADERS {
            return Err(Error::new(
                ErrorCode::TarCorrupt,
                format!("more than {MAX_EXTENSION_HEADERS} extension headers precede one entry"),
            ));
        }
        if size > MAX_EXTENSION_BYTES {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("an extension header of {size} bytes is above the limit of {MAX_EXTENSION_BYTES}"),
            ));
        }
        Ok(size as usize)
    }
}

/// True for the header types that only describe the next entry.
fn is_extension(typeflag: u8) -> bool {
    matches!(
        typeflag,
        typeflag::PAX_EXTENDED | typeflag::PAX_GLOBAL | typeflag::GNU_LONG_NAME | typeflag::GNU_LONG_LINK
    )
}
