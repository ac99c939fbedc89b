//! Pass 1: blanks comments and string contents so that what is left is real code.

use super::*;

pub(super) struct Lexer<'t> {
    pub(super) text: &'t [u8],
    pub(super) lang: Lang,
    pub(super) code: Vec<u8>,
    pub(super) bare: Vec<u8>,
    /// Blanked ranges that span lines.
    pub(super) regions: Vec<(usize, usize)>,
    /// One entry per open `${` of a template literal: the `{` nesting inside it.
    pub(super) templates: Vec<u32>,
}

pub(super) fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

impl<'t> Lexer<'t> {
    pub(super) fn new(text: &'t [u8], lang: Lang) -> Self {
        Lexer { text, lang, code: text.to_vec(), bare: text.to_vec(), regions: Vec::new(), templates: Vec::new() }
    }

    pub(super) fn at(&self, i: usize) -> u8 {
        self.text.get(i).copied().unwrap_or(0)
    }

    /// Blanks `start..end` in the code copy (a literal's contents), or in both copies (a comment).
    pub(super) fn blank(&mut self, start: usize, end: usize, comment: bool) {
        let end = end.min(self.text.len());
        if start >= end {
            return;
        }
        let mut multiline = false;
        for i in start..end {
            if self.text[i] == b'\n' {
                multiline = true;
            } else {
                self.code[i] = b' ';
                if comment {
                    self.bare[i] = b' ';
                }
            }
        }
        if multiline {
            self.regions.push((start, end));
        }
    }

    pub(super) fn line_end(&self, from: usize) -> usize {
        self.text[from.min(self.text.len())..].iter().position(|b| *b == b'\n').map_or(self.text.len(), |p| from + p)
    }

    pub(super) fn run(&mut self) {
        let n = self.text.len();
        // The last significant code byte: tells a regex literal from a division in JavaScript.
        let mut prev = b'\n';
        let mut i = 0;
        while i < n {
            let c = self.text[i];
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let next = self.at(i + 1);
            let skipped = match (self.lang, c) {
                (Lang::Python, b'#') => Some(self.line_comment(i)),
                (Lang::Python, b'"' | b'\'') => Some(self.python_string(i)),
                (Lang::Python, _) => None,
                (_, b'/') if next == b'/' => Some(self.line_comment(i)),
                (_, b'/') if next == b'*' => Some(self.block_comment(i)),
                (_, b'"') => Some(self.quoted(i, b'"', self.lang == Lang::Rust)),
                (Lang::Rust, b'\'') => Some(self.char_or_lifetime(i)),
                (_, b'\'') => Some(self.quoted(i, b'\'', false)),
                (Lang::Go, b'`') => Some(self.quoted(i, b'`', true)),
                (Lang::Rust, b'r' | b'b') => self.rust_raw_string(i),
                (Lang::JavaScript | Lang::TypeScript, b'`') => Some(self.template(i + 1)),
                (Lang::JavaScript | Lang::TypeScript, b'/') if self.operand_expected(i, prev) => self.regex_literal(i),
                (Lang::JavaScript | Lang::TypeScript, b'{') => {
                    if let Some(depth) = self.templates.last_mut() {
                        *depth += 1;
                    }
                    None
                }
                (Lang::JavaScript | Lang::TypeScript, b'}') => match self.templates.last_mut() {
                    Some(0) => {
                        self.templates.pop();
                        Some(self.template(i + 1))
                    }
                    Some(depth) => {
                        *depth -= 1;
                        None
                    }
                    None => None,
                },
                _ => None,
            };
            match skipped {
                Some(end) => {
                    // A comment leaves `prev` alone; a literal is an operand.
                    if !(c == b'/' && matches!(next, b'/' | b'*')) && c != b'#' {
                        prev = b'"';
                    }
                    i = end.max(i + 1);
                }
                None => {
                    prev = c;
                    i += 1;
                }
            }
        }
    }

    /// Whether a `/` at `i` starts a regex literal: it follows an operator, or a keyword such as `return`.
    pub(super) fn operand_expected(&self, i: usize, prev: u8) -> bool {
        if b"(,=:[!&|?{};+-*%<>~^\n".contains(&prev) {
            return true;
        }
        let word = word_before(self.text, i);
        [&b"return"[..], b"typeof", b"case", b"do", b"else", b"in", b"of", b"void", b"yield", b"await", b"throw"]
            .contains(&word)
    }

    pub(super) fn line_comment(&mut self, i: usize) -> usize {
        let end = self.line_end(i);
        self.blank(i, end, true);
        end
    }

