//! The definitions in a source file — functions, methods, classes, types — found without a parser.
//!
//! Languages are chosen by extension: Python (`.py`), JavaScript and TypeScript (`.js .mjs .cjs .jsx .ts .tsx`),
//! Rust (`.rs`) and Go (`.go`); anything else has no symbols. Each file is scanned in two passes:
//!
//! 1. A lexer blanks comments and the contents of strings, template literals, raw strings and char literals
//!    with spaces (newlines stay, so byte offsets and line numbers do not move). Braces, parentheses and
//!    keywords left in the blanked text are real code.
//! 2. Declarations are recognised at the start of statements. Block ends come from brace matching (or
//!    indentation, for Python); a definition without a body ends at `;` or at a line that cannot continue it.
//!
//! Symbols inside function bodies are not reported (local helpers are part of their function's text); classes,
//! impls, traits and modules are entered, so methods and nested classes are, under qualified names
//! (`Outer.Inner.method`, `Stack.push`). An `impl` block is named `impl Type` or `impl Trait for Type`.
//!
//! The scanner never panics, whatever the input (unbalanced braces, cut-off files, random bytes), and its work
//! is linear in the size of the file: every regex runs on one line, and every byte is scanned a bounded number of
//! times. Known gaps: Go `type ( … )` groups, TypeScript namespaces, object-literal methods, and declarations that
//! do not start a statement (`exports.f = function () {}`).

use crate::context::packet::Span;
use regex::Regex;
use std::collections::HashMap;
use std::sync::OnceLock;

/// What a symbol is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    Function,
    Method,
    Class,
    Struct,
    Enum,
    Trait,
    Interface,
    Type,
    Const,
    Impl,
    Module,
}

impl SymbolKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Function => "function",
            SymbolKind::Method => "method",
            SymbolKind::Class => "class",
            SymbolKind::Struct => "struct",
            SymbolKind::Enum => "enum",
            SymbolKind::Trait => "trait",
            SymbolKind::Interface => "interface",
            SymbolKind::Type => "type",
            SymbolKind::Const => "const",
            SymbolKind::Impl => "impl",
            SymbolKind::Module => "module",
        }
    }

    /// Kinds whose bodies hold further definitions worth naming.
    fn is_container(self) -> bool {
        matches!(self, SymbolKind::Class | SymbolKind::Trait | SymbolKind::Impl | SymbolKind::Module)
    }
}

/// One definition in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Qualified with its enclosing classes, impls and modules: `Outer.Inner.method`.
    pub name: String,
    pub kind: SymbolKind,
    /// The declaration up to its body, on one line with whitespace collapsed.
    pub signature: String,
    /// The whole definition, decorators and attributes included; 1-based, inclusive.
    pub span: Span,
    /// The first paragraph of the docstring or doc comment, at most [`DOC_MAX_CHARS`] characters.
    pub doc: Option<String>,
}

impl Symbol {
    /// The name without its qualifier: `push` for `Stack.push`.
    pub fn short_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }
}

pub const DOC_MAX_CHARS: usize = 200;
/// Signatures longer than this (a type alias spelling out a large union) are cut.
const SIGNATURE_MAX_CHARS: usize = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Python,
    JavaScript,
    TypeScript,
    Rust,
    Go,
}

impl Lang {
    fn of(path: &str) -> Option<Lang> {
        let file = path.rsplit('/').next().unwrap_or(path);
        let (_, extension) = file.rsplit_once('.')?;
        match extension.to_ascii_lowercase().as_str() {
            "py" => Some(Lang::Python),
            "js" | "mjs" | "cjs" | "jsx" => Some(Lang::JavaScript),
            "ts" | "mts" | "cts" | "tsx" => Some(Lang::TypeScript),
            "rs" => Some(Lang::Rust),
            "go" => Some(Lang::Go),
            _ => None,
        }
    }
}

