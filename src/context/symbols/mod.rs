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

/// A regex compiled once per pattern site (the submodules below use it, so it is defined before them).
macro_rules! regex {
    ($pattern:expr) => {{
        static RE: OnceLock<Regex> = OnceLock::new();
        RE.get_or_init(|| Regex::new($pattern).expect("a valid built-in pattern"))
    }};
}

mod braced;
mod lexer;
mod python;

use braced::*;
use lexer::*;
use python::*;

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
mod tests;