    pub(super) fn block_comment(&mut self, i: usize) -> usize {
        let n = self.text.len();
        let nests = self.lang == Lang::Rust;
        let mut depth = 0usize;
        let mut j = i;
        while j < n {
            if self.at(j) == b'/' && self.at(j + 1) == b'*' {
                depth += 1;
                j += 2;
            } else if self.at(j) == b'*' && self.at(j + 1) == b'/' {
                j += 2;
                depth = if nests { depth.saturating_sub(1) } else { 0 };
                if depth == 0 {
                    break;
                }
            } else {
                j += 1;
            }
            if !nests && depth > 1 {
                depth = 1;
            }
        }
        let end = j.min(n);
        self.blank(i, end, true);
        end
    }

    /// A literal quoted by `quote`, with `\` escapes; an unterminated single-line literal stops at the newline.
    pub(super) fn quoted(&mut self, i: usize, quote: u8, multiline: bool) -> usize {
        let n = self.text.len();
        let raw = quote == b'`';
        let mut j = i + 1;
        while j < n {
            match self.text[j] {
                b'\\' if !raw => j += 2,
                b'\n' if !multiline => {
                    self.blank(i + 1, j, false);
                    return j;
                }
                c if c == quote => {
                    self.blank(i + 1, j, false);
                    return j + 1;
                }
                _ => j += 1,
            }
        }
        self.blank(i + 1, n, false);
        n
    }

    pub(super) fn python_string(&mut self, i: usize) -> usize {
        let quote = self.text[i];
        if self.at(i + 1) != quote || self.at(i + 2) != quote {
            return self.quoted(i, quote, false);
        }
        let n = self.text.len();
        let mut j = i + 3;
        while j < n {
            if self.text[j] == b'\\' {
                j += 2;
            } else if self.text[j] == quote && self.at(j + 1) == quote && self.at(j + 2) == quote {
                self.blank(i + 3, j, false);
                return j + 3;
            } else {
                j += 1;
            }
        }
        self.blank(i + 3, n, false);
        n
    }

    /// `'a'`, `'\n'`, `'\u{1F600}'` are chars; `'a` in `&'a str` or `'outer:` is a lifetime or label.
    pub(super) fn char_or_lifetime(&mut self, i: usize) -> usize {
        let first = self.at(i + 1);
        if first == b'\\' {
            let limit = (i + 14).min(self.text.len());
            if let Some(close) = (i + 3..limit).find(|&j| self.text[j] == b'\'') {
                self.blank(i + 1, close, false);
                return close + 1;
            }
            return i + 1;
        }
        let width = match first {
            0xF0..=0xFF => 4,
            0xE0..=0xEF => 3,
            0xC0..=0xDF => 2,
            _ => 1,
        };
        if first != b'\n' && first != b'\'' && self.at(i + 1 + width) == b'\'' {
            self.blank(i + 1, i + 1 + width, false);
            return i + 2 + width;
        }
        i + 1
    }

    /// `r"…"`, `r#"…"#`, `br##"…"##`: `None` when `i` does not start one (an identifier, `r#type`).
    pub(super) fn rust_raw_string(&mut self, i: usize) -> Option<usize> {
        if i > 0 && is_ident(self.text[i - 1]) {
            return None;
        }
        let mut j = i;
        if self.at(j) == b'b' {
            j += 1;
        }
        if self.at(j) != b'r' {
            return None;
        }
        j += 1;
        let hashes_start = j;
        while self.at(j) == b'#' {
            j += 1;
        }
        let hashes = j - hashes_start;
        if self.at(j) != b'"' {
            return None;
        }
        let content = j + 1;
        let n = self.text.len();
        let mut k = content;
        while k < n {
            if self.text[k] == b'"' && (1..=hashes).all(|h| self.at(k + h) == b'#') {
                self.blank(content, k, false);
                return Some(k + 1 + hashes);
            }
            k += 1;
        }
        self.blank(content, n, false);
        Some(n)
    }

    /// The body of a template literal from `start` to its closing backquote or its next `${`.
    pub(super) fn template(&mut self, start: usize) -> usize {
        let n = self.text.len();
        let mut j = start;
        while j < n {
            match self.text[j] {
                b'\\' => j += 2,
                b'`' => {
                    self.blank(start, j, false);
                    return j + 1;
                }
                b'$' if self.at(j + 1) == b'{' => {
                    self.blank(start, j, false);
                    self.templates.push(0);
                    return j + 2;
                }
                _ => j += 1,
            }
        }
        self.blank(start, n, false);
        n
    }

    /// `/ab+c/gi` where an operand is expected; `None` (a division) if no closing `/` on the line.
    pub(super) fn regex_literal(&mut self, i: usize) -> Option<usize> {
        let mut in_class = false;
        let mut j = i + 1;
        while j < self.text.len() {
            match self.text[j] {
                b'\n' => return None,
                b'\\' => j += 1,
                b'[' => in_class = true,
                b']' => in_class = false,
                b'/' if !in_class => {
                    self.blank(i + 1, j, false);
                    let mut end = j + 1;
                    while end < self.text.len() && self.text[end].is_ascii_alphabetic() {
                        end += 1;
                    }
                    return Some(end);
                }
                _ => {}
            }
            j += 1;
        }
        None
    }
}
