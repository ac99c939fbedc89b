//! Token estimates the way o200k_base counts: split the text into the pieces its pre-tokenizer makes, then add up
//! each piece's measured mean tokens.
//!
//! o200k_base (like cl100k_base) first cuts text with a regular expression — a word with the one space or
//! punctuation character before it, up to three digits, a punctuation run, a run of line breaks, a run of spaces
//! — and then encodes each piece on its own, so a text's tokens are exactly the sum of its pieces' tokens.
//! [`split`] makes the same cuts without a regex engine. A piece's tokens depend on the vocabulary, which the
//! estimator does not hold; instead it looks up the mean tokens of pieces of the same kind (the script of a word
//! and its case, a digit group, punctuation, spacing; base64 and hex runs apart) and length in
//! [`crate::context::token_table`], measured on real text by `bench/tokens-fit.mjs`. Summed over the pieces of a
//! text the means are close (the error of one word averages out over many) and the sum is then raised by a
//! margin so the estimate errs high. Words of English, of the major European languages and of Russian take
//! fewer tokens than the same letters in other languages: a text where common words of one of them are frequent
//! gets tables measured on such text.

use crate::context::token_table::{MAX_LEN, PIECE_TOKENS_X1000};
use crate::context::trigrams::FAMILIAR_TRIGRAMS;
use std::collections::HashMap;
use std::sync::OnceLock;

/// What the margin is chosen from: the measured means of a text's pieces (× 1000) split by how well the tables
/// predict them, its language tables and its lines.
#[derive(Debug, Default, Clone)]
pub(crate) struct Measure {
    /// Mean tokens × 1000 by [`Kind`].
    pub milli: [u64; KINDS],
    pub language: LanguageMatch,
    /// Lines (line breaks + 1) and characters: catalogues of short strings vary more than running text.
    pub lines: u64,
    pub chars: u64,
    /// Per mille of the trigrams of its ASCII letter runs that o200k_base's vocabulary holds few tokens with:
    /// words of languages it saw little of split into more tokens than the tables' means.
    pub unfamiliar_per_mille: u64,
}

/// How well the tables predict a piece, the margin's classes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Letters with the English-like tables.
    LatinEnglish = 0,
    /// Letters with the European or Russian tables.
    LatinEuropean,
    /// Latin letters of a text in no listed language.
    LatinOther,
    Cyrillic,
    /// Han, kana, Hangul.
    Cjk,
    /// Every other script, measured or not.
    OtherScript,
    /// Base64 and hex runs.
    Dense,
    /// Digits, punctuation, spaces, line breaks.
    Layout,
}
pub(crate) const KINDS: usize = 8;

/// The margin's coefficients (per mille) per group of texts: a constant, then per mille of each feature of
/// [`margin_per_mille`]. Fitted by `bench/tokens-margin.mjs` on the tuning material so that the fewest texts are
/// under-counted by more than 10 % while the mean absolute error stays under 8 %.
const MARGINS: [[i64; 8]; 5] = [
    // constant, few listed words, short lines, non-ASCII words, layout, CJK and other scripts, base64/hex,
    // unfamiliar trigrams
    [967, 132, -29, -50, 3, 18, -27, 137],      // English-like
    [1050, 109, -66, 24, -10, -743, -1431, -3], // major European
    [1121, -43, 0, -3, -13, 0, -40, 0],         // Russian
    [1040, 3, 83, 0, -21, 6, -31, 3],           // no listed language, mostly not Latin letters
    [1037, 0, 98, 12, -9, -491, -146, 44],      // no listed language, Latin letters
];

