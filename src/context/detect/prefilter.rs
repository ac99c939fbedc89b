//! Where each rule can match, found in one pass over the text.
//!
//! Every rule keyword goes into one ASCII-case-insensitive Aho-Corasick automaton, run once per scan with
//! overlapping matches (so no occurrence of one keyword hides another). A rule then runs in one of three ways:
//! - [`Plan::Always`]: no keywords; its regex scans the whole text;
//! - [`Plan::Keyword`]: its regex scans the whole text when one of its keywords occurs (the old behaviour);
//! - [`Plan::Anchored`]: every prefix literal of its pattern (regex-syntax's extractor) contains one of its
//!   keywords at a known offset, so every match starts at a keyword hit minus that offset. The regex is run
//!   anchored at those starts only, in text order, skipping starts inside the previous match: exactly the
//!   matches `captures_iter` yields, because a leftmost-first search reports the leftmost start that has a match
//!   and, from that start, the same match an anchored search does. Look-around (`\b`) sees the whole text;
//! - [`Plan::Runs`] (payment cards, IBANs: no keyword, all digits and capitals): every match lies in a run of
//!   one byte class that starts at a digit or capital and holds at least so many of them; one byte loop finds
//!   the runs of both, and the regex searches each run (bounded by the run, look-around still seeing the text).
//!
//! The anchored and run searches use `regex-automata`'s meta regex compiled from the rule's pattern with the
//! syntax of [`super::compile_pattern`], which every rule's pattern is compiled with.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex_automata::util::syntax;
use regex_automata::{meta, Anchored, Input};
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use super::Rule;

#[derive(Debug, Clone)]
pub(super) enum Plan {
    /// A built-in rule that the key/value scanner ([`super::assignments`]) runs; its pattern is never run.
    Scanner,
    Always,
    Keyword,
    /// Compiled on the rule's first candidate start: most rules see none in most texts, and compiling them all
    /// cost every scan's first call ~40 ms in wasm. `None`: the regex failed to compile (see [`for_each_match`]).
    Anchored(Box<OnceLock<Option<meta::Regex>>>),
    /// Every match is a run of bytes of `class` that starts at a byte that `counts` and holds `least` such bytes;
    /// [`Prefilter::scan`] finds the runs of every such rule in one pass.
    Runs {
        /// Compiled on the first run found, as an anchored rule's regex is: these two take ~40 ms in wasm, and
        /// most packets hold no run of 13 digits or 15 capitals.
        regex: Box<OnceLock<Option<meta::Regex>>>,
        class: fn(u8) -> bool,
        counts: fn(u8) -> bool,
        least: usize,
    },
}

/// The rules whose match is a run of one byte class, by id and exact pattern (a user rule with the same id
/// and another pattern scans the whole text).
fn runs_plan(rule: &Rule) -> Option<Plan> {
    type ByteClass = fn(u8) -> bool;
    let (class, counts, least): (ByteClass, ByteClass, usize) = match (rule.id.as_str(), rule.pattern.as_str()) {
        // `\+[0-9](?:[ -]?[0-9])*|\b([2-6](?:[ -]?[0-9]){12,18})\b`: a phone number's `+` and digits (no
        // secret, but it hides the digits from the second branch), or 13 or more digits, spaces and dashes
        // between them. A run opens at a digit or a `+`; the `+` counts, so a reported run may hold a digit less.
        (super::rules::PAYMENT_CARD, pattern) if pattern == super::rules::PAYMENT_CARD_PATTERN => (
            |byte| byte.is_ascii_digit() || matches!(byte, b' ' | b'-' | b'+'),
            |byte| byte.is_ascii_digit() || byte == b'+',
            13,
        ),
        // `\b([A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30})\b`: 15 or more capitals and digits, spaces between them.
        (super::rules::IBAN, pattern) if pattern == super::rules::IBAN_PATTERN => (
            |byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b' ',
            |byte| byte.is_ascii_uppercase() || byte.is_ascii_digit(),
            15,
        ),
        _ => return None,
    };
    Some(Plan::Runs { regex: Box::default(), class, counts, least })
}

fn meta_regex(pattern: &str) -> Option<meta::Regex> {
    meta::Builder::new()
        .syntax(syntax::Config::new().unicode(false).utf8(true))
        .configure(meta::Config::new().utf8_empty(true))
        .build(pattern)
        .ok()
}

