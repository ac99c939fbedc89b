//! o200k_base's pre-tokenizer: the pieces its pattern cuts a text into, each then encoded on its own. The pattern,
//! as tiktoken and js-tiktoken give it, tried in this order at each position (the first alternative that matches
//! wins, with the regex engine's greedy-then-backtrack quantifiers):
//!
//! 1. `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(contraction)?`
//! 2. `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(contraction)?`
//! 3. `\p{N}{1,3}`
//! 4. ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
//! 5. `\s*[\r\n]+`
//! 6. `\s+(?!\S)`
//! 7. `\s+`
//!
//! where a contraction is `'s`, `'t`, `'re`, `'ve`, `'m`, `'ll` or `'d` in any case. Every character matches one of
//! them, so the pieces cover the text. Written by hand, over the classes of [`super::unicode_tables`].

use super::unicode_tables::{ASCII, CLASSES, STARTS};

/// A character's class; the numbers are the generated tables'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Other = 0,
    /// `Lu`, `Lt`: only in the pattern's upper part.
    Upper = 1,
    /// `Ll`: only in its lower part.
    Lower = 2,
    /// `Lm`, `Lo`: letters in both parts.
    Letter = 3,
    /// `M`: in both parts, but not a letter (so also a prefix and punctuation).
    Mark = 4,
    Number = 5,
    /// JavaScript's `\s`.
    Space = 6,
}

impl Class {
    fn from_table(k: u8) -> Class {
        match k {
            1 => Class::Upper,
            2 => Class::Lower,
            3 => Class::Letter,
            4 => Class::Mark,
            5 => Class::Number,
            6 => Class::Space,
            _ => Class::Other,
        }
    }

    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`
    fn upper_part(self) -> bool {
        matches!(self, Class::Upper | Class::Letter | Class::Mark)
    }

    /// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`
    fn lower_part(self) -> bool {
        matches!(self, Class::Lower | Class::Letter | Class::Mark)
    }

    fn letter(self) -> bool {
        matches!(self, Class::Upper | Class::Lower | Class::Letter)
    }

    /// `[^\s\p{L}\p{N}]`
    fn punctuation(self) -> bool {
        matches!(self, Class::Other | Class::Mark)
    }
}

fn class_of(c: u32) -> Class {
    if c < 128 {
        return Class::from_table(ASCII[c as usize]);
    }
    let index = STARTS.partition_point(|start| *start <= c) - 1;
    Class::from_table(CLASSES[index])
}

/// The pieces of a text, as byte ranges, in order.
pub(super) struct Pieces<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Pieces<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Pieces { text, at: 0 }
    }

    /// The character at `at` and its class, or `None` at the end.
    fn char_at(&self, at: usize) -> Option<(u32, Class, usize)> {
        let c = self.text.get(at..)?.chars().next()?;
        Some((c as u32, class_of(c as u32), c.len_utf8()))
    }

    /// The end of the run of characters from `at` whose class passes `keep`.
    fn run(&self, mut at: usize, keep: impl Fn(Class) -> bool) -> usize {
        while let Some((_, class, len)) = self.char_at(at) {
            if !keep(class) {
                break;
            }
            at += len;
        }
        at
    }

    /// Alternative 1's body from `at`, `[upper]*[lower]+`: the end, or `None`.
    fn upper_then_lower(&self, at: usize) -> Option<usize> {
        // The greedy upper run gives characters back until one of them, or the one after the run, starts the lower
        // run; only the last character that is in both parts can, and its lower run ends where the upper run did.
        let mut end = at;
        let mut last_both = None;
        while let Some((_, class, len)) = self.char_at(end) {
            if !class.upper_part() {
                break;
            }
            end += len;
            if class.lower_part() {
                last_both = Some(end);
            }
        }
        match self.char_at(end) {
            Some((_, class, _)) if class.lower_part() => Some(self.run(end, Class::lower_part)),
            _ => last_both,
        }
    }

    /// Alternative 2's body from `at`, `[upper]+[lower]*`: the end, or `None`.
    fn upper_then_maybe_lower(&self, at: usize) -> Option<usize> {
        let upper = self.run(at, Class::upper_part);
        (upper > at).then(|| self.run(upper, Class::lower_part))
    }

    /// The length of the contraction at `at`, if one starts there.
    fn contraction(&self, at: usize) -> usize {
        let rest = &self.text.as_bytes()[at.min(self.text.len())..];
        if rest.first() != Some(&b'\'') {
            return 0;
        }
        let lower = |i: usize| rest.get(i).map(u8::to_ascii_lowercase);
        match (lower(1), lower(2)) {
            (Some(b's' | b't' | b'm' | b'd'), _) => 2,
            (Some(b'r' | b'v'), Some(b'e')) | (Some(b'l'), Some(b'l')) => 3,
            _ => 0,
        }
    }

    /// Alternatives 1 and 2: a word with an optional prefix character.
    fn word(&self, start: usize, first: Class, first_len: usize, c: u32) -> Option<usize> {
        let prefixed = (!first.letter() && first != Class::Number && c != u32::from(b'\r') && c != u32::from(b'\n'))
            .then_some(start + first_len);
        let bare = (first.upper_part() || first.lower_part()).then_some(start);
        type Body<'b> = fn(&Pieces<'b>, usize) -> Option<usize>;
        let bodies: [Body<'a>; 2] = [Pieces::upper_then_lower, Pieces::upper_then_maybe_lower];
        for body in bodies {
            for from in [prefixed, bare].into_iter().flatten() {
                if let Some(end) = body(self, from) {
                    return Some(end + self.contraction(end));
                }
            }
        }
        None
    }

    /// The end of the piece that starts at `start`.
    fn piece_end(&self, start: usize) -> usize {
        let (c, first, first_len) = self.char_at(start).expect("not at the end");
        if first != Class::Number {
            if let Some(end) = self.word(start, first, first_len, c) {
                return end;
            }
        }
        if first == Class::Number {
            let mut end = start;
            for _ in 0..3 {
                match self.char_at(end) {
                    Some((_, Class::Number, len)) => end += len,
                    _ => break,
                }
            }
            return end;
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
        let body = if c == u32::from(b' ') { start + 1 } else { start };
        let run = self.run(body, Class::punctuation);
        if run > body {
            let mut end = run;
            while matches!(self.text.as_bytes().get(end), Some(b'\r' | b'\n' | b'/')) {
                end += 1;
            }
            return end;
        }
        // Whitespace: `\s*[\r\n]+` through the run's last line break; else `\s+(?!\S)`, all of a run that ends the
        // text and all but the last character of one before a non-space; else `\s+`, the one character.
        let mut end = start;
        let mut last_break = None;
        let mut last_len = 0;
        while let Some((c, Class::Space, len)) = self.char_at(end) {
            end += len;
            last_len = len;
            if c == u32::from(b'\r') || c == u32::from(b'\n') {
                last_break = Some(end);
            }
        }
        if let Some(end) = last_break {
            return end;
        }
        if end == self.text.len() || end - last_len == start {
            return end;
        }
        end - last_len
    }
}