/// The margin (per mille of the measured means): where the tables predict a text less surely — few words of
/// the listed languages, catalogues of short lines, letters outside ASCII — it grows, so the estimate errs high.
fn margin_per_mille(measure: &Measure) -> u64 {
    let total = measure.milli.iter().sum::<u64>().max(1);
    let share = |milli: u64| (milli * 1000 / total) as i64;
    let group = match measure.language.name {
        "@en" => 0,
        "@eu" => 1,
        "@ru" => 2,
        _ if measure.milli[Kind::LatinOther as usize] * 10 < total * 4 => 3,
        _ => 4,
    };
    let features = [
        1000,
        (300 - (measure.language.hits_per_mille as i64).min(300)) * 1000 / 300,
        if measure.chars < 16 * measure.lines { 1000 } else { 0 },
        measure.language.non_ascii_per_mille as i64,
        share(measure.milli[Kind::Layout as usize]),
        share(measure.milli[Kind::Cjk as usize] + measure.milli[Kind::OtherScript as usize]),
        share(measure.milli[Kind::Dense as usize]),
        measure.unfamiliar_per_mille as i64,
    ];
    let margin: i64 = MARGINS[group].iter().zip(features).map(|(c, f)| c * f).sum::<i64>() / 1000;
    // The coefficients keep it far above this; a floor keeps the estimate a positive share of the means.
    margin.max(500) as u64
}

/// The estimated o200k_base tokens of `text`.
pub fn estimate(text: &str) -> u64 {
    let measure = measure(text);
    let milli: u64 = measure.milli.iter().sum();
    (milli * margin_per_mille(&measure)).div_ceil(1_000_000)
}

/// The measured means of `text`'s pieces, by kind.
pub(crate) fn measure(text: &str) -> Measure {
    let table = table();
    let dense = dense_runs(text);
    let matched = language_match(text);
    let language = matched.name;
    let kana = text.chars().any(|c| script(c) == "kana");
    let mut key = String::new();
    let mut measure = Measure {
        language: matched,
        lines: 1,
        chars: text.chars().count() as u64,
        unfamiliar_per_mille: unfamiliar_trigrams_per_mille(text),
        ..Measure::default()
    };
    let mut run = 0;
    for (start, end) in Split::new(text) {
        while run < dense.len() && dense[run].1 < end {
            run += 1;
        }
        let in_dense = dense.get(run).is_some_and(|(s, e)| *s < end && end <= *e);
        let piece = &text[start..end];
        let (cost, kind) = piece_cost(piece, Tables { dense: in_dense, language, kana }, table, &mut key);
        measure.milli[kind as usize] += cost;
        // Only spacing and punctuation pieces hold line breaks, and they end with one (or with a `/`).
        if piece.ends_with(['\n', '\r', '/']) {
            measure.lines += piece.bytes().filter(|b| *b == b'\n').count() as u64;
        }
    }
    measure
}

/// Per mille of the letter trigrams of `text`'s ASCII letter runs (lower-cased) not in [`FAMILIAR_TRIGRAMS`].
fn unfamiliar_trigrams_per_mille(text: &str) -> u64 {
    let (mut all, mut unfamiliar) = (0u64, 0u64);
    let (mut run, mut index) = (0u32, 0usize);
    for byte in text.bytes() {
        if !byte.is_ascii_alphabetic() {
            run = 0;
            continue;
        }
        index = trigram_index(index, byte);
        run += 1;
        if run >= 3 {
            all += 1;
            unfamiliar += u64::from(!familiar(index));
        }
    }
    (unfamiliar * 1000).checked_div(all).unwrap_or(0)
}

/// Words common in English prose and code, in the major European languages, and in Russian (`bench/tokens-fit.mjs`
/// holds the same lists). o200k_base has more and longer tokens for these languages than for the rest written in
/// the same letters, so a text where one list makes a tenth of the words or more gets that language's tables.
const LANGUAGES: [(&str, &str); 3] = [
    (
        "@en",
        "the of and to in is that for it as with be on not this by are or from at an which if you can will all was \
         has have its but when file use used one may set see return value default true false none null self def \
         function const let var import new name type class string int data error options",
    ),
    (
        "@eu",
        "de la le les des du et est une un pas pour dans que qui sur avec ce il der die das und ist nicht ein eine \
         zu den von mit sich auf für im dem el los las del y es por con para se no al lo como más o os da do em um \
         uma não com são di che è per della gli het een van niet zijn op te",
    ),
    ("@ru", "и в не на что с по для как это из или к от при если быть все может файл"),
];
/// The share (per mille) of a text's words one list must reach.
const LANGUAGE_PER_MILLE: u64 = 100;