#[derive(Debug, Clone, Default)]
pub(super) struct Prefilter {
    automaton: Option<AhoCorasick>,
    /// Per automaton pattern: (rule index, offset of the match start before the hit; `None`: presence only).
    uses: Vec<Vec<(usize, Option<usize>)>>,
    plans: Vec<Plan>,
    /// The run rules (at most four): rule index and least counted bytes; `run_table` has, per byte, bit `2j`
    /// set when it is in rule j's class and bit `2j + 1` when it also counts.
    run_rules: Vec<(usize, usize)>,
    run_table: Vec<u8>,
    /// The built-in rules the key/value scanner may report, by id, with their index (first of an id).
    scanned: Vec<(&'static str, usize)>,
}

/// What one prefilter pass found: which keyword rules may match, and the candidate starts of anchored rules.
pub(super) struct Hits {
    pub present: Vec<bool>,
    /// (rule index, candidate start), sorted; for a run rule, each run's start then its end.
    pub starts: Vec<(usize, usize)>,
    /// Where the key/value scanner's name words occur, sorted (only when the detector has scanner rules).
    pub names: Vec<(usize, usize)>,
}

/// The `uses` entry of a key/value scanner name word (no rule has this index).
const NAME_WORD: usize = usize::MAX;

impl Prefilter {
    pub(super) fn new(rules: &[Rule]) -> Self {
        let mut keywords: Vec<String> = Vec::new();
        let mut uses: Vec<Vec<(usize, Option<usize>)>> = Vec::new();
        let mut plans = Vec::with_capacity(rules.len());
        let mut run_rules = Vec::new();
        let mut run_table = vec![0u8; 256];
        let keyword_id = |keyword: &str, keywords: &mut Vec<String>, uses: &mut Vec<Vec<_>>| {
            let keyword = keyword.to_ascii_lowercase();
            match keywords.iter().position(|known| *known == keyword) {
                Some(id) => id,
                None => {
                    keywords.push(keyword);
                    uses.push(Vec::new());
                    keywords.len() - 1
                }
            }
        };
        let mut scanned: Vec<(&'static str, usize)> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let builtin_scanned = super::rules::is_builtin(rule)
                .then(|| super::assignments::REPORTED.iter().find(|id| **id == rule.id))
                .flatten();
            if let Some(id) = builtin_scanned {
                if !scanned.iter().any(|(known, _)| known == id) {
                    scanned.push((id, index));
                }
                if super::assignments::SCANNED_ONLY.contains(id) {
                    plans.push(Plan::Scanner);
                    continue;
                }
            }
            if rule.keywords.is_empty() && run_rules.len() < 4 {
                if let Some(plan) = runs_plan(rule) {
                    if let Plan::Runs { class, counts, least, .. } = &plan {
                        let bit = 2 * run_rules.len();
                        for byte in 0..=255u8 {
                            run_table[usize::from(byte)] |=
                                u8::from(class(byte)) << bit | u8::from(class(byte) && counts(byte)) << (bit + 1);
                        }
                        run_rules.push((index, *least));
                    }
                    plans.push(plan);
                    continue;
                }
            }
            if rule.keywords.is_empty() || rule.keywords.iter().any(String::is_empty) {
                // An empty keyword occurs in every text.
                plans.push(Plan::Always);
                continue;
            }
            if let Some(offsets) = anchored_plan(rule) {
                for (keyword, offset) in offsets {
                    let id = keyword_id(&rule.keywords[keyword], &mut keywords, &mut uses);
                    if !uses[id].contains(&(index, Some(offset))) {
                        uses[id].push((index, Some(offset)));
                    }
                }
                plans.push(Plan::Anchored(Box::default()));
            } else {
                for keyword in &rule.keywords {
                    let id = keyword_id(keyword, &mut keywords, &mut uses);
                    uses[id].push((index, None));
                }
                plans.push(Plan::Keyword);
            }
        }
        // The key/value scanner's name words ride on the same automaton: one pass over the text finds both.
        if !scanned.is_empty() {
            for word in super::assignments::NAME_WORDS {
                let id = keyword_id(word, &mut keywords, &mut uses);
                uses[id].push((NAME_WORD, None));
            }
        }
        let automaton = (!keywords.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&keywords)
                .or_else(|_| AhoCorasickBuilder::new().ascii_case_insensitive(true).build(&keywords))
                .expect("keywords build an automaton")
        });
        Prefilter { automaton, uses, plans, run_rules, run_table, scanned }
    }

    pub(super) fn plans(&self) -> &[Plan] {
        &self.plans
    }

    /// The index of the rule that reports the key/value scanner's findings for `id`; `None`: the detector has no
    /// such built-in rule (a policy left it out).
    pub(super) fn scanned_rule(&self, id: &str) -> Option<usize> {
        self.scanned.iter().find(|(known, _)| *known == id).map(|&(_, index)| index)
    }

    pub(super) fn runs_scanner(&self) -> bool {
        !self.scanned.is_empty()
    }

    pub(super) fn scan(&self, text: &str) -> Hits {
        let mut present = vec![false; self.plans.len()];
        let mut starts = Vec::new();
        let mut names = Vec::new();
        if let Some(automaton) = &self.automaton {
            for hit in automaton.find_overlapping_iter(text) {
                for &(rule, offset) in &self.uses[hit.pattern().as_usize()] {
                    match offset {
                        None if rule == NAME_WORD => names.push((hit.start(), hit.end())),
                        None => present[rule] = true,
                        Some(offset) => {
                            if let Some(start) = hit.start().checked_sub(offset) {
                                starts.push((rule, start));
                            }
                        }
                    }
                }
            }
        }
        if !self.run_rules.is_empty() {
            self.find_runs(text.as_bytes(), &mut starts);
        }
        starts.sort_unstable();
        starts.dedup();
        names.sort_unstable();
        Hits { present, starts, names }
    }

    /// Pushes (rule, start), (rule, end) for every run of each run rule's class that starts at a counted byte,
    /// extends as far as the class does, and has enough counted bytes.
    fn find_runs(&self, bytes: &[u8], out: &mut Vec<(usize, usize)>) {
        let table: &[u8; 256] = self.run_table.as_slice().try_into().expect("256 entries");
        // Per run rule: where its open run started and how many counted bytes it has.
        let mut open: [Option<(usize, usize)>; 4] = [None; 4];
        let mut any_open = false;
        let mut push = |j: usize, run: (usize, usize), end: usize| {
            let (rule, least) = self.run_rules[j];
            if run.1 >= least {
                out.push((rule, run.0));
                out.push((rule, end));
            }
        };
        // A match starts with a counted byte (a digit, a capital), so a run opens only at one.
        const COUNTED: u8 = 0b1010_1010;
        for (index, &byte) in bytes.iter().enumerate() {
            let bits = table[usize::from(byte)];
            if !any_open && bits & COUNTED == 0 {
                continue;
            }
            any_open = false;
            for (j, slot) in open.iter_mut().enumerate().take(self.run_rules.len()) {
                let class = bits >> (2 * j) & 0b11;
                match slot {
                    Some(run) if class != 0 => run.1 += usize::from(class >> 1),
                    Some(run) => {
                        push(j, *run, index);
                        *slot = None;
                    }
                    None if class & 0b10 != 0 => *slot = Some((index, 1)),
                    None => {}
                }
                any_open |= slot.is_some();
            }
        }
        for (j, slot) in open.iter_mut().enumerate() {
            if let Some(run) = slot.take() {
                push(j, run, bytes.len());
            }
        }
    }
}

