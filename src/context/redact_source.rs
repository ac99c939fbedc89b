//! The characters of a packet read chunk by chunk from the host, for the streamed redaction: UTF-8 decoded as
//! `String::from_utf8_lossy` decodes a whole file (a sequence split between two chunks is joined first), with
//! a meter the reader moves so that no part of the packet is held beyond its limit.

use std::cell::Cell;
use std::rc::Rc;

/// How far the source has read, and where it stops: past `limit` it ends as if the text did, and says so.
#[derive(Debug, Default)]
pub struct Meter {
    read: Cell<usize>,
    limit: Cell<usize>,
    over: Cell<bool>,
}

impl Meter {
    pub fn read(&self) -> usize {
        self.read.get()
    }

    /// Reading may go on to `limit` bytes from the start.
    pub fn allow_until(&self, limit: usize) {
        self.limit.set(limit);
    }

    /// Counts from `read` bytes (what was read before the source that goes on from there).
    pub fn moved_to(&self, read: usize) {
        self.read.set(read);
    }

    /// Whether the source stopped at its limit.
    pub fn over(&self) -> bool {
        self.over.get()
    }
}

/// Characters pulled from `read` (a chunk of bytes each call; `None` or an empty chunk at the end).
pub struct Source<R: FnMut() -> Option<Vec<u8>>> {
    read: R,
    text: String,
    at: usize,
    /// The start of a UTF-8 sequence the last chunk cut.
    pending: Vec<u8>,
    done: bool,
    meter: Rc<Meter>,
}

impl<R: FnMut() -> Option<Vec<u8>>> Source<R> {
    pub fn new(read: R, meter: Rc<Meter>) -> Self {
        Source { read, text: String::new(), at: 0, pending: Vec::new(), done: false, meter }
    }

    /// The first character that is not white space (a byte-order mark is skipped), without taking anything: `{`
    /// starts a JSON document.
    pub fn first_visible(&mut self) -> Option<char> {
        loop {
            let rest = &self.text[self.at..];
            if self.at == 0 && rest.starts_with('\u{feff}') {
                self.at = '\u{feff}'.len_utf8();
                continue;
            }
            if let Some(c) = rest.trim_start().chars().next() {
                return Some(c);
            }
            if !self.refill(true) {
                return None;
            }
        }
    }

    /// The next chunk's text, after what is left of this one when `keep`.
    fn refill(&mut self, keep: bool) -> bool {
        if self.done {
            return false;
        }
        if !keep {
            self.text.clear();
            self.at = 0;
        }
        match (self.read)() {
            Some(chunk) if !chunk.is_empty() => {
                let mut bytes = std::mem::take(&mut self.pending);
                bytes.extend_from_slice(&chunk);
                self.decode(&bytes);
            }
            _ => {
                self.done = true;
                let pending = std::mem::take(&mut self.pending);
                self.text.push_str(&String::from_utf8_lossy(&pending));
            }
        }
        true
    }

    fn decode(&mut self, mut bytes: &[u8]) {
        loop {
            match std::str::from_utf8(bytes) {
                Ok(text) => return self.text.push_str(text),
                Err(error) => {
                    let (valid, rest) = bytes.split_at(error.valid_up_to());
                    self.text.push_str(std::str::from_utf8(valid).expect("valid up to here"));
                    match error.error_len() {
                        Some(length) => {
                            self.text.push('\u{fffd}');
                            bytes = &rest[length..];
                        }
                        None => return self.pending.extend_from_slice(rest),
                    }
                }
            }
        }
    }
}

impl<R: FnMut() -> Option<Vec<u8>>> Iterator for Source<R> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        loop {
            let c = match self.text.as_bytes().get(self.at) {
                Some(&b) if b.is_ascii() => Some(char::from(b)),
                Some(_) => self.text[self.at..].chars().next(),
                None => None,
            };
            if let Some(c) = c {
                let read = self.meter.read.get() + c.len_utf8();
                if read > self.meter.limit.get() {
                    self.meter.over.set(true);
                    return None;
                }
                self.meter.read.set(read);
                self.at += c.len_utf8();
                return Some(c);
            }
            if !self.refill(false) {
                return None;
            }
        }
    }
}

/// A chunk of the packet each call (`None` or an empty chunk at the end).
pub type Read<'r> = Box<dyn FnMut() -> Option<Vec<u8>> + 'r>;

/// The packet's bytes line by line, for the line scanner: lines are looked at before they are taken, and
/// what was pulled and not taken goes back ahead of the rest ([`Lines::into_source`]) when the character
/// reader takes over.
pub struct Lines<'r> {
    read: Read<'r>,
    buf: Vec<u8>,
    /// Where the bytes not yet taken start in `buf`.
    start: usize,
    done: bool,
    /// Bytes taken.
    taken: usize,
    /// Lines taken.
    lines: usize,
}