/// A text's language tables (`@en`, `@eu`, `@ru`, or `""`) and how surely: the per mille of its words in the best
/// list, and of its words with a letter outside ASCII.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LanguageMatch {
    pub name: &'static str,
    pub hits_per_mille: u64,
    pub non_ascii_per_mille: u64,
}

pub(crate) fn language_match(text: &str) -> LanguageMatch {
    static WORDS: OnceLock<Vec<std::collections::HashSet<&'static str>>> = OnceLock::new();
    let lists = WORDS.get_or_init(|| LANGUAGES.iter().map(|(_, words)| words.split_whitespace().collect()).collect());
    let mut words = 0u64;
    let mut non_ascii = 0u64;
    let mut hits = [0u64; LANGUAGES.len()];
    let mut lower = String::new();
    for word in text.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()) {
        words += 1;
        non_ascii += u64::from(!word.is_ascii());
        // The longest listed word is 10 bytes (`может`).
        if word.len() > 10 {
            continue;
        }
        lower.clear();
        lower.extend(word.chars().flat_map(char::to_lowercase));
        for (hit, list) in hits.iter_mut().zip(lists) {
            *hit += u64::from(list.contains(lower.as_str()));
        }
    }
    let mut best = ("", 0);
    for ((name, _), hit) in LANGUAGES.iter().zip(hits) {
        if hit > best.1 && hit * 1000 >= words * LANGUAGE_PER_MILLE {
            best = (name, hit);
        }
    }
    let per_mille = |n: u64| (n * 1000).checked_div(words).unwrap_or(0);
    LanguageMatch {
        name: best.0,
        hits_per_mille: per_mille(hits.into_iter().max().unwrap_or(0)),
        non_ascii_per_mille: per_mille(non_ascii),
    }
}

type Row = [u32; MAX_LEN + 1];

/// What chooses a piece's table besides the piece: inside a base64 or hex run, the text's language tables, and
/// whether the text has kana (Japanese) at all.
#[derive(Clone, Copy)]
struct Tables<'a> {
    dense: bool,
    language: &'a str,
    kana: bool,
}

fn table() -> &'static HashMap<&'static str, &'static Row> {
    static TABLE: OnceLock<HashMap<&'static str, &'static Row>> = OnceLock::new();
    TABLE.get_or_init(|| PIECE_TOKENS_X1000.iter().map(|(name, row)| (*name, row)).collect())
}

/// A piece's mean tokens × 1000 and its kind. A word kind not measured with its prefix takes the kind without one;
/// a kind not measured at all (a script absent from the samples), one token per character of one or two UTF-8
/// bytes and two per longer character: rare scripts tokenise close to byte by byte, so this errs high.
fn piece_cost(
    piece: &str,
    tables: Tables,
    table: &HashMap<&'static str, &'static Row>,
    key: &mut String,
) -> (u64, Kind) {
    let (length, prefix, unfamiliar, kind) = piece_key(piece, tables, key);
    // Fallbacks: an unfamiliar word's kind without `~u`, then without its prefix.
    let row = table
        .get(key.as_str())
        .or_else(|| {
            key.truncate(key.len() - unfamiliar);
            table.get(key.as_str())
        })
        .or_else(|| {
            key.truncate(key.len() - prefix);
            table.get(key.as_str())
        });
    let cost = match row {
        Some(row) if length <= MAX_LEN => u64::from(row[length]),
        Some(row) => (u64::from(row[MAX_LEN]) * length as u64).div_ceil(MAX_LEN as u64),
        None => piece.chars().map(|c| if c.len_utf8() > 2 { 2000 } else { 1000 }).sum(),
    };
    (cost, kind)
}