impl Iterator for Pieces<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        if self.at >= self.text.len() {
            return None;
        }
        let start = self.at;
        self.at = self.piece_end(start);
        Some((start, self.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        Pieces::new(text).map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn splits_words_with_their_prefix_and_case_classes() {
        assert_eq!(pieces("Hello world"), ["Hello", " world"]);
        assert_eq!(pieces("don't HTTPRequest fooBar"), ["don't", " HTTPRequest", " foo", "Bar"]);
        assert_eq!(pieces("HTTP"), ["HTTP"]);
        assert_eq!(pieces("(foo) ..bar"), ["(foo", ")", " ..", "bar"]);
        assert_eq!(pieces("\tlet"), ["\tlet"]);
    }

    #[test]
    fn contractions_follow_upper_and_lower_runs() {
        assert_eq!(pieces("IT'S HE'LL we'll You'RE"), ["IT'S", " HE'LL", " we'll", " You'RE"]);
        assert_eq!(pieces("o'clock rock'n'roll"), ["o", "'clock", " rock", "'n", "'roll"]);
        assert_eq!(pieces("x'"), ["x", "'"]);
    }

    #[test]
    fn splits_digits_in_threes() {
        assert_eq!(pieces("1234567"), ["123", "456", "7"]);
        assert_eq!(pieces("x = 12345;\n\n    y"), ["x", " =", " ", "123", "45", ";\n\n", "   ", " y"]);
        assert_eq!(pieces("٣٤٥٦ ²³"), ["٣٤٥", "٦", " ", "²³"]);
    }

    #[test]
    fn splits_whitespace_like_the_pattern() {
        assert_eq!(pieces("a  b"), ["a", " ", " b"]);
        assert_eq!(pieces("end  \n  next"), ["end", "  \n", " ", " next"]);
        assert_eq!(pieces("a\r\n\r\nb"), ["a", "\r\n\r\n", "b"]);
        assert_eq!(pieces("a \r\n \t\r\n  "), ["a", " \r\n \t\r\n", "  "]);
        assert_eq!(pieces("trailing   "), ["trailing", "   "]);
        assert_eq!(pieces("x\t\t(y"), ["x", "\t", "\t", "(y"]);
        assert_eq!(pieces("a\u{3000}\u{3000}b"), ["a", "\u{3000}", "\u{3000}b"]);
    }

    #[test]
    fn splits_other_scripts_marks_and_emoji() {
        assert_eq!(pieces("漢字かな 한국어"), ["漢字かな", " 한국어"]);
        assert_eq!(pieces("Привет, мир"), ["Привет", ",", " мир"]);
        assert_eq!(pieces("cafe\u{301} e\u{301}"), ["cafe\u{301}", " e\u{301}"]);
        // A leading mark is a prefix, and a piece of its own before an upper-case run.
        assert_eq!(pieces("\u{301}abc"), ["\u{301}abc"]);
        assert_eq!(pieces("\u{301}ABC"), ["\u{301}", "ABC"]);
        assert_eq!(pieces("ok 👍🏽!"), ["ok", " 👍🏽!"]);
        assert_eq!(pieces("नमस्ते"), ["नमस्ते"]);
    }

    #[test]
    fn pieces_cover_the_text() {
        let text = "fn main() {\n\tlet x = \"ÄÖÜ straße\";\r\n  // 42 ünïcödé — 東京 👍\n}\n \u{a0}";
        assert_eq!(pieces(text).concat(), text);
    }
}
