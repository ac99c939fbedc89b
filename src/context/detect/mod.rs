//! Credential and PII detectors with stable rule ids, and redaction with `[REDACTED:<rule-id>]` markers.
//!
//! A [`Rule`] is a keyword prefilter, an ASCII regular expression, the capture group that holds the secret, and
//! optional value checks (Shannon entropy, a checksum). [`Detector::find`] runs every rule whose keyword occurs,
//! resolves overlaps deterministically and reports byte ranges only: a [`Finding`] never holds the secret, so it
//! can be logged. [`Detector::redact`] replaces each secret with a marker that no rule can match again.

mod checks;
mod rules;

use std::collections::BTreeMap;

use regex::{Regex, RegexBuilder};

pub use checks::{is_iban, is_payment_card, shannon_entropy};

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
    pub keywords: Vec<String>,
    pub pattern: Regex,
    /// The capture group that holds the secret (0: the whole match).
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

    pub fn builtin_with(pii: PiiOptions) -> Self {
        let rules = rules::BUILTIN
            .iter()
            .filter(|rule| match rule.id {
                rules::EMAIL => pii.email,
                rules::IPV4 => pii.ipv4,
                rules::PAYMENT_CARD => pii.payment_card,
                rules::IBAN => pii.iban,
                _ => true,
            })
            .map(rules::BuiltinRule::compile)
            .collect();
        Detector { rules, replacements: BTreeMap::new() }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Adds a rule after the existing ones (it loses ties to them).
    pub fn push(&mut self, rule: Rule) {
        self.rules.push(rule);
    }

    /// Writes `text` instead of the `[REDACTED:<rule-id>]` marker for `rule_id`. `find` ignores any match that
    /// overlaps the text, so redaction stays idempotent; the caller keeps the text distinctive (see the policy).
    pub fn set_replacement(&mut self, rule_id: &str, text: &str) {
        self.replacements.insert(rule_id.to_owned(), text.to_owned());
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
        let lowered = text.to_ascii_lowercase();
        let markers = self.protected_ranges(text);
        let mut candidates = Vec::new();
        for (rule_index, rule) in self.rules.iter().enumerate() {
            if !rule.keywords.is_empty() && !rule.keywords.iter().any(|keyword| lowered.contains(keyword.as_str())) {
                continue;
            }
            for captures in rule.pattern.captures_iter(text) {
                let Some(secret) = captures.get(rule.secret_group) else { continue };
                let (start, end) = (secret.start(), secret.end());
                if start == end
                    || markers.iter().any(|&(marker_start, marker_end)| start < marker_end && marker_start < end)
                    || !rule.accepts(secret.as_str(), &captures[0])
                {
                    continue;
                }
                candidates.push((rule.kind, start, std::cmp::Reverse(end - start), rule_index));
            }
        }
        candidates.sort_unstable();
        // Accepted ranges keyed by start; they never overlap, so only the last one starting before a
        // candidate's end can overlap it.
        let mut accepted: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
        for (_, start, std::cmp::Reverse(length), rule_index) in candidates {
            let end = start + length;
            let overlaps =
                accepted.range(..end).next_back().is_some_and(|(_, &(accepted_end, _))| accepted_end > start);
            if !overlaps {
                accepted.insert(start, (end, rule_index));
            }
        }
        accepted
            .into_iter()
            .map(|(start, (end, rule_index))| {
                let rule = &self.rules[rule_index];
                Finding { rule_id: rule.id.clone(), kind: rule.kind, start, end }
            })
            .collect()
    }

    /// Replaces every secret with its marker. Repeats until nothing is found, so a match that an overlapping
    /// winner hid in one pass is still redacted; this ends because each pass turns unmarked text into markers,
    /// which are never matched. Hence `redact(redact(x).text)` changes nothing and counts nothing.
    pub fn redact(&self, text: &str) -> Redacted {
        let mut current = text.to_owned();
        let mut counts = BTreeMap::new();
        loop {
            let findings = self.find(&current);
            if findings.is_empty() {
                return Redacted { text: current, counts };
            }
            let mut replaced = String::with_capacity(current.len());
            let mut copied_to = 0;
            for finding in findings {
                replaced.push_str(&current[copied_to..finding.start]);
                replaced.push_str(&self.replacement(&finding.rule_id));
                copied_to = finding.end;
                *counts.entry(finding.rule_id).or_insert(0) += 1;
            }
            replaced.push_str(&current[copied_to..]);
            current = replaced;
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
mod tests;
