//! Path globs with real `**` semantics, for forbidden paths and include/exclude rules.
//!
//! Patterns follow gitignore, matched against relative, `/`-separated paths (the form
//! [`crate::path::normalize_relative`] produces):
//!
//! - `*` matches any run of characters within one segment, never `/`. It also matches a leading `.`, unlike a
//!   shell: a policy that forbids `*.key` must catch `.deploy.key` too.
//! - `?` matches exactly one character other than `/`.
//! - `[abc]`, `[a-z]` and `[!a]` (or `[^a]`) match one character from, or not from, the class. A `]` right after
//!   `[` or `[!` is a member, not the end of the class.
//! - `\` makes the next character literal: `\*` matches a `*`, `\[` a `[`, `\!` a leading `!`.
//! - `**` as a whole segment matches zero or more segments: `a/**/b` matches `a/b` and `a/x/y/b`, and `**/x`
//!   matches `x` at any depth. A trailing `/**` matches everything below the directory but **not the directory
//!   itself**: `a/**` matches `a/f` and `a/x/f`, not `a` (as in gitignore).
//! - A pattern without a `/` (other than a trailing one) matches the last segment at any depth: `*.pem` matches
//!   `keys/prod/server.pem`, `.env` matches `app/.env`. A pattern with a `/` in front or in the middle is anchored
//!   at the root: `config/*.yaml` matches `config/a.yaml`, not `x/config/a.yaml`; `/.env` matches only `.env`.
//! - A pattern that matches a directory matches everything below it, as in gitignore (which never descends into
//!   an ignored directory): `.ssh` matches `.ssh/id_rsa`, and `secrets.yaml` matches `secrets.yaml/x`.
//! - A trailing `/` matches directories only: `build/` matches `build/out.o` and `src/build/x`, not a file named
//!   `build`. A path ending in `/` names a directory, so `build/` matches `build/` itself.
//!
//! Rejected with [`ErrorCode::PathInvalid`], naming the pattern: an empty pattern, `**` next to other characters
//! in a segment (`a**b` is ambiguous; write `a*b` or `a/**/b`), empty, `.` or `..` segments (a path never has
//! them, so the pattern could never match), an unclosed `[`, a reversed range (`[z-a]`), a trailing `\`, and a
//! leading `!` (negation belongs to the exclude rules that use globs, not to a glob).
//!
//! Patterns and paths are compared in NFC, the form paths take inside packs.
//!
//! Matching is segment-wise: a table of (pattern segment, path segment) positions is filled once, so `**`
//! backtracking costs at most `pattern segments × path segments` segment matches, and each segment match is the
//! linear-ish single-star wildcard algorithm.

use crate::error::{Error, ErrorCode, Result};
use crate::path::printable;
use std::borrow::Cow;
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// A parsed glob; see the module documentation for its semantics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    source: String,
    segments: Vec<Segment>,
    directories_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: zero or more whole segments.
    AnyDepth,
    /// Everything else: one path segment, matched token by token.
    Tokens(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyChar,
    AnyRun,
    Class { negated: bool, ranges: Vec<(char, char)> },
}