/// For each (keyword index, offset) that locates a match start of `rule`, when every prefix literal of the
/// pattern contains a keyword. `None`: the rule must scan the whole text.
fn anchored_plan(rule: &Rule) -> Option<Vec<(usize, usize)>> {
    let pattern = rule.pattern.as_str();
    // The same syntax as `compile_pattern`: ASCII classes, matches on UTF-8 boundaries.
    let hir = regex_syntax::ParserBuilder::new().unicode(false).utf8(true).build().parse(pattern).ok()?;
    let prefixes = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let literals = prefixes.literals()?;
    if literals.is_empty() {
        return None;
    }
    let keywords: Vec<String> = rule.keywords.iter().map(|keyword| keyword.to_ascii_lowercase()).collect();
    let mut offsets = Vec::new();
    for literal in literals {
        let lowered = literal.as_bytes().to_ascii_lowercase();
        let found = keywords.iter().enumerate().find_map(|(index, keyword)| {
            let keyword = keyword.as_bytes();
            (!keyword.is_empty() && lowered.len() >= keyword.len())
                .then(|| lowered.windows(keyword.len()).position(|window| window == keyword))
                .flatten()
                .map(|offset| (index, offset))
        })?;
        if !offsets.contains(&found) {
            offsets.push(found);
        }
    }
    Some(offsets)
}

