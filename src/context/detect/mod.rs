//! Credential and PII detectors with stable rule ids, and redaction with `[REDACTED:<rule-id>]` markers.
//!
//! A [`Rule`] is a keyword prefilter, an ASCII regular expression, the capture group that holds the secret, and
//! optional value checks (Shannon entropy, a checksum). [`Detector::find`] runs every rule whose keyword occurs,
//! resolves overlaps deterministically and reports byte ranges only: a [`Finding`] never holds the secret, so it
//! can be logged. [`Detector::redact`] replaces each secret with a marker that no rule can match again.

mod assignment_names;
mod assignments;
mod checks;
mod credential_rules;
mod pattern;
mod prefilter;
mod rules;

use std::collections::BTreeMap;

use regex::{Regex, RegexBuilder};

pub use checks::{is_iban, is_payment_card, shannon_entropy};
pub use pattern::Pattern;

/// What a rule protects: credentials are always redacted; PII rules can be switched off by policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleKind {
    Credential,
    Pii,
}

/// One detector. `id` is stable (it appears in markers and counts) and uses only `[a-z0-9._-]`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub description: String,
    /// Lowercase strings; the rule runs only when the ASCII-lowercased text contains one. Empty: always runs.
    /// When every prefix literal of `pattern` contains a keyword, the rule runs only at the keyword hits.
    pub keywords: Vec<String>,
    /// Compiled by [`compile_pattern`] (a built-in one on first use): the detector recompiles `pattern.as_str()`
    /// with the same syntax for its anchored searches.
    pub pattern: Pattern,
    /// The capture group that holds the secret (0: the whole match). When it took no part in a match, the first
    /// later group that did; when none did, the match reports nothing.
    pub secret_group: usize,
    /// The least Shannon entropy, in bits per byte, that the secret must have.
    pub min_entropy: Option<f64>,
    pub kind: RuleKind,
    /// A structural check on the secret (a checksum), when the pattern alone admits too much.
    pub value_check: Option<fn(&str) -> bool>,
    /// Matches the rule must not report (gitleaks allowlists).
    pub allowlist: Allowlist,
}

/// Known-harmless matches: a secret that one of `secret_regexes` finds something in, a whole match that one of
/// `match_regexes` does, or a secret containing one of `stopwords` (lowercase, compared case-insensitively).
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    pub secret_regexes: Vec<Regex>,
    pub match_regexes: Vec<Regex>,
    pub stopwords: Vec<String>,
}

impl Allowlist {
    pub fn is_empty(&self) -> bool {
        self.secret_regexes.is_empty() && self.match_regexes.is_empty() && self.stopwords.is_empty()
    }

    fn allows(&self, secret: &str, whole: &str) -> bool {
        if self.is_empty() {
            return false;
        }
        let lowered = secret.to_ascii_lowercase();
        self.secret_regexes.iter().any(|regex| regex.is_match(secret))
            || self.match_regexes.iter().any(|regex| regex.is_match(whole))
            || self.stopwords.iter().any(|word| lowered.contains(word.as_str()))
    }
}

/// Compiles a detector pattern the way every rule is compiled: ASCII semantics (`\w \d \s \b` are ASCII, as in
/// Go's RE2 that gitleaks rules are written for), so no Unicode tables reach the wasm build. Write `(?u-i:[^…])` (`-i`: Unicode case folding has no tables either)
/// for a negated class that must also accept non-ASCII characters.
pub fn compile_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).unicode(false).build()
}

/// Where a secret is, by byte offsets into the scanned text. Deliberately holds no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule_id: String,
    pub kind: RuleKind,
    pub start: usize,
    pub end: usize,
}

/// Text with every secret replaced, and how many secrets each rule replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub text: String,
    pub counts: BTreeMap<String, usize>,
}

/// Which PII rules the built-in set includes. Credentials are not optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PiiOptions {
    pub email: bool,
    /// Off by default: IPv4 literals are common in code and configs and rarely personal.
    pub ipv4: bool,
    pub payment_card: bool,
    pub iban: bool,
}