/// Writes the table name of a piece into `key` (as `bench/tokens-fit.mjs` names it) and returns its length in
/// characters (letters only, for a word), the lengths of the prefix and `~u` (unfamiliar word) parts of the name
/// and the piece's kind.
fn piece_key(piece: &str, tables: Tables, key: &mut String) -> (usize, usize, usize, Kind) {
    let Tables { dense, language, kana } = tables;
    key.clear();
    let first = piece.chars().next().expect("pieces are not empty");
    let length = piece.chars().count();
    if first.is_numeric() {
        key.push_str(if dense { "digits-dense" } else { "digits" });
        return (length, 0, 0, if dense { Kind::Dense } else { Kind::Layout });
    }
    if piece.chars().all(char::is_whitespace) {
        key.push_str(if piece.contains(['\r', '\n']) { "newlines" } else { "spaces" });
        return (length, 0, 0, Kind::Layout);
    }
    let mut letters = piece.chars().filter(|c| c.is_alphabetic());
    let Some(head) = letters.next() else {
        key.push_str(if first == ' ' { "punct-spaced" } else { "punct" });
        if language != "@ru" {
            key.push_str(language);
        }
        return (length, 0, 0, Kind::Layout);
    };
    let count = 1 + letters.count();
    let kind = if dense {
        key.push_str("dense");
        Kind::Dense
    } else {
        let script = script(head);
        match script {
            "latin" => {
                let word = piece.chars().filter(|c| c.is_alphabetic());
                key.push_str(if !word.clone().all(|c| c.is_ascii_alphabetic()) {
                    "latin-ext"
                } else if word.clone().all(|c| c.is_ascii_lowercase()) {
                    "latin-lower"
                } else if head.is_ascii_uppercase() && count >= 2 && word.skip(1).all(|c| c.is_ascii_lowercase()) {
                    "latin-cap"
                } else {
                    "latin-upper"
                });
                if language != "@ru" {
                    key.push_str(language);
                }
            }
            "other" => {
                use std::fmt::Write;
                write!(key, "blk{:x}", u32::from(head) >> 7).expect("writing to a String");
            }
            "cyrillic" if language == "@ru" => key.push_str("cyrillic@ru"),
            // Han characters in a text without kana are Chinese, whose words o200k_base covers less than kanji's.
            "han" if !kana => key.push_str("han@zh"),
            script => key.push_str(script),
        }
        match (script, language) {
            ("latin", "@en") => Kind::LatinEnglish,
            ("latin", "@eu" | "@ru") => Kind::LatinEuropean,
            ("latin", _) => Kind::LatinOther,
            ("cyrillic", _) => Kind::Cyrillic,
            ("han" | "kana" | "hangul", _) => Kind::Cjk,
            _ => Kind::OtherScript,
        }
    };
    let prefix = if first.is_alphabetic() {
        ""
    } else if first == ' ' {
        "+sp"
    } else {
        "+p"
    };
    key.push_str(prefix);
    // An ASCII word with a trigram the vocabulary knows little splits into more tokens than its length's mean.
    let unfamiliar = !dense
        && script(head) == "latin"
        && piece.chars().filter(|c| c.is_alphabetic()).all(|c| c.is_ascii_alphabetic())
        && has_unfamiliar_trigram(piece);
    if unfamiliar {
        key.push_str("~u");
    }
    (count, prefix.len(), if unfamiliar { 2 } else { 0 }, kind)
}

/// Whether the ASCII letters of `word`, in order and lower-cased, hold a trigram not in [`FAMILIAR_TRIGRAMS`].
fn has_unfamiliar_trigram(word: &str) -> bool {
    let (mut run, mut index) = (0u32, 0usize);
    for byte in word.bytes().filter(u8::is_ascii_alphabetic) {
        index = trigram_index(index, byte);
        run += 1;
        if run >= 3 && !familiar(index) {
            return true;
        }
    }
    false
}