impl Glob {
    pub fn parse(pattern: &str) -> Result<Glob> {
        let invalid = |why: &str| {
            Error::new(ErrorCode::PathInvalid, format!("glob {why}"))
                .at(printable(pattern))
                .hint("see the glob rules: `*` and `?` within a segment, `**` as a whole segment, `[a-z]` classes, `\\` escapes")
        };
        if pattern.is_empty() {
            return Err(invalid("is empty"));
        }
        if pattern.starts_with('!') {
            return Err(invalid(
                "starts with '!'; put negated paths in an exclude rule, or write `\\!` for a literal '!'",
            ));
        }
        // Paths inside packs are NFC; a pattern typed with decomposed accents must still match them.
        let normalized: String = pattern.nfc().collect();
        let anchored_by_slash = normalized.starts_with('/');
        let body = normalized.strip_prefix('/').unwrap_or(&normalized);
        let directories_only = body.ends_with('/');
        let body = if directories_only { &body[..body.len() - 1] } else { body };
        if body.is_empty() {
            return Err(invalid("has no segment"));
        }

        let mut segments = Vec::new();
        for raw in body.split('/') {
            segments.push(parse_segment(raw).map_err(|why| invalid(&why))?);
        }
        // Anchored: a leading `/`, or a `/` in the middle. Otherwise the one segment may sit at any depth.
        if !anchored_by_slash && segments.len() == 1 && segments[0] != Segment::AnyDepth {
            segments.insert(0, Segment::AnyDepth);
        }
        // A trailing `**` needs at least one segment below the directory, so it never matches the directory
        // itself. One "any segment" does that; whatever lies deeper is covered because a match on a directory
        // covers everything below it.
        if segments.last() == Some(&Segment::AnyDepth) {
            segments.pop();
            segments.push(Segment::Tokens(vec![Token::AnyRun]));
        }
        Ok(Glob { source: pattern.to_string(), segments, directories_only })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `path` (relative, `/`-separated; a trailing `/` marks a directory) matches the pattern, or lies
    /// below a directory that does.
    pub fn matches(&self, path: &str) -> bool {
        self.matches_split(&SplitPath::new(path))
    }

    /// [`Glob::matches`] for a path split once for many patterns.
    pub fn matches_split(&self, path: &SplitPath) -> bool {
        let path_len = path.segments.len();
        // Most patterns are one segment at any depth (`*.pem`, `.env`): some path segment matches it, and is the
        // last one unless the pattern may match a directory. A policy checks every item's path against each of
        // its patterns, so this skips the table for them.
        if let [Segment::AnyDepth, Segment::Tokens(tokens)] = self.segments.as_slice() {
            return path.segments.iter().enumerate().any(|(j, segment)| {
                (j + 1 < path_len || !self.directories_only || path.directory) && segment_matches(tokens, segment)
            });
        }
        self.table_matches(path)
    }

    /// [`Glob::matches_split`] by the table of (pattern segment, path segment) positions.
    fn table_matches(&self, path: &SplitPath) -> bool {
        let (pattern_len, path_len) = (self.segments.len(), path.segments.len());
        // matched[i * width + j]: pattern segments i.. match path segments j.. (or a directory prefix of them).
        let width = path_len + 1;
        let mut matched = vec![false; (pattern_len + 1) * width];
        for j in 0..=path_len {
            // The pattern is used up: the path matches if what is left lies below the matched directory, or
            // nothing is left and the pattern does not insist on a directory.
            matched[pattern_len * width + j] = j < path_len || !self.directories_only || path.directory;
        }
        for i in (0..pattern_len).rev() {
            for j in (0..=path_len).rev() {
                matched[i * width + j] = match &self.segments[i] {
                    Segment::AnyDepth => matched[(i + 1) * width + j] || (j < path_len && matched[i * width + j + 1]),
                    Segment::Tokens(tokens) => {
                        j < path_len && matched[(i + 1) * width + j + 1] && segment_matches(tokens, &path.segments[j])
                    }
                };
            }
        }
        matched[0] && path_len > 0
    }
}

/// A path as patterns match it: its segments' characters (NFC), and whether it names a directory.
pub struct SplitPath {
    segments: Vec<Vec<char>>,
    directory: bool,
}

impl SplitPath {
    pub fn new(path: &str) -> SplitPath {
        let directory = path.ends_with('/');
        let path: Cow<str> = if path.is_ascii() { Cow::Borrowed(path) } else { Cow::Owned(path.nfc().collect()) };
        let segments = path.split('/').filter(|s| !s.is_empty()).map(|s| s.chars().collect()).collect();
        SplitPath { segments, directory }
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn parse_segment(raw: &str) -> std::result::Result<Segment, String> {
    match raw {
        "**" => return Ok(Segment::AnyDepth),
        "" => return Err("has an empty segment".to_string()),
        "." | ".." => return Err(format!("has a {raw:?} segment, which no path contains")),
        _ => {}
    }
    let mut tokens = Vec::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            '\\' => Token::Literal(chars.next().ok_or("ends with '\\', which escapes nothing")?),
            '?' => Token::AnyChar,
            '*' if chars.peek() == Some(&'*') => {
                return Err(format!(
                    "segment {raw:?} has '**' next to other characters; write '*' or make '**' a whole segment"
                ))
            }
            '*' => Token::AnyRun,
            '[' => parse_class(&mut chars)
                .ok_or_else(|| format!("segment {raw:?} has an unclosed or reversed '[' class"))?,
            _ => Token::Literal(c),
        };
        tokens.push(token);
    }
    Ok(Segment::Tokens(tokens))
}

/// Parses a class after its `[`; `None` if it is unclosed or has a reversed range.
fn parse_class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<Token> {
    let negated = matches!(chars.peek(), Some('!' | '^'));
    if negated {
        chars.next();
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let mut low = chars.next()?;
        if low == ']' && !first {
            return Some(Token::Class { negated, ranges });
        }
        first = false;
        if low == '\\' {
            low = chars.next()?;
        }
        let mut high = low;
        if chars.peek() == Some(&'-') {
            let mut lookahead = chars.clone();
            lookahead.next();
            // `[a-]` ends with a literal '-'; `[a-z]` is a range.
            if matches!(lookahead.peek(), Some(c) if *c != ']') {
                chars.next();
                high = chars.next()?;
                if high == '\\' {
                    high = chars.next()?;
                }
                if high < low {
                    return None;
                }
            }
        }
        ranges.push((low, high));
    }
}

fn token_matches_char(token: &Token, c: char) -> bool {
    match token {
        Token::Literal(l) => *l == c,
        Token::AnyChar => true,
        Token::Class { negated, ranges } => ranges.iter().any(|&(low, high)| (low..=high).contains(&c)) != *negated,
        Token::AnyRun => unreachable!("AnyRun is handled by segment_matches"),
    }
}

/// Single-star wildcard matching: on a mismatch, retry from the last `*` with it eating one more character.
/// Each `*` only ever moves forward, so this is O(tokens × chars) at worst and linear in practice.
fn segment_matches(tokens: &[Token], text: &[char]) -> bool {
    let (mut t, mut c) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while c < text.len() {
        match tokens.get(t) {
            Some(Token::AnyRun) => {
                last_star = Some((t, c));
                t += 1;
            }
            Some(token) if token_matches_char(token, text[c]) => {
                t += 1;
                c += 1;
            }
            _ => match last_star {
                Some((star, eaten_until)) => {
                    last_star = Some((star, eaten_until + 1));
                    t = star + 1;
                    c = eaten_until + 1;
                }
                None => return false,
            },
        }
    }
    tokens[t..].iter().all(|token| *token == Token::AnyRun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(table: &[(&str, &str, bool)]) {
        for &(pattern, path, expected) in table {
            let glob = Glob::parse(pattern).unwrap_or_else(|e| panic!("{pattern:?} should parse: {e}"));
            assert_eq!(glob.matches(path), expected, "pattern {pattern:?} against path {path:?}");
        }
    }

    #[test]
    fn star_and_question_mark_stay_within_one_segment() {
        check(&[
            ("*.rs", "main.rs", true),
            ("*.rs", "src/context/glob.rs", true),
            ("*.rs", "main.rsx", false),
            ("src/*.rs", "src/main.rs", true),
            ("src/*.rs", "src/context/glob.rs", false),
            ("src/*", "src/context/glob.rs", true), // `src/context` is a matched directory
            ("a*b", "a/b", false),
            ("a*b", "ab", true),
            ("a*b", "axxb", true),
            ("a*b*c", "abxbxc", true),
            ("a*b*c", "abxbx", false),
            ("*", "anything/at/all", true),
            ("?.txt", "a.txt", true),
            ("?.txt", "ab.txt", false),
            ("?.txt", ".txt", false),
            ("a?b", "a/b", false),
            ("é?", "dir/éa", true),
            ("cafe\u{301}.pem", "k/caf\u{e9}.pem", true),
            ("caf\u{e9}.pem", "k/cafe\u{301}.pem", true),
        ]);
    }

    #[test]
    fn double_star_spans_zero_or_more_segments() {
        check(&[
            ("a/**/b", "a/b", true),
            ("a/**/b", "a/x/b", true),
            ("a/**/b", "a/x/y/b", true),
            ("a/**/b", "a/x/y/c", false),
            ("a/**/b", "x/a/b", false),
            ("a/**/b/**/c", "a/1/b/2/3/c", true),
            ("a/**/b/**/c", "a/b/c", true),
            ("a/**/b/**/c", "a/c/b", false),
            ("**/x", "x", true),
            ("**/x", "deep/down/x", true),
            ("**/x", "deep/down/x/inner", true),
            ("**/x", "deep/down/xy", false),
            ("**/*.pem", "k/s.pem", true),
            ("**", "anything/at/all", true),
            ("**", "f", true),
            ("**/**/z", "z", true),
            ("**/a/**", "q/a/f", true),
            ("**/a/**", "q/a", false),
        ]);
    }

    #[test]
    fn trailing_double_star_matches_below_the_directory_not_the_directory() {
        check(&[
            (".secrets/**", ".secrets/token", true),
            (".secrets/**", ".secrets/deep/nested/token", true),
            (".secrets/**", ".secrets", false),
            (".secrets/**", ".secrets/", false),
            (".secrets/**", "app/.secrets/token", false), // has a '/', so anchored
            (".secrets/**", ".secretsx/token", false),
            (".ssh/**", ".ssh/id_ed25519", true),
        ]);
    }

    #[test]
    fn a_pattern_without_a_slash_matches_the_basename_at_any_depth() {
        check(&[
            ("*.pem", "keys/prod/server.pem", true),
            ("*.pem", "server.pem", true),
            ("*.pem", "server.pem.txt", false),
            (".env", ".env", true),
            (".env", "app/.env", true),
            (".env", "app/.envrc", false),
            (".env", "app/x.env", false),
            (".env.*", "app/.env.local", true),
            (".env.*", ".env", false),
            ("secrets.yaml", "deploy/secrets.yaml", true),
            ("credentials.json", "credentials.json.bak", false),
            // A matched directory covers what is below it.
            (".env", "app/.env/nested", true),
            ("node_modules", "web/node_modules/x/index.js", true),
        ]);
    }

    #[test]
    fn a_slash_anchors_the_pattern_at_the_root() {
        check(&[
            ("/.env", ".env", true),
            ("/.env", "app/.env", false),
            ("config/*.yaml", "config/a.yaml", true),
            ("config/*.yaml", "x/config/a.yaml", false),
            ("/config/*.yaml", "config/a.yaml", true),
            ("a/b", "a/b/c", true),
            ("a/b", "a/bc", false),
        ]);
    }

    #[test]
    fn a_trailing_slash_matches_directories_only() {
        check(&[
            ("build/", "build/out.o", true),
            ("build/", "src/build/out.o", true),
            ("build/", "build", false),
            ("build/", "build/", true),
            ("build/", "src/build", false),
            ("/build/", "src/build/out.o", false),
            ("a/**/", "a/x/f", true),
            ("a/**/", "a/x", false),
        ]);
    }

    #[test]
    fn dotfiles_are_matched_by_star() {
        check(&[
            ("*", ".env", true),
            ("*.key", ".deploy.key", true),
            ("*.key", "keys/.key", true),
            (".*", "a/.hidden", true),
            (".*", "a/visible", false),
        ]);
    }

    #[test]
    fn the_shortcut_for_one_segment_at_any_depth_agrees_with_the_table() {
        let patterns = ["*.pem", ".env", "build/", "id_rsa*", "*", "[a-c]?", "x", "**"];
        let paths = [
            "x",
            "a/x",
            "x/",
            "a/x/",
            "x/a",
            "build",
            "build/",
            "src/build",
            "src/build/",
            "src/build/o",
            "k/s.pem",
            "s.pem/",
            ".env",
            "a/.env/b",
            "id_rsa.pub",
            "b1",
            "a/bb/c",
        ];
        for pattern in patterns {
            let glob = Glob::parse(pattern).unwrap();
            for path in paths {
                let split = SplitPath::new(path);
                assert_eq!(glob.matches_split(&split), glob.table_matches(&split), "{pattern:?} against {path:?}");
            }
        }
    }

    #[test]
    fn classes() {
        check(&[
            ("[abc].txt", "b.txt", true),
            ("[abc].txt", "d.txt", false),
            ("[a-z].txt", "q.txt", true),
            ("[a-z].txt", "Q.txt", false),
            ("[!a].txt", "b.txt", true),
            ("[!a].txt", "a.txt", false),
            ("[^a].txt", "a.txt", false),
            ("[]].txt", "].txt", true),
            ("[!]].txt", "].txt", false),
            ("[a-].txt", "-.txt", true),
            ("[0-9a-f][0-9a-f]", "obj/7e", true),
            ("[0-9a-f][0-9a-f]", "obj/7g", false),
            ("*.p[18x]*", "cert.p12", true),
            ("*.[pP][eE][mM]", "X.PEM", true),
        ]);
    }

    #[test]
    fn backslash_escapes_special_characters() {
        check(&[
            ("\\*.txt", "*.txt", true),
            ("\\*.txt", "a.txt", false),
            ("a\\?", "a?", true),
            ("a\\?", "ab", false),
            ("\\[x]", "[x]", true),
            ("\\!important", "!important", true),
            ("[\\]]", "]", true),
        ]);
    }

    #[test]
    fn the_original_forbidden_paths_policy() {
        let forbidden: Vec<Glob> = [
            ".env",
            ".env.*",
            "*.key",
            "*.pem",
            "*.p12",
            "*.pfx",
            ".secrets/**",
            "secrets.yaml",
            "credentials.json",
            ".ssh/**",
            ".gnupg/**",
        ]
        .iter()
        .map(|p| Glob::parse(p).unwrap())
        .collect();
        let forbidden_match = |path: &str| forbidden.iter().any(|g| g.matches(path));
        for path in
            [".env", "svc/.env.production", "tls/server.key", "a/b/c.pem", ".secrets/db", ".ssh/id_rsa", ".gnupg/x"]
        {
            assert!(forbidden_match(path), "{path} should be forbidden");
        }
        for path in ["src/env.rs", "README.md", "keys.md", "docs/.secrets.md", "ssh/config", "pem/readme.txt"] {
            assert!(!forbidden_match(path), "{path} should be allowed");
        }
    }

    #[test]
    fn empty_paths_never_match() {
        check(&[("**", "", false), ("*", "", false), ("a/**/b", "", false)]);
    }

    #[test]
    fn bad_patterns_are_rejected_naming_the_pattern() {
        for bad in ["", "/", "a**b", "a/**b", "a//b", "a/./b", "../a", "[abc", "[z-a]", "x\\", "!x", "[!"] {
            let e = Glob::parse(bad).expect_err(bad);
            assert_eq!(e.code, ErrorCode::PathInvalid, "{bad:?}");
            assert_eq!(e.subject.as_deref(), Some(bad), "{bad:?}");
        }
    }

    #[test]
    fn many_double_stars_stay_fast() {
        let glob = Glob::parse("**/a/**/a/**/a/**/a/**/b").unwrap();
        let path = vec!["a"; 200].join("/");
        assert!(!glob.matches(&path));
        let star = Glob::parse("*a*a*a*a*a*b").unwrap();
        assert!(!star.matches(&"a".repeat(2000)));
    }

    #[test]
    fn displays_the_pattern_as_written() {
        let glob = Glob::parse("/keys/*.pem").unwrap();
        assert_eq!(glob.as_str(), "/keys/*.pem");
        assert_eq!(glob.to_string(), "/keys/*.pem");
    }
}