impl Default for PiiOptions {
    fn default() -> Self {
        PiiOptions { email: true, ipv4: false, payment_card: true, iban: true }
    }
}

/// An ordered set of rules. Order breaks ties between equal matches, so it is part of the behaviour.
#[derive(Debug, Clone)]
pub struct Detector {
    rules: Vec<Rule>,
    /// Per-rule text written instead of [`marker`]; like markers, `find` never matches inside one.
    replacements: BTreeMap<String, String>,
    /// Built on first use, after the last `push`; clones made before then share the one built.
    prefilter: std::sync::Arc<std::sync::OnceLock<prefilter::Prefilter>>,
    /// Only built-in rules and markers: `redact` may stop after one pass when no overlap was resolved near a
    /// finding (see [`Detector::redact`]). User rules and custom replacements keep the fixpoint loop.
    builtin_only: bool,
}

/// The marker that replaces a secret. Rule ids are `[a-z0-9._-]`, so no rule's value class spans a marker,
/// and `find` ignores any match that overlaps one.
pub fn marker(rule_id: &str) -> String {
    format!("[REDACTED:{rule_id}]")
}

impl Detector {
    /// Every built-in credential rule and the default PII rules.
    pub fn builtin() -> Self {
        Self::builtin_with(PiiOptions::default())
    }