impl<'r> Lines<'r> {
    pub fn new(read: Read<'r>) -> Self {
        Lines { read, buf: Vec::new(), start: 0, done: false, taken: 0, lines: 0 }
    }

    /// The bytes not yet taken that are buffered, at least `at + 1` of them unless the packet ends sooner.
    fn fill(&mut self, at: usize) -> &[u8] {
        while self.buf.len() - self.start <= at && !self.done {
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            match (self.read)() {
                Some(chunk) if !chunk.is_empty() => self.buf.extend_from_slice(&chunk),
                _ => self.done = true,
            }
        }
        &self.buf[self.start..]
    }

    /// The end of the line that starts `at` bytes ahead (past its line feed, or the packet's end); `None`
    /// when nothing is left there.
    pub fn line_end(&mut self, at: usize) -> Option<usize> {
        let mut from = at;
        loop {
            let rest = self.fill(from);
            if rest.len() <= from {
                return (rest.len() > at).then_some(rest.len());
            }
            match memchr::memchr(b'\n', &rest[from..]) {
                Some(i) => return Some(from + i + 1),
                None => from = rest.len(),
            }
        }
    }

    /// `len` bytes ahead, as pulled (`line_end` made them available).
    pub fn ahead(&self, len: usize) -> &[u8] {
        &self.buf[self.start..self.start + len]
    }

    /// Takes `len` bytes holding `lines` lines.
    pub fn take(&mut self, len: usize, lines: usize) {
        self.start += len;
        self.taken += len;
        self.lines += lines;
    }

    pub fn taken(&self) -> usize {
        self.taken
    }

    pub fn lines(&self) -> usize {
        self.lines
    }

    /// The characters of what is not taken, for the character reader, metered by `meter`.
    pub fn into_source(mut self, meter: Rc<Meter>) -> Source<Read<'r>> {
        let mut rest = Some(self.buf.split_off(self.start)).filter(|rest| !rest.is_empty());
        let mut read = self.read;
        let done = self.done;
        Source::new(Box::new(move || rest.take().or_else(|| if done { None } else { read() })), meter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(bytes: &[u8], chunk: usize, limit: usize) -> (String, bool) {
        let mut chunks: Vec<Vec<u8>> = bytes.chunks(chunk).map(<[u8]>::to_vec).rev().collect();
        let meter = Rc::new(Meter::default());
        meter.allow_until(limit);
        let text: String = Source::new(move || chunks.pop(), meter.clone()).collect();
        (text, meter.over())
    }

    #[test]
    fn decodes_like_a_whole_file_whatever_the_chunks() {
        let bytes = "añ€😀 \u{feff}x".as_bytes().iter().copied().chain([0xff, b'a', 0xe2, 0x82]).collect::<Vec<u8>>();
        let whole = String::from_utf8_lossy(&bytes).into_owned();
        for chunk in 1..=bytes.len() {
            assert_eq!(chars(&bytes, chunk, usize::MAX), (whole.clone(), false), "chunks of {chunk}");
        }
    }

    #[test]
    fn stops_at_the_limit_and_says_so() {
        assert_eq!(chars(b"abcdef", 2, 4), ("abcd".to_owned(), true));
        assert_eq!(chars(b"abcd", 3, 4), ("abcd".to_owned(), false));
    }

    #[test]
    fn lines_are_found_across_chunks_and_the_rest_goes_back_in_order() {
        for chunk in 1..=12 {
            let bytes = b"ab\ncd\n\nlast".to_vec();
            let mut chunks: Vec<Vec<u8>> = bytes.chunks(chunk).map(<[u8]>::to_vec).rev().collect();
            let mut lines = Lines::new(Box::new(move || chunks.pop()));
            assert_eq!(lines.line_end(0), Some(3));
            assert_eq!(lines.line_end(3), Some(6));
            assert_eq!(lines.ahead(6), b"ab\ncd\n");
            lines.take(3, 1);
            assert_eq!((lines.line_end(3), lines.line_end(4)), (Some(4), Some(8)));
            assert_eq!(lines.line_end(8), None);
            assert_eq!((lines.taken(), lines.lines()), (3, 1));
            let meter = Rc::new(Meter::default());
            meter.allow_until(usize::MAX);
            assert_eq!(lines.into_source(meter).collect::<String>(), "cd\n\nlast", "chunks of {chunk}");
        }
    }

    #[test]
    fn sees_past_a_byte_order_mark_and_leading_space() {
        let meter = Rc::new(Meter::default());
        let mut chunks = vec![b" {".to_vec(), b"\n ".to_vec(), "\u{feff}".as_bytes().to_vec()];
        let mut source = Source::new(move || chunks.pop(), meter);
        assert_eq!(source.first_visible(), Some('{'));
    }
}