/// The secret's span: group `group`, or when it took no part in the match, the first later group that did (a
/// pattern's alternatives, such as a quoted and an unquoted value, hold the secret in different groups). `None`
/// when no such group matched: the match is context that hides what it covers (a URL's userinfo from the e-mail
/// rule), not a finding.
pub(super) fn secret_span(
    group: usize,
    groups: usize,
    get: impl Fn(usize) -> Option<(usize, usize)>,
) -> Option<(usize, usize)> {
    if group == 0 {
        return get(0);
    }
    (group..groups.max(group + 1)).find_map(get)
}

/// Calls `each(secret_start, secret_end, whole_start, whole_end)` for every match of `rule` in `text`, in the
/// order `captures_iter` yields them; `starts` are the rule's candidate starts, sorted (anchored plans only).
pub(super) fn for_each_match(
    rule: &Rule,
    plan: &Plan,
    text: &str,
    starts: &[usize],
    mut each: impl FnMut(Option<(usize, usize)>, (usize, usize)),
) {
    match plan {
        Plan::Anchored(regex) => {
            // The pattern compiles with the regex crate's builder and the same syntax (a user's when the policy
            // loads, a built-in one in the tests), so this fails only should the two builders' limits differ;
            // then the whole text is searched, which finds the same matches (each starts at a candidate).
            let Some(regex) = regex.get_or_init(|| meta_regex(rule.pattern.as_str())) else {
                return whole_text(rule, text, each);
            };
            let mut captures = regex.create_captures();
            let mut next = 0;
            for &start in starts {
                if start < next {
                    continue;
                }
                let input = Input::new(text).span(start..text.len()).anchored(Anchored::Yes);
                regex.search_captures(&input, &mut captures);
                let Some(whole) = captures.get_match() else { continue };
                let secret = secret_span(rule.secret_group, captures.group_len(), |group| {
                    captures.get_group(group).map(|span| (span.start, span.end))
                });
                each(secret, (whole.start(), whole.end()));
                next = if whole.is_empty() { whole.end() + 1 } else { whole.end() };
            }
        }
        Plan::Runs { regex, .. } => {
            // As for an anchored rule (each match lies in a run).
            let Some(regex) = regex.get_or_init(|| meta_regex(rule.pattern.as_str())) else {
                return whole_text(rule, text, each);
            };
            let mut captures = regex.create_captures();
            for run in starts.chunks_exact(2) {
                let (run_start, run_end) = (run[0], run[1]);
                // Every match inside the run, in order, as `captures_iter` finds them.
                let mut from = run_start;
                while from < run_end {
                    let input = Input::new(text).span(from..run_end);
                    regex.search_captures(&input, &mut captures);
                    let Some(whole) = captures.get_match() else { break };
                    let secret = secret_span(rule.secret_group, captures.group_len(), |group| {
                        captures.get_group(group).map(|span| (span.start, span.end))
                    });
                    each(secret, (whole.start(), whole.end()));
                    from = if whole.is_empty() { whole.end() + 1 } else { whole.end() };
                }
            }
        }
        Plan::Scanner => {}
        Plan::Always | Plan::Keyword => whole_text(rule, text, each),
    }
}

/// [`for_each_match`] over the whole text, with the rule's own regex.
fn whole_text(rule: &Rule, text: &str, mut each: impl FnMut(Option<(usize, usize)>, (usize, usize))) {
    for captures in rule.pattern.regex().captures_iter(text) {
        let whole = captures.get(0).expect("group 0 always matches");
        let secret = secret_span(rule.secret_group, captures.len(), |group| {
            captures.get(group).map(|secret| (secret.start(), secret.end()))
        });
        each(secret, (whole.start(), whole.end()));
    }
}