/// The index of the trigram ending in `byte` (an ASCII letter), from the index of the one before.
fn trigram_index(index: usize, byte: u8) -> usize {
    (index * 26 + usize::from(byte.to_ascii_lowercase() - b'a')) % (26 * 26 * 26)
}

fn familiar(index: usize) -> bool {
    FAMILIAR_TRIGRAMS[index >> 6] & (1 << (index & 63)) != 0
}

/// The script of a letter, by Unicode block.
fn script(c: char) -> &'static str {
    match c as u32 {
        0x41..=0x5A
        | 0x61..=0x7A
        | 0xAA
        | 0xBA
        | 0xC0..=0x24F
        | 0x250..=0x2AF
        | 0x1E00..=0x1EFF
        | 0x2C60..=0x2C7F
        | 0xA720..=0xA7FF
        | 0xFF21..=0xFF3A
        | 0xFF41..=0xFF5A => "latin",
        0x370..=0x3FF | 0x1F00..=0x1FFF => "greek",
        0x400..=0x52F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => "cyrillic",
        0x590..=0x5FF | 0xFB1D..=0xFB4F => "hebrew",
        0x600..=0x6FF | 0x750..=0x77F | 0x8A0..=0x8FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => "arabic",
        0x900..=0x97F | 0xA8E0..=0xA8FF => "devanagari",
        0xE00..=0xE7F => "thai",
        0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xAC00..=0xD7FF | 0xFFA0..=0xFFDC => "hangul",
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => "kana",
        0x2E80..=0x2FDF
        | 0x3005
        | 0x3007
        | 0x3021..=0x3029
        | 0x3038..=0x303B
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0x20000..=0x3FFFF => "han",
        _ => "other",
    }
}

/// Byte ranges of base64 and hex runs (see [`crate::context::tokens`]'s dense runs), in order.
fn dense_runs(text: &str) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let bytes = text.as_bytes();
    let is_run = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-');
    let mut i = 0;
    while i < bytes.len() {
        if !is_run(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_run(bytes[i]) {
            i += 1;
        }
        // A run that continues into a non-ASCII letter is part of a word, not an encoding.
        if crate::context::tokens::is_dense_word(&text[start..i]) {
            runs.push((start, i));
        }
    }
    runs
}

/// The pieces of a text as o200k_base's pre-tokenizer cuts them, as byte ranges.
struct Split<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Split<'a> {
    fn new(text: &'a str) -> Self {
        Split { text, at: 0 }
    }
}

/// Letters that can start a word's upper part (`\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}`): all but lower-case ones.
fn upper_ish(c: char) -> bool {
    c.is_alphabetic() && !c.is_lowercase()
}

/// Letters of a word's lower part (`\p{Ll}\p{Lm}\p{Lo}\p{M}`): all but upper-case ones.
fn lower_ish(c: char) -> bool {
    c.is_alphabetic() && !c.is_uppercase()
}

const CONTRACTIONS: [&str; 7] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