/// The symbols of a file, in source order (a container before its members). Unknown languages give none.
pub fn extract_symbols(path: &str, text: &str) -> Vec<Symbol> {
    let Some(lang) = Lang::of(path) else { return Vec::new() };
    let source = Source::new(text, lang);
    match lang {
        Lang::Python => python(&source),
        _ => braced(&source, lang),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Pass 1: blanking comments and literals.

/// A file with two blanked copies of its text, all with the same byte offsets.
struct Source<'a> {
    text: &'a str,
    /// Comments and the contents of literals replaced by spaces (quotes stay).
    code: String,
    /// Comments replaced by spaces, literals kept: what signatures are cut from.
    bare: String,
    line_starts: Vec<usize>,
    /// Per line: it starts inside a multi-line literal or comment, so it continues an earlier line.
    continues: Vec<bool>,
    /// Per line: the first line at or after it that holds code (`line_count` if none).
    next_code: Vec<usize>,
    /// `{` offset → matching `}` offset (the end of the text when unclosed).
    braces: HashMap<usize, usize>,
    lang: Lang,
}

impl<'a> Source<'a> {
    fn new(text: &'a str, lang: Lang) -> Self {
        let mut lexer = Lexer::new(text.as_bytes(), lang);
        lexer.run();
        let Lexer { code, bare, regions, .. } = lexer;
        // Only ASCII bytes were replaced, each by a space, so both copies are still valid UTF-8.
        let code = String::from_utf8(code).unwrap_or_default();
        let bare = String::from_utf8(bare).unwrap_or_default();
        let mut line_starts = vec![0];
        line_starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        let mut continues = vec![false; line_starts.len()];
        for (start, end) in regions {
            let first = line_index(&line_starts, start) + 1;
            for (line, flag) in continues.iter_mut().enumerate().skip(first) {
                if line_starts[line] > end {
                    break;
                }
                *flag = true;
            }
        }
        let braces = if lang == Lang::Python { HashMap::new() } else { match_braces(code.as_bytes()) };
        let mut source = Source { text, code, bare, line_starts, continues, next_code: Vec::new(), braces, lang };
        let mut next = source.line_count();
        let mut next_code = vec![next; next];
        for line in (0..next_code.len()).rev() {
            if !source.is_blank(line) {
                next = line;
            }
            next_code[line] = next;
        }
        source.next_code = next_code;
        source
    }

    fn len(&self) -> usize {
        self.code.len()
    }

    fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 0-based line holding byte `pos`.
    fn line_of(&self, pos: usize) -> usize {
        line_index(&self.line_starts, pos)
    }

    /// Offset of the `\n` ending the line that holds `pos` (or the end of the text).
    fn line_end(&self, pos: usize) -> usize {
        let line = self.line_of(pos);
        self.line_starts.get(line + 1).map_or(self.len(), |next| next - 1)
    }

    fn line_text<'s>(&self, copy: &'s str, line: usize) -> &'s str {
        let start = self.line_starts.get(line).copied().unwrap_or(copy.len());
        let end = self.line_starts.get(line + 1).map_or(copy.len(), |next| next - 1);
        copy.get(start..end).unwrap_or("")
    }

    fn is_blank(&self, line: usize) -> bool {
        self.line_text(&self.code, line).trim().is_empty()
    }

    fn span(&self, first: usize, last: usize) -> Span {
        let start = self.line_of(first) as u64 + 1;
        let end = (self.line_of(last) as u64 + 1).max(start);
        Span { start, end }
    }

    fn signature(&self, start: usize, end: usize) -> String {
        normalize_signature(self.bare.get(start..end.min(self.len())).unwrap_or(""))
    }
}

fn line_index(line_starts: &[usize], pos: usize) -> usize {
    line_starts.partition_point(|&start| start <= pos).saturating_sub(1)
}

/// Pairs every `{` with its `}` in blanked code; an unclosed `{` runs to the end.
fn match_braces(code: &[u8]) -> HashMap<usize, usize> {
    let mut pairs = HashMap::new();
    let mut open = Vec::new();
    for (i, b) in code.iter().enumerate() {
        match b {
            b'{' => open.push(i),
            b'}' => {
                if let Some(start) = open.pop() {
                    pairs.insert(start, i);
                }
            }
            _ => {}
        }
    }
    for start in open {
        pairs.insert(start, code.len());
    }
    pairs
}

struct Lexer<'t> {
    text: &'t [u8],
    lang: Lang,
    code: Vec<u8>,
    bare: Vec<u8>,
    /// Blanked ranges that span lines.
    regions: Vec<(usize, usize)>,
    /// One entry per open `${` of a template literal: the `{` nesting inside it.
    templates: Vec<u32>,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

impl<'t> Lexer<'t> {
    fn new(text: &'t [u8], lang: Lang) -> Self {
        Lexer { text, lang, code: text.to_vec(), bare: text.to_vec(), regions: Vec::new(), templates: Vec::new() }
    }

