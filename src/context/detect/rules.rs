//! The built-in rule set. Each pattern is written from the credential issuer's documented token format (prefix,
//! alphabet, length); rules without a distinctive prefix require an assignment to a name that says what the
//! value is, plus an entropy floor. Group 1 is the secret; a pattern whose alternatives hold it in different groups
//! (a quoted or an unquoted value) reports the first that matched, and a branch with no group consumes context
//! that must not be reported (a URL's userinfo for the e-mail rule, a phone number for the card rule).

use super::checks::{is_iban, is_payment_card, is_secret_shaped};
use super::credential_rules::CREDENTIAL_RULES;
use super::{Allowlist, Pattern, Rule, RuleKind};

pub(super) const EMAIL: &str = "email-address";
pub(super) const IPV4: &str = "ipv4-address";
pub(super) const PAYMENT_CARD: &str = "payment-card-number";
pub(super) const IBAN: &str = "iban";
/// The first branch consumes an international phone number (`+49 151 2345 6789`) without a secret.
pub(super) const PAYMENT_CARD_PATTERN: &str = r"\+[0-9](?:[ -]?[0-9])*|\b([2-6](?:[ -]?[0-9]){12,18})\b";
pub(super) const IBAN_PATTERN: &str = r"\b([A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30})\b";

pub(super) struct BuiltinRule {
    pub(super) id: &'static str,
    pub(super) description: &'static str,
    pub(super) keywords: &'static [&'static str],
    pub(super) pattern: &'static str,
    pub(super) min_entropy: Option<f64>,
    pub(super) kind: RuleKind,
    pub(super) value_check: Option<fn(&str) -> bool>,
}

/// A rule with a built-in id and that rule's exact pattern (a user rule reusing an id is not one).
pub(super) fn is_builtin(rule: &Rule) -> bool {
    builtin_rules().any(|builtin| builtin.id == rule.id && builtin.pattern == rule.pattern.as_str())
}

impl BuiltinRule {
    pub(super) fn compile(&self) -> Rule {
        Rule {
            id: self.id.to_owned(),
            description: self.description.to_owned(),
            keywords: self.keywords.iter().map(|keyword| (*keyword).to_owned()).collect(),
            pattern: Pattern::builtin(self.pattern),
            secret_group: 1,
            min_entropy: self.min_entropy,
            kind: self.kind,
            value_check: self.value_check,
            allowlist: Allowlist::default(),
        }
    }
}

pub(super) const fn credential(
    id: &'static str,
    description: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    min_entropy: Option<f64>,
) -> BuiltinRule {
    BuiltinRule { id, description, keywords, pattern, min_entropy, kind: RuleKind::Credential, value_check: None }
}

/// An assignment rule: the value must also be shaped like a secret, not like a name or an id.
pub(super) const fn assigned(
    id: &'static str,
    description: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    min_entropy: f64,
) -> BuiltinRule {
    BuiltinRule {
        id,
        description,
        keywords,
        pattern,
        min_entropy: Some(min_entropy),
        kind: RuleKind::Credential,
        value_check: Some(is_secret_shaped),
    }
}

const fn pii(
    id: &'static str,
    description: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    value_check: Option<fn(&str) -> bool>,
) -> BuiltinRule {
    BuiltinRule { id, description, keywords, pattern, min_entropy: None, kind: RuleKind::Pii, value_check }
}

/// Every built-in rule: the credential rules (credential_rules.rs), then the PII rules.
pub(super) fn builtin_rules() -> impl Iterator<Item = &'static BuiltinRule> {
    CREDENTIAL_RULES.iter().chain(PII_RULES)
}

const PII_RULES: &[BuiltinRule] = &[
    pii(
        EMAIL,
        "E-mail address",
        &["@"],
        // Not `git@github.com:acme/repo.git`: an address followed by `:` and a path or port is an SSH remote.
        // The first branch consumes a URL's userinfo (`https://<key>@o1.ingest.sentry.io/1`,
        // `https://user:pass@host`) without a secret, so its `user@host` is not taken for an address.
        r#"[A-Za-z][A-Za-z0-9+.-]*://(?u-i:[^\x00-\x20"'`<>()\[\]{}\\,;/@]*)@|\b([A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24})(?:(?u-i:[^A-Za-z0-9_:])|:(?u-i:[^A-Za-z0-9_~./-])|:$|$)"#,
        None,
    ),
    pii(
        IPV4,
        "IPv4 address (off by default)",
        &["."],
        r"\b((?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})\b",
        None,
    ),
    pii(
        PAYMENT_CARD,
        "Payment card number (issuer prefix and Luhn check digit)",
        &[],
        // Issuer prefixes start with 2–6 (checked in full by `is_payment_card`); fewer digits start a candidate.
        PAYMENT_CARD_PATTERN,
        Some(is_payment_card),
    ),
    pii(IBAN, "International bank account number (ISO 13616 mod-97 checksum)", &[], IBAN_PATTERN, Some(is_iban)),
];