impl Iterator for Split<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let rest = &self.text[self.at..];
        let first = rest.chars().next()?;
        let start = self.at;
        let len = |c: char| c.len_utf8();
        let end = 'piece: {
            // A word, with one character before it that is not a letter, digit or line break.
            let mut word_start = 0;
            if !first.is_alphabetic() && !first.is_numeric() && first != '\r' && first != '\n' {
                word_start = len(first);
            }
            for start_at in [word_start, 0] {
                let Some(c0) = rest[start_at..].chars().next() else { continue };
                if !c0.is_alphabetic() {
                    continue;
                }
                // `[upper]*[lower]+` (or `[upper]+[lower]*`): the word ends where its letters do, or at an upper-case
                // letter after lower-case ones (`fooBar` is `foo` and `Bar`).
                let upper: usize = rest[start_at..].chars().take_while(|c| upper_ish(*c)).map(len).sum();
                let lower: usize = rest[start_at + upper..].chars().take_while(|c| lower_ish(*c)).map(len).sum();
                let mut end = start_at + upper + lower;
                end += contraction(&rest.as_bytes()[end..]);
                break 'piece end;
            }
            if first.is_numeric() {
                break 'piece rest.chars().take_while(|c| c.is_numeric()).take(3).map(len).sum();
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
            let punct = |c: char| !c.is_whitespace() && !c.is_alphabetic() && !c.is_numeric();
            let body = if first == ' ' { 1 } else { 0 };
            let run: usize = rest[body..].chars().take_while(|c| punct(*c)).map(len).sum();
            if run > 0 {
                let tail: usize =
                    rest[body + run..].chars().take_while(|c| matches!(c, '\r' | '\n' | '/')).map(len).sum();
                break 'piece body + run + tail;
            }
            // Whitespace: through the last line break of the run; else all but the last space before a word.
            let run: usize = rest.chars().take_while(|c| c.is_whitespace()).map(len).sum();
            let spaces = &rest[..run];
            if let Some(last_break) = spaces.rfind(['\r', '\n']) {
                break 'piece last_break + 1;
            }
            if run == rest.len() {
                break 'piece run;
            }
            let last = spaces.chars().next_back().map_or(0, len);
            if run > last {
                break 'piece run - last;
            }
            run
        };
        let end = end.max(len(first));
        self.at = start + end;
        Some((start, start + end))
    }
}

/// The length of the contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`, in any case) `rest` starts with.
fn contraction(rest: &[u8]) -> usize {
    CONTRACTIONS
        .iter()
        .find(|suffix| rest.len() >= suffix.len() && rest[..suffix.len()].eq_ignore_ascii_case(suffix.as_bytes()))
        .map_or(0, |suffix| suffix.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        Split::new(text).map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn splits_like_the_o200k_pre_tokenizer() {
        assert_eq!(pieces("Hello world"), ["Hello", " world"]);
        assert_eq!(pieces("don't HTTPRequest fooBar"), ["don't", " HTTPRequest", " foo", "Bar"]);
        assert_eq!(pieces("x = 12345;\n\n    y"), ["x", " =", " ", "123", "45", ";\n\n", "   ", " y"]);
        assert_eq!(pieces("a  b"), ["a", " ", " b"]);
        assert_eq!(pieces("(foo) ..bar"), ["(foo", ")", " ..", "bar"]);
        assert_eq!(pieces("end  \n  next"), ["end", "  \n", " ", " next"]);
        assert_eq!(pieces("trailing   "), ["trailing", "   "]);
        assert_eq!(pieces("漢字かな 한국어"), ["漢字かな", " 한국어"]);
        assert_eq!(pieces("Привет, мир"), ["Привет", ",", " мир"]);
    }

    #[test]
    fn pieces_cover_the_text() {
        let text = "fn main() {\n\tlet x = \"ÄÖÜ straße\";\r\n  // 42 ünïcödé — 東京\n}\n";
        assert_eq!(pieces(text).concat(), text);
    }

    #[test]
    fn unfamiliar_trigrams_are_counted_in_letter_runs() {
        assert_eq!(unfamiliar_trigrams_per_mille("the information"), 0);
        assert_eq!(unfamiliar_trigrams_per_mille("12 -- ü"), 0);
        // `the` is familiar; `xqz` and `qzq` are in no token.
        assert_eq!(unfamiliar_trigrams_per_mille("The xqzq"), 1000 * 2 / 3);
    }

    #[test]
    fn estimates_grow_with_text() {
        assert_eq!(estimate(""), 0);
        assert!(estimate("a") >= 1);
        assert!(estimate("the quick brown fox") < estimate("the quick brown fox jumps over the lazy dog"));
    }
}