    fn at(&self, i: usize) -> u8 {
        self.text.get(i).copied().unwrap_or(0)
    }

    /// Blanks `start..end` in the code copy (a literal's contents), or in both copies (a comment).
    fn blank(&mut self, start: usize, end: usize, comment: bool) {
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

    fn line_end(&self, from: usize) -> usize {
        self.text[from.min(self.text.len())..].iter().position(|b| *b == b'\n').map_or(self.text.len(), |p| from + p)
    }

    fn run(&mut self) {
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
    fn operand_expected(&self, i: usize, prev: u8) -> bool {
        if b"(,=:[!&|?{};+-*%<>~^\n".contains(&prev) {
            return true;
        }
        let word = word_before(self.text, i);
        [&b"return"[..], b"typeof", b"case", b"do", b"else", b"in", b"of", b"void", b"yield", b"await", b"throw"]
            .contains(&word)
    }

    fn line_comment(&mut self, i: usize) -> usize {
        let end = self.line_end(i);
        self.blank(i, end, true);
        end
    }

    fn block_comment(&mut self, i: usize) -> usize {
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
    fn quoted(&mut self, i: usize, quote: u8, multiline: bool) -> usize {
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

    fn python_string(&mut self, i: usize) -> usize {
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
    fn char_or_lifetime(&mut self, i: usize) -> usize {
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
    fn rust_raw_string(&mut self, i: usize) -> Option<usize> {
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
    fn template(&mut self, start: usize) -> usize {
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
    fn regex_literal(&mut self, i: usize) -> Option<usize> {
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

// ---------------------------------------------------------------------------------------------------------------
// Pass 2 for brace languages: declarations at statement starts.

/// How a definition's text ends.
enum Body {
    /// `{ … }`: the offsets of both braces.
    Block { open: usize, close: usize },
    /// No body: the definition ends before `end` (after its `;`, or at the end of its last line).
    Statement { end: usize },
}

/// A declaration recognised at a statement start.
struct Decl {
    name: String,
    kind: SymbolKind,
    /// Whether a `{` after the head opens the body (`fn`, `class`), or is part of the statement (`const X = {`).
    block: bool,
}

struct Container {
    close: usize,
    /// What members are qualified with.
    prefix: String,
    kind: SymbolKind,
}

fn braced(src: &Source, lang: Lang) -> Vec<Symbol> {
    let code = src.code.as_bytes();
    let n = code.len();
    let mut symbols = Vec::new();
    let mut containers: Vec<Container> = Vec::new();
    // Where the attributes or decorators before the next declaration began.
    let mut attributes: Option<usize> = None;
    let mut pos = 0;
    while pos < n {
        let Some(start) = (pos..n).find(|&i| !code[i].is_ascii_whitespace()) else { break };
        while containers.last().is_some_and(|c| c.close <= start) {
            containers.pop();
        }
        if let Some(after) = attribute(src, lang, start) {
            attributes.get_or_insert(start);
            pos = after.max(start + 1);
            continue;
        }
        let parent = containers.last();
        let line = src.code.get(start..src.line_end(start)).unwrap_or("");
        let Some(decl) = declaration(src, lang, start, line, parent) else {
            attributes = None;
            pos = match scan_body(src, start, false) {
                Body::Statement { end } => end,
                Body::Block { close, .. } => close + 1,
            }
            .max(start + 1);
            continue;
        };
        let first = attributes.take().unwrap_or(start);
        let body = scan_body(src, start, decl.block);
        let (head_end, last, next) = match body {
            Body::Block { open, close } => (open, close, if decl.kind.is_container() { open + 1 } else { close + 1 }),
            Body::Statement { end } => (end, end.saturating_sub(1).max(start), end.max(start + 1)),
        };
        let mut signature = src.signature(start, head_end);
        if let Some(stripped) = signature.strip_suffix(';') {
            signature = stripped.trim_end().to_string();
        }
        let qualify = |name: &str| match parent {
            Some(p) => format!("{}.{name}", p.prefix),
            None => name.to_string(),
        };
        let (name, prefix) = if decl.kind == SymbolKind::Impl {
            let (name, self_type) = impl_names(&signature);
            (qualify(&name), qualify(&self_type))
        } else {
            let name = qualify(&decl.name);
            (name.clone(), name)
        };
        let line = src.line_of(first);
        symbols.push(Symbol {
            name,
            kind: decl.kind,
            signature,
            span: src.span(first, last),
            doc: doc_comment(src, lang, line),
        });
        if let (Body::Block { close, .. }, true) = (&body, decl.kind.is_container()) {
            containers.push(Container { close: *close, prefix, kind: decl.kind });
        }
        pos = next;
    }
    symbols
}

/// The end of a Rust attribute (`#[…]`) or a TypeScript decorator (`@x.y(…)`) starting at `start`.
fn attribute(src: &Source, lang: Lang, start: usize) -> Option<usize> {
    let code = src.code.as_bytes();
    let at = |i: usize| code.get(i).copied().unwrap_or(0);
    match lang {
        Lang::Rust
            if at(start) == b'#' && (at(start + 1) == b'[' || (at(start + 1) == b'!' && at(start + 2) == b'[')) =>
        {
            let open = if at(start + 1) == b'[' { start + 1 } else { start + 2 };
            Some(closing(code, open, usize::MAX).map_or(code.len(), |c| c + 1))
        }
        Lang::JavaScript | Lang::TypeScript if at(start) == b'@' && is_ident(at(start + 1)) => {
            let mut j = start + 1;
            while is_ident(at(j)) || at(j) == b'.' {
                j += 1;
            }
            if at(j) == b'(' {
                j = closing(code, j, usize::MAX).map_or(code.len(), |c| c + 1);
            }
            Some(j)
        }
        _ => None,
    }
}

/// The bracket closing the `(` or `[` at `open`, counting both kinds together, looking at most `limit` bytes.
fn closing(code: &[u8], open: usize, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in code.iter().enumerate().skip(open).take(limit) {
        match b {
            b'(' | b'[' => depth += 1,
            b')' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Finds where the definition starting at `start` ends. With `block`, the first `{` outside brackets opens its
/// body (except a TypeScript type literal such as `(): { a: number } {`); otherwise braces are skipped whole.
fn scan_body(src: &Source, start: usize, block: bool) -> Body {
    let code = src.code.as_bytes();
    let n = code.len();
    let indent = indent_of(src.line_text(&src.code, src.line_of(start)));
    let mut depth = 0usize;
    let (mut prev, mut before_prev) = (0u8, 0u8);
    let mut j = start;
    while j < n {
        let c = code[j];
        match c {
            b'(' | b'[' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => return Body::Statement { end: j },
            b')' | b']' => depth -= 1,
            b'{' if depth == 0 => {
                let close = src.braces.get(&j).copied().unwrap_or(n);
                let type_literal = matches!(src.lang, Lang::JavaScript | Lang::TypeScript)
                    && (b":|&<,=?".contains(&prev) || word_before(code, j) == b"extends");
                if block && !type_literal {
                    return Body::Block { open: j, close };
                }
                j = close.saturating_add(1);
                (before_prev, prev) = (prev, b'}');
                continue;
            }
            b';' if depth == 0 => return Body::Statement { end: j + 1 },
            b'\n' if depth == 0 && statement_ends(src, j, indent, prev, before_prev) => {
                return Body::Statement { end: j };
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            (before_prev, prev) = (prev, c);
        }
        j += 1;
    }
    Body::Statement { end: n }
}

/// The identifier that ends right before `pos` (spaces skipped), or nothing.
fn word_before(code: &[u8], pos: usize) -> &[u8] {
    let before = &code[..pos.min(code.len())];
    let end = before.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |p| p + 1);
    let start = before[..end].iter().rposition(|b| !is_ident(*b)).map_or(0, |p| p + 1);
    &before[start..end]
}

/// Whether the newline at `newline` ends a statement that began at `indent`: the line does not end in an operator
/// and the next line neither is indented deeper nor starts with one (`.then(`, `-> T`, `where`, a lone `{`).
fn statement_ends(src: &Source, newline: usize, indent: usize, last: u8, before_last: u8) -> bool {
    let arrow = last == b'>' && matches!(before_last, b'=' | b'-');
    if b",([{=+-*/%&|^<?:.\\!".contains(&last) || arrow {
        return false;
    }
    let line = src.next_code.get(src.line_of(newline) + 1).copied().unwrap_or(src.line_count());
    let next = src.line_text(&src.code, line);
    let trimmed = next.trim_start();
    if trimmed.is_empty() {
        return true;
    }
    let continues = trimmed.starts_with(['.', ')', ']', '?', ':', '|', '&', '+', '-', '*', '/', '=', '>', '{'])
        || trimmed.starts_with("where")
        || indent_of(next) > indent;
    !continues
}

fn indent_of(line: &str) -> usize {
    let mut width = 0;
    for c in line.chars() {
        match c {
            ' ' => width += 1,
            '\t' => width = (width / 8 + 1) * 8,
            _ => break,
        }
    }
    width
}

macro_rules! regex {
    ($pattern:expr) => {{
        static RE: OnceLock<Regex> = OnceLock::new();
        RE.get_or_init(|| Regex::new($pattern).expect("a valid built-in pattern"))
    }};
}

const JS_NAME: &str = "[A-Za-z_$][A-Za-z0-9_$]*";

fn declaration(src: &Source, lang: Lang, start: usize, line: &str, parent: Option<&Container>) -> Option<Decl> {
    let parent = parent.map(|p| p.kind);
    let decl = |name: &str, kind, block| Some(Decl { name: name.to_string(), kind, block });
    match lang {
        Lang::Rust => {
            let re = regex!(
                r#"^(?:pub(?:[ \t]*\([^)]*\))?[ \t]+)?(?:(?:default|const|async|unsafe|extern(?:[ \t]+"[^"]*")?)[ \t]+)*(fn|struct|enum|union|trait|type|const|static|mod|impl)(?-u:\b)(?:[ \t]+(?:mut[ \t]+)?(?:r#)?([A-Za-z_][A-Za-z0-9_]*))?"#
            );
            let caps = re.captures(line)?;
            let keyword = caps.get(1)?.as_str();
            let name = caps.get(2).map_or("", |m| m.as_str());
            let in_impl = matches!(parent, Some(SymbolKind::Impl | SymbolKind::Trait));
            if in_impl && keyword != "fn" {
                return None;
            }
            if name.is_empty() && keyword != "impl" {
                return None;
            }
            match keyword {
                "fn" if in_impl => decl(name, SymbolKind::Method, true),
                "fn" => decl(name, SymbolKind::Function, true),
                "struct" | "union" => decl(name, SymbolKind::Struct, true),
                "enum" => decl(name, SymbolKind::Enum, true),
                "trait" => decl(name, SymbolKind::Trait, true),
                "type" => decl(name, SymbolKind::Type, false),
                "const" | "static" => decl(name, SymbolKind::Const, false),
                "impl" => decl("impl", SymbolKind::Impl, true),
                // `mod x;` declares a file elsewhere: nothing to show here.
                _ => match scan_body(src, start, true) {
                    Body::Block { .. } => decl(name, SymbolKind::Module, true),
                    Body::Statement { .. } => None,
                },
            }
        }
        Lang::Go => {
            if parent.is_some() {
                return None;
            }
            let func = regex!(
                r"^func[ \t]*(?:\([ \t]*(?:[A-Za-z_][A-Za-z0-9_]*[ \t]+)?\*?[ \t]*([A-Za-z_][A-Za-z0-9_]*)[^)]*\)[ \t]*)?([A-Za-z_][A-Za-z0-9_]*)"
            );
            if let Some(caps) = func.captures(line) {
                let name = caps.get(2)?.as_str();
                return match caps.get(1) {
                    Some(receiver) => decl(&format!("{}.{name}", receiver.as_str()), SymbolKind::Method, true),
                    None => decl(name, SymbolKind::Function, true),
                };
            }
            let caps = regex!(
                r"^type[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?:\[[^\]]*\])?[ \t]*(=[ \t]*)?(struct|interface)?(?-u:\b)"
            )
            .captures(line)?;
            let kind = match caps.get(3).map(|m| m.as_str()) {
                Some("struct") => SymbolKind::Struct,
                Some("interface") => SymbolKind::Interface,
                _ => SymbolKind::Type,
            };
            decl(caps.get(1)?.as_str(), kind, true)
        }
        Lang::JavaScript | Lang::TypeScript => js_declaration(src, lang, start, line, parent),
        Lang::Python => None,
    }
}

fn js_declaration(src: &Source, lang: Lang, start: usize, line: &str, parent: Option<SymbolKind>) -> Option<Decl> {
    let decl = |name: Option<regex::Match>, kind, block| {
        Some(Decl { name: name.map_or("default", |m| m.as_str()).to_string(), kind, block })
    };
    // `= (a, b) =>` is an arrow function; `= (a + b) * c` is not.
    let arrow_at = |caps: &regex::Captures, group: usize| match caps.get(group) {
        Some(m) if m.as_str() == "(" => is_arrow(src, start + m.start()),
        Some(_) => true,
        None => false,
    };
    if parent == Some(SymbolKind::Class) {
        let method = regex!(&format!(
            r"^(?:(?:public|private|protected|static|readonly|async|override|abstract|declare|accessor|get|set)[ \t]+)*\*?[ \t]*(#?{JS_NAME})[ \t]*\??[ \t]*(?:<[^>]*>[ \t]*)?\("
        ));
        if let Some(caps) = method.captures(line) {
            return decl(caps.get(1), SymbolKind::Method, true);
        }
        let field = regex!(&format!(
            r"^(?:(?:public|private|protected|static|readonly|override|declare)[ \t]+)*(#?{JS_NAME})[ \t]*(?::[^=]*)?=[ \t]*(?:async[ \t]+)?(function(?-u:\b)|\(|<|{JS_NAME}[ \t]*=>)"
        ));
        let caps = field.captures(line)?;
        return if arrow_at(&caps, 2) { decl(caps.get(1), SymbolKind::Method, true) } else { None };
    }
    let function = regex!(&format!(
        r"^(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:async[ \t]+)?function(?-u:\b)[ \t]*\*?[ \t]*({JS_NAME})?"
    ));
    if let Some(caps) = function.captures(line) {
        return decl(caps.get(1), SymbolKind::Function, true);
    }
    let class = regex!(&format!(
        r"^(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:abstract[ \t]+)?class(?-u:\b)[ \t]*({JS_NAME})?"
    ));
    if let Some(caps) = class.captures(line) {
        let name = caps.get(1).filter(|m| !matches!(m.as_str(), "extends" | "implements"));
        return decl(name, SymbolKind::Class, true);
    }
    let arrow = regex!(&format!(
        r"^(?:export[ \t]+)?(?:const|let|var)[ \t]+({JS_NAME})[ \t]*(?::[^=]*)?=[ \t]*(?:async[ \t]+)?(function(?-u:\b)|\(|<|{JS_NAME}[ \t]*=>)"
    ));
    if let Some(caps) = arrow.captures(line) {
        return if arrow_at(&caps, 2) { decl(caps.get(1), SymbolKind::Function, true) } else { None };
    }
    if lang != Lang::TypeScript {
        return None;
    }
    let typed = regex!(&format!(
        r"^(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:const[ \t]+)?(interface|type|enum)[ \t]+({JS_NAME})"
    ));
    let caps = typed.captures(line)?;
    match caps.get(1)?.as_str() {
        "interface" => decl(caps.get(2), SymbolKind::Interface, true),
        "enum" => decl(caps.get(2), SymbolKind::Enum, true),
        _ => decl(caps.get(2), SymbolKind::Type, false),
    }
}

/// Whether the parenthesis at `open` holds arrow-function parameters: `=>` follows it, perhaps after a type.
fn is_arrow(src: &Source, open: usize) -> bool {
    let code = src.code.as_bytes();
    // Bounded, so a file full of unclosed `(` stays linear.
    let Some(close) = closing(code, open, 4096) else { return false };
    let rest = src.code.get(close + 1..(close + 1 + 200).min(code.len())).unwrap_or("");
    let rest = rest.split(['{', ';']).next().unwrap_or("");
    rest.contains("=>")
}

/// `impl<T> fmt::Display for Stack<T>` → (`impl Display for Stack`, `Stack`).
fn impl_names(signature: &str) -> (String, String) {
    let head = signature.split_once("impl").map_or(signature, |(_, rest)| rest).trim_start();
    let head = if head.starts_with('<') { skip_angles(head) } else { head };
    let head = head.split(" where ").next().unwrap_or(head).trim();
    let mut depth = 0i32;
    let mut split = None;
    for (i, c) in head.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth -= 1,
            _ if depth == 0 && head[i..].starts_with(" for ") => {
                split = Some(i);
                break;
            }
            _ => {}
        }
    }
    match split {
        Some(i) => {
            let (trait_name, self_type) = (base_name(&head[..i]), base_name(&head[i + 5..]));
            (format!("impl {trait_name} for {self_type}"), self_type)
        }
        None => {
            let self_type = base_name(head);
            (format!("impl {self_type}"), self_type)
        }
    }
}

fn skip_angles(text: &str) -> &str {
    let mut depth = 0i32;
    for (i, c) in text.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    return &text[i + 1..];
                }
            }
            _ => {}
        }
    }
    ""
}

/// `&'a mut fmt::Formatter<'b>` → `Formatter`.
fn base_name(ty: &str) -> String {
    let mut ty = ty.trim();
    loop {
        let before = ty;
        ty = ty.trim_start_matches(['&', '!', '*']).trim_start();
        if ty.starts_with('\'') {
            ty = ty.split_once(' ').map_or("", |(_, rest)| rest).trim_start();
        }
        for prefix in ["mut ", "const ", "dyn ", "impl "] {
            ty = ty.strip_prefix(prefix).unwrap_or(ty).trim_start();
        }
        if ty == before {
            break;
        }
    }
    let ty = ty.split('<').next().unwrap_or(ty);
    let ty = ty.rsplit("::").next().unwrap_or(ty).trim();
    if ty.is_empty() {
        "?".to_string()
    } else {
        ty.to_string()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Pass 2 for Python: indentation.

fn python(src: &Source) -> Vec<Symbol> {
    let code = src.code.as_bytes();
    // A line continues the previous statement when it starts inside brackets or a multi-line string.
    let mut continuation = src.continues.clone();
    let mut depth = 0i64;
    for (line, flag) in continuation.iter_mut().enumerate() {
        *flag |= depth > 0;
        for b in src.line_text(&src.code, line).bytes() {
            match b {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = (depth - 1).max(0),
                _ => {}
            }
        }
    }
    let statement = |line: usize| !continuation[line] && !src.is_blank(line);
    let def = regex!(r"^([ \t]*)(?:async[ \t]+)?def[ \t]+([A-Za-z_][A-Za-z0-9_]*)");
    let class = regex!(r"^([ \t]*)class[ \t]+([A-Za-z_][A-Za-z0-9_]*)");

    let mut symbols = Vec::new();
    // Enclosing classes: (indent, qualified name).
    let mut classes: Vec<(usize, String)> = Vec::new();
    let mut line = 0;
    while line < src.line_count() {
        if !statement(line) {
            line += 1;
            continue;
        }
        let text = src.line_text(&src.code, line);
        let indent = indent_of(text);
        while classes.last().is_some_and(|(i, _)| *i >= indent) {
            classes.pop();
        }
        let (caps, kind) = match (def.captures(text), class.captures(text)) {
            (Some(caps), _) => (caps, SymbolKind::Function),
            (None, Some(caps)) => (caps, SymbolKind::Class),
            (None, None) => {
                line += 1;
                continue;
            }
        };
        let (Some(lead), Some(name)) = (caps.get(1), caps.get(2)) else {
            line += 1;
            continue;
        };
        let start = src.line_starts[line] + lead.end();
        let colon = header_end(code, start);
        let header_line = src.line_of(colon);
        // The body: every later line that is blank, a continuation, or indented deeper than the header.
        let mut last = header_line;
        for (next, continues) in continuation.iter().enumerate().skip(header_line + 1) {
            if src.is_blank(next) {
                continue;
            }
            if *continues || indent_of(src.line_text(&src.code, next)) > indent {
                last = next;
            } else {
                break;
            }
        }
        let mut first = line;
        while first > 0 {
            let above = src.line_text(&src.code, first - 1);
            if statement(first - 1) && indent_of(above) == indent && above.trim_start().starts_with('@') {
                first -= 1;
            } else if continuation[first - 1] && first >= 2 {
                // A multi-line decorator argument: keep going up to its `@` line.
                first -= 1;
            } else {
                break;
            }
        }
        // A continuation line that did not lead to a decorator belongs to something else.
        while first < line && !src.line_text(&src.code, first).trim_start().starts_with('@') {
            first += 1;
        }
        let qualified = match classes.last() {
            Some((_, parent)) => format!("{parent}.{}", name.as_str()),
            None => name.as_str().to_string(),
        };
        let kind = if kind == SymbolKind::Function && !classes.is_empty() { SymbolKind::Method } else { kind };
        let end_line = last.min(src.line_count() - 1);
        let end = src.line_starts[end_line] + src.line_text(&src.code, end_line).len();
        symbols.push(Symbol {
            name: qualified.clone(),
            kind,
            signature: src.signature(start, colon),
            span: src.span(src.line_starts[first], end.max(src.line_starts[first])),
            doc: docstring(src, colon + 1),
        });
        if kind == SymbolKind::Class {
            classes.push((indent, qualified));
            line = header_line + 1;
        } else {
            line = last + 1;
        }
    }
    symbols
}

/// The offset of the `:` ending a `def` or `class` header (or of the newline where a broken header stops).
fn header_end(code: &[u8], start: usize) -> usize {
    let mut depth = 0i64;
    for (i, b) in code.iter().enumerate().skip(start) {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b':' | b'\n' if depth <= 0 => return i,
            _ => {}
        }
    }
    code.len()
}

/// The first paragraph of the string literal that opens a body at `from`, if it starts with one.
fn docstring(src: &Source, from: usize) -> Option<String> {
    let code = src.code.as_bytes();
    let mut i = (from..code.len()).find(|&i| !code[i].is_ascii_whitespace())?;
    while i < code.len() && matches!(code[i], b'r' | b'R' | b'u' | b'U') {
        i += 1;
    }
    let quote = *code.get(i).filter(|q| matches!(q, b'"' | b'\''))?;
    let width = if code.get(i + 1) == Some(&quote) && code.get(i + 2) == Some(&quote) { 3 } else { 1 };
    // The contents are blanked in `code`, so the next quote is the closing one.
    let open = i + width;
    let close = (open..code.len()).find(|&j| code[j] == quote).unwrap_or(code.len());
    first_paragraph(src.text.get(open..close)?.lines())
}

// ---------------------------------------------------------------------------------------------------------------
// Documentation and signatures.

/// The doc comment right above 0-based `line`: `///` (Rust), `/** … */` (Rust, JavaScript, TypeScript, Go) or a
/// run of `//` lines (Go).
fn doc_comment(src: &Source, lang: Lang, line: usize) -> Option<String> {
    let comment_line = |l: usize| {
        let original = src.line_text(src.text, l).trim();
        (src.is_blank(l) && !original.is_empty()).then_some(original)
    };
    let above = line.checked_sub(1)?;
    let last = comment_line(above)?;
    if last.ends_with("*/") {
        let mut first = above;
        while !src.line_text(src.text, first).contains("/**") {
            first = first.checked_sub(1).filter(|l| comment_line(*l).is_some())?;
        }
        let lines: Vec<&str> = (first..=above).filter_map(comment_line).collect();
        let text = lines.join("\n");
        let text = text.split_once("/**")?.1;
        let text = text.rsplit_once("*/").map_or(text, |(body, _)| body);
        let lines = text.lines().map(|l| l.trim().trim_start_matches('*')).take_while(|l| !l.trim().starts_with('@'));
        return first_paragraph(lines);
    }
    let marker = match lang {
        Lang::Rust => "///",
        Lang::Go => "//",
        _ => return None,
    };
    let is_doc = |text: &str| text.starts_with(marker) && !(lang == Lang::Rust && text.starts_with("////"));
    let mut first = above;
    while first > 0 && comment_line(first - 1).is_some_and(is_doc) {
        first -= 1;
    }
    let lines: Vec<&str> = (first..=above).filter_map(comment_line).filter(|t| is_doc(t)).collect();
    if lines.is_empty() {
        return None;
    }
    first_paragraph(lines.iter().map(|l| &l[marker.len()..]))
}

/// Lines up to the first blank one (after leading blanks), joined by spaces and cut to [`DOC_MAX_CHARS`].
fn first_paragraph<'l>(lines: impl Iterator<Item = &'l str>) -> Option<String> {
    let words: Vec<&str> = lines
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .flat_map(str::split_whitespace)
        .collect();
    if words.is_empty() {
        return None;
    }
    Some(cut(&words.join(" "), DOC_MAX_CHARS))
}

/// `text` cut to at most `max` characters, the last one `…` when something was cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Collapses whitespace and joins parameter lists that were spread over lines: `f(\n  a,\n  b,\n)` → `f(a, b)`.
fn normalize_signature(head: &str) -> String {
    let collapsed = head.split_whitespace().collect::<Vec<_>>().join(" ");
    let joined = collapsed.replace("( ", "(").replace("[ ", "[").replace(" )", ")").replace(" ]", "]");
    let joined = joined.replace(",)", ")").replace(",]", "]");
    cut(joined.trim(), SIGNATURE_MAX_CHARS)
}

#[cfg(test)]
#[path = "symbols_tests.rs"]
mod tests;