    /// The built-in rules for `pii`. Compiling them (and their prefilter) takes tens of milliseconds in wasm, and
    /// a process wants them several times (a policy, the text calls, the scrubbing of messages), so each option
    /// set is compiled once and cloned: clones share the compiled regexes and the prefilter.
    pub fn builtin_with(pii: PiiOptions) -> Self {
        static COMPILED: std::sync::Mutex<Vec<(PiiOptions, Detector)>> = std::sync::Mutex::new(Vec::new());
        let mut compiled = COMPILED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, detector)) = compiled.iter().find(|(options, _)| *options == pii) {
            return detector.clone();
        }
        let detector = Self::compile_builtin(pii);
        compiled.push((pii, detector.clone()));
        detector
    }

    fn compile_builtin(pii: PiiOptions) -> Self {
        let rules = rules::builtin_rules()
            .filter(|rule| match rule.id {
                rules::EMAIL => pii.email,
                rules::IPV4 => pii.ipv4,
                rules::PAYMENT_CARD => pii.payment_card,
                rules::IBAN => pii.iban,
                _ => true,
            })
            .map(rules::BuiltinRule::compile)
            .collect();
        Detector { rules, replacements: BTreeMap::new(), prefilter: Default::default(), builtin_only: true }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Adds a rule after the existing ones (it loses ties to them).
    pub fn push(&mut self, rule: Rule) {
        self.rules.push(rule);
        self.prefilter = Default::default();
        self.builtin_only = false;
    }

    /// Writes `text` instead of the `[REDACTED:<rule-id>]` marker for `rule_id`. `find` ignores any match that
    /// overlaps the text, so redaction stays idempotent; the caller keeps the text distinctive (see the policy).
    pub fn set_replacement(&mut self, rule_id: &str, text: &str) {
        self.replacements.insert(rule_id.to_owned(), text.to_owned());
        self.builtin_only = false;
    }

    /// What a secret found by `rule_id` is replaced with.
    pub fn replacement(&self, rule_id: &str) -> String {
        self.replacements.get(rule_id).cloned().unwrap_or_else(|| marker(rule_id))
    }

    /// Byte ranges of markers and custom replacements: text redaction wrote, which no rule may match again.
    pub fn protected_ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let mut ranges: Vec<(usize, usize)> =
            marker_pattern().find_iter(text).map(|found| (found.start(), found.end())).collect();
        for replacement in self.replacements.values() {
            ranges.extend(text.match_indices(replacement.as_str()).map(|(start, s)| (start, start + s.len())));
        }
        ranges.sort_unstable();
        ranges
    }

    /// Non-overlapping findings in text order. Credentials are chosen before PII (a connection-string password
    /// must not be reported as the local part of an e-mail address); within a kind the leftmost match wins,
    /// then the longest, then the earlier rule.
    pub fn find(&self, text: &str) -> Vec<Finding> {
        self.scan(text).0
    }

    /// The findings, and whether redacting them could let a rule match anew: a match that lost to an
    /// overlapping winner, or that its checks rejected, next to or overlapping a finding and not wholly inside it.
    fn scan(&self, text: &str) -> (Vec<Finding>, bool) {
        let prefilter = self.prefilter.get_or_init(|| prefilter::Prefilter::new(&self.rules));
        let hits = prefilter.scan(text);
        let markers = self.protected_ranges(text);
        let mut candidates = Vec::new();
        // Whole-match ranges of matches that did not become candidates (rejected by their checks).
        let mut rejected: Vec<(usize, usize, usize, usize)> = Vec::new();
        let mut starts_from = 0;
        for (rule_index, (rule, plan)) in self.rules.iter().zip(prefilter.plans()).enumerate() {
            let starts_to = starts_from + hits.starts[starts_from..].partition_point(|&(rule, _)| rule <= rule_index);
            let starts: Vec<usize> = hits.starts[starts_from..starts_to].iter().map(|&(_, start)| start).collect();
            starts_from = starts_to;
            match plan {
                prefilter::Plan::Scanner => continue,
                prefilter::Plan::Keyword if !hits.present[rule_index] => continue,
                prefilter::Plan::Anchored(_) | prefilter::Plan::Runs { .. } if starts.is_empty() => continue,
                _ => {}
            }
            prefilter::for_each_match(rule, plan, text, &starts, |secret, (whole_start, whole_end)| {
                let Some((start, end)) = secret else { return };
                if start == end
                    || markers.iter().any(|&(marker_start, marker_end)| start < marker_end && marker_start < end)
                {
                    return;
                }
                if !rule.accepts(&text[start..end], &text[whole_start..whole_end]) {
                    rejected.push((start, end, whole_start, whole_end));
                    return;
                }
                candidates.push((rule.kind, start, std::cmp::Reverse(end - start), rule_index, whole_start, whole_end));
            });
        }
        if prefilter.runs_scanner() {
            assignments::scan_at(text, &hits.names, &markers, |rule_id, start, end| {
                let Some(rule_index) = prefilter.scanned_rule(rule_id) else { return };
                if markers.iter().any(|&(marker_start, marker_end)| start < marker_end && marker_start < end) {
                    return;
                }
                candidates.push((RuleKind::Credential, start, std::cmp::Reverse(end - start), rule_index, start, end));
            });
        }
        candidates.sort_unstable();
        // Accepted ranges keyed by start; they never overlap, so only the last one starting before a
        // candidate's end can overlap it.
        let mut accepted: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
        for (_, start, std::cmp::Reverse(length), rule_index, whole_start, whole_end) in candidates {
            let end = start + length;
            let overlaps =
                accepted.range(..end).next_back().is_some_and(|(_, &(accepted_end, _))| accepted_end > start);
            if overlaps {
                rejected.push((start, end, whole_start, whole_end));
            } else {
                accepted.insert(start, (end, rule_index));
            }
        }
        let unsettles = |&(start, end, whole_start, whole_end): &(usize, usize, usize, usize)| {
            // The finding that starts last at or before the match's end (+1: look-around reaches one byte).
            let near = accepted.range(..=whole_end.saturating_add(1)).next_back();
            let touches = near.is_some_and(|(_, &(finding_end, _))| finding_end + 1 >= whole_start);
            let inside = accepted
                .range(..=start)
                .next_back()
                .is_some_and(|(&finding_start, &(finding_end, _))| finding_start <= start && end <= finding_end);
            touches && !inside
        };
        // A marker's brackets replace the secret's first and last characters as neighbours of the text around it:
        // a pattern whose boundary failed against those characters may hold against a bracket. A word character
        // beside the finding can gain a `\b` there, and `:%+~@` can start or end a new match (a URL scheme that
        // was part of the secret no longer hides `user@host` from the e-mail rule). Beside `.`, `-` or `/` a
        // bracket only takes a boundary away: no built-in pattern can match anew there.
        let glued =
            |byte: Option<&u8>| byte.is_some_and(|&byte| byte.is_ascii_alphanumeric() || b"_:%+~@".contains(&byte));
        // A URL's password, between `user:` and `@host`, is glued on both sides, but no built-in rule ends at a
        // userinfo's `:` or starts at its `@`: the marker's brackets change nothing there.
        let userinfo = |start: usize, end: usize| {
            start.checked_sub(1).and_then(|before| text.as_bytes().get(before)) == Some(&b':')
                && text.as_bytes().get(end) == Some(&b'@')
        };
        let unsettled = rejected.iter().any(unsettles)
            || accepted.iter().any(|(&start, &(end, _))| {
                !userinfo(start, end)
                    && (glued(start.checked_sub(1).and_then(|before| text.as_bytes().get(before)))
                        || glued(text.as_bytes().get(end)))
            });
        let findings = accepted
            .into_iter()
            .map(|(start, (end, rule_index))| {
                let rule = &self.rules[rule_index];
                Finding { rule_id: rule.id.clone(), kind: rule.kind, start, end }
            })
            .collect();
        (findings, unsettled)
    }

    /// Replaces every secret with its marker. Repeats until nothing is found, so a match that an overlapping
    /// winner hid in one pass is still redacted; this ends because each pass turns unmarked text into markers,
    /// which are never matched. Hence `redact(redact(x).text)` changes nothing and counts nothing.
    ///
    /// With the built-in rules and markers only, the second pass is skipped when it cannot find anything: no
    /// match that lost to a winner or failed its checks touches a finding beyond that finding's range, and no
    /// finding is glued to a word character or one of `:%+~@` on either side. Elsewhere a rule sees the
    /// same text as before, and the built-in patterns' boundaries (`\b`, a delimiter class) do not change between
    /// a secret's first or last character and a marker's bracket. A randomised test checks this against the loop.
    pub fn redact(&self, text: &str) -> Redacted {
        let mut current: std::borrow::Cow<'_, str> = std::borrow::Cow::Borrowed(text);
        let mut counts = BTreeMap::new();
        loop {
            let (findings, unsettled) = self.scan(&current);
            if findings.is_empty() {
                return Redacted { text: current.into_owned(), counts };
            }
            let mut replaced = String::with_capacity(current.len());
            let mut copied_to = 0;
            for finding in findings {
                replaced.push_str(&current[copied_to..finding.start]);
                match self.replacements.get(&finding.rule_id) {
                    Some(replacement) => replaced.push_str(replacement),
                    None => {
                        replaced.push_str("[REDACTED:");
                        replaced.push_str(&finding.rule_id);
                        replaced.push(']');
                    }
                }
                copied_to = finding.end;
                *counts.entry(finding.rule_id).or_insert(0) += 1;
            }
            replaced.push_str(&current[copied_to..]);
            if self.builtin_only && !unsettled {
                return Redacted { text: replaced, counts };
            }
            current = std::borrow::Cow::Owned(replaced);
        }
    }
}

impl Rule {
    fn accepts(&self, secret: &str, whole: &str) -> bool {
        self.min_entropy.is_none_or(|minimum| shannon_entropy(secret) >= minimum)
            && self.value_check.is_none_or(|check| check(secret))
            && !checks::looks_like_placeholder(secret)
            && !self.allowlist.allows(secret, whole)
    }
}

fn marker_pattern() -> &'static Regex {
    static MARKER: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    MARKER.get_or_init(|| compile_pattern(r"\[REDACTED:[a-z0-9._-]+\]").expect("the marker pattern compiles"))
}

#[cfg(test)]
mod prefilter_tests;
#[cfg(test)]
pub(crate) mod tests;
