//! Imports the rules of a gitleaks config (TOML) as detector rules.
//!
//! Read: `[[rules]]` `id`, `description`, `regex`, `secretGroup`, `entropy`, `keywords`, the rule's allowlists
//! (`[rules.allowlist]` and `[[rules.allowlists]]`), and the global ones (`[allowlist]`, `[[allowlists]]` with
//! optional `targetRules`). An allowlist contributes `regexes` (checked against the secret, or the whole match
//! for `regexTarget = "match"` or `"line"`: ctxpack has no line, and the match is the narrower, safer choice) and
//! `stopwords`. Its `paths` and `commits` cannot be evaluated on a text, so an allowlist that needs them
//! (`condition = "AND"` with paths, or only paths) is left out: findings are reported rather than missed.
//!
//! A rule is skipped with a reason, never fatally: no regex (path-only rules judge file names, which the
//! forbidden-path globs cover), a regex Rust cannot compile (look-around, back-references), or an unusable id.
//! A rule's `path` restriction is ignored, so the rule applies to every text. Only a config that is not TOML,
//! or not shaped like a gitleaks config, is an error.
//!
//! Go's RE2 and Rust's regex share their syntax; they differ here in one way: detector patterns are compiled
//! with ASCII semantics (no Unicode tables in the wasm build), where `.`, `\S` or `[^…]` could match half a
//! UTF-8 character and are refused. Such a pattern is rewritten once, putting exactly those constructs in
//! `(?u:…)` groups with ASCII classes spelled out, and compiled again.

use serde::Deserialize;

use crate::context::detect::{compile_pattern, Allowlist, Rule, RuleKind};
use crate::error::{Error, ErrorCode, Result};

/// The usable rules, in file order, and `(rule id, reason)` for each rule that could not be used.
#[derive(Debug, Clone)]
pub struct GitleaksImport {
    pub rules: Vec<Rule>,
    pub skipped: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    rules: Vec<toml::Value>,
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    id: String,
    #[serde(default)]
    description: String,
    regex: Option<String>,
    secret_group: Option<usize>,
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    path: Option<String>,
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawAllowlist {
    condition: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    regex_target: Option<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(default)]
    target_rules: Vec<String>,
}

pub fn import_gitleaks(toml_text: &str) -> Result<GitleaksImport> {
    let config: Config = toml::from_str(toml_text).map_err(|e| {
        Error::new(ErrorCode::PolicyInvalid, format!("gitleaks config is not usable TOML: {}", e.message()))
            .hint("pass a gitleaks config file (.gitleaks.toml) with [[rules]] tables")
    })?;
    let mut globals: Vec<&RawAllowlist> = config.allowlist.iter().collect();
    globals.extend(config.allowlists.iter());
    let mut import = GitleaksImport { rules: Vec::new(), skipped: Vec::new() };
    for (index, value) in config.rules.into_iter().enumerate() {
        let fallback_id =
            value.get("id").and_then(toml::Value::as_str).map_or(format!("rules[{index}]"), str::to_owned);
        let raw = match RawRule::deserialize(value) {
            Ok(raw) => raw,
            Err(e) => {
                import.skipped.push((fallback_id, format!("malformed rule: {}", e.message())));
                continue;
            }
        };
        let id = raw.id.clone();
        if import.rules.iter().any(|rule| rule.id == id.to_ascii_lowercase()) {
            import.skipped.push((id, "repeats an earlier rule's id".to_owned()));
            continue;
        }
        match convert(raw, &globals, &mut import.skipped) {
            Ok(rule) => import.rules.push(rule),
            Err(reason) => import.skipped.push((id, reason)),
        }
    }
    Ok(import)
}

fn convert(
    raw: RawRule,
    globals: &[&RawAllowlist],
    notes: &mut Vec<(String, String)>,
) -> std::result::Result<Rule, String> {
    let id = raw.id.to_ascii_lowercase();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return Err("id must use only letters, digits, '.', '_' and '-'".to_owned());
    }
    let Some(regex) = raw.regex.filter(|regex| !regex.is_empty()) else {
        return Err(match raw.path {
            Some(_) => "path-only rule: ctxpack scans text; forbidden paths cover file names".to_owned(),
            None => "has no regex".to_owned(),
        });
    };
    let pattern = compile_go(&regex).map_err(|e| format!("regex does not compile in Rust: {}", first_line(&e)))?;
    let groups = pattern.captures_len() - 1;
    // gitleaks takes the first non-empty group when secretGroup is unset; a rule holds one group, so with
    // several groups the whole match is masked (more than needed, never less).
    let secret_group = match raw.secret_group {
        Some(group) if group > groups => return Err(format!("secretGroup {group} but the regex has {groups} groups")),
        Some(group) => group,
        None if groups == 1 => 1,
        None => 0,
    };
    let mut allowlist = Allowlist::default();
    let own = raw.allowlist.iter().chain(raw.allowlists.iter());
    let global =
        globals.iter().copied().filter(|list| list.target_rules.is_empty() || list.target_rules.contains(&raw.id));
    for list in own.chain(global) {
        add_allowlist(&mut allowlist, list, &raw.id, notes);
    }
    Ok(Rule {
        id,
        description: raw.description,
        keywords: raw.keywords.iter().map(|keyword| keyword.to_ascii_lowercase()).collect(),
        pattern: pattern.into(),
        secret_group,
        min_entropy: raw.entropy.filter(|entropy| *entropy > 0.0),
        kind: RuleKind::Credential,
        value_check: None,
        allowlist,
    })
}

fn add_allowlist(into: &mut Allowlist, list: &RawAllowlist, rule_id: &str, notes: &mut Vec<(String, String)>) {
    let needs_location = !list.paths.is_empty() || !list.commits.is_empty();
    let has_content = !list.regexes.is_empty() || !list.stopwords.is_empty();
    let all_required = list.condition.as_deref().is_some_and(|condition| condition.eq_ignore_ascii_case("and"));
    if !has_content || (needs_location && all_required) {
        return;
    }
    // AND over a regex and a stopword cannot be expressed as two independent lists; keeping it would allow
    // matches gitleaks reports, so it is left out.
    if all_required && !list.regexes.is_empty() && !list.stopwords.is_empty() {
        return;
    }
    let on_secret = list.regex_target.as_deref().is_none_or(|target| target == "secret");
    for regex in &list.regexes {
        match compile_go(regex) {
            Ok(compiled) if on_secret => into.secret_regexes.push(compiled),
            Ok(compiled) => into.match_regexes.push(compiled),
            Err(e) => notes.push((
                format!("{rule_id}.allowlist"),
                format!("allowlist regex ignored (the rule still runs): {}", first_line(&e)),
            )),
        }
    }
    into.stopwords.extend(list.stopwords.iter().map(|word| word.to_ascii_lowercase()));
}

fn first_line(error: &regex::Error) -> String {
    let text = error.to_string();
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    lines.last().copied().unwrap_or("invalid").to_owned()
}

/// Compiles an RE2 pattern, rewriting the constructs ASCII mode refuses when the first attempt fails.
pub(crate) fn compile_go(pattern: &str) -> std::result::Result<regex::Regex, regex::Error> {
    compile_pattern(pattern).or_else(|first| compile_pattern(&widen(pattern)).map_err(|_| first))
}

const SPACE: &str = r"\t\n\x0B\x0C\r ";
const WORD: &str = "0-9A-Za-z_";

/// Rewrites `.`, `\S`, `\W`, `\D` and bracket classes that are negated or hold a negated escape into `(?u-i:…)`
/// groups with the ASCII meaning of `\s`, `\w`, `\d` spelled out, so they match whole UTF-8 characters.
fn widen(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                out.push_str(&match chars[i + 1] {
                    'S' => format!("(?u-i:[^{SPACE}])"),
                    'W' => format!("(?u-i:[^{WORD}])"),
                    'D' => "(?u-i:[^0-9])".to_owned(),
                    other => format!("\\{other}"),
                });
                i += 2;
            }
            '.' => {
                out.push_str("(?u:.)");
                i += 1;
            }
            '[' => {
                let (class, next) = widen_class(&chars, i);
                out.push_str(&class);
                i = next;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    out
}

/// One bracket class starting at `start`; returns its rewrite and the index after its `]`. Nested classes and
/// `[:alpha:]` are copied through.
fn widen_class(chars: &[char], start: usize) -> (String, usize) {
    let mut i = start + 1;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut body = String::new();
    let mut widened = negated;
    let mut first = true;
    while i < chars.len() {
        let c = chars[i];
        if c == ']' && !first {
            break;
        }
        first = false;
        if c == '\\' && i + 1 < chars.len() {
            let escaped = chars[i + 1];
            match escaped {
                's' => body.push_str(SPACE),
                'w' => body.push_str(WORD),
                'd' => body.push_str("0-9"),
                'S' => body.push_str(&format!("[^{SPACE}]")),
                'W' => body.push_str(&format!("[^{WORD}]")),
                'D' => body.push_str("[^0-9]"),
                other => {
                    body.push('\\');
                    body.push(other);
                }
            }
            widened |= matches!(escaped, 'S' | 'W' | 'D');
            i += 2;
        } else if c == '[' && chars.get(i + 1) == Some(&':') {
            let end = (i + 2..chars.len().saturating_sub(1)).find(|&j| chars[j] == ':' && chars[j + 1] == ']');
            let stop = end.map_or(chars.len(), |j| j + 2);
            body.extend(&chars[i..stop]);
            i = stop;
        } else {
            body.push(c);
            i += 1;
        }
    }
    let caret = if negated { "^" } else { "" };
    let class = format!("[{caret}{body}]");
    let next = (i + 1).min(chars.len());
    if widened {
        (format!("(?u-i:{class})"), next)
    } else {
        (class, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::detect::tests::fake;
    use crate::context::detect::Detector;

    /// Written from gitleaks' documented config format, in the style of its default config.
    const CONFIG: &str = r#"
title = "excerpt"

[allowlist]
description = "global allow list"
regexes = ['''^dummy[0-9]+$''']
paths = ['''gitleaks\.toml''']

[[rules]]
id = "aws-access-token"
description = "AWS access key id"
regex = '''\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b'''
entropy = 3
keywords = ["AKIA", "ASIA", "ABIA", "ACCA", "A3T"]

[[rules]]
id = "generic-api-key"
description = "Generic API key"
regex = '''(?i)[\w.-]{0,50}?(?:api[_-]?key|secret|token)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|:{1,3}=|:|=>)[\x60'"\s=]{0,5}([\w.=-]{10,150})(?:[\x60'"\s;]|\\[nr]|$)'''
secretGroup = 1
entropy = 3.5
keywords = ["key", "secret", "token"]
[rules.allowlist]
stopwords = ["CLIENT", "endpoint"]
regexTarget = "match"
regexes = ['''(?i)token_type''']

[[rules]]
id = "private-key"
description = "Private key"
regex = '''(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S-]*?KEY(?: BLOCK)?-----'''
keywords = ["-----begin"]

[[rules]]
id = "pkcs12-file"
description = "PKCS #12 file"
path = '''(?i)(?:^|\/)[^\/]+\.p(?:12|fx)$'''

[[rules]]
id = "lookahead-token"
description = "Uses a lookahead RE2 refuses too"
regex = '''tok_(?=[a-z])[a-z0-9]{20}'''

[[rules]]
id = "path-scoped"
description = "Only in .npmrc files, per gitleaks"
regex = '''npm_([a-z0-9]{36})'''
path = '''\.npmrc$'''
"#;

    fn detector(import: GitleaksImport) -> Detector {
        let mut detector = Detector::builtin();
        for rule in import.rules {
            let mut rule = rule;
            rule.id = format!("gl.{}", rule.id);
            detector.push(rule);
        }
        detector
    }

    #[test]
    fn imports_usable_rules_and_skips_the_rest_with_reasons() {
        let import = import_gitleaks(CONFIG).unwrap();
        let ids: Vec<&str> = import.rules.iter().map(|rule| rule.id.as_str()).collect();
        assert_eq!(ids, ["aws-access-token", "generic-api-key", "private-key", "path-scoped"]);
        let skipped: Vec<&str> = import.skipped.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(skipped, ["pkcs12-file", "lookahead-token"]);
        assert!(import.skipped[0].1.contains("path-only"));
        assert!(import.skipped[1].1.contains("does not compile"), "{}", import.skipped[1].1);
    }

    #[test]
    fn reads_secret_group_entropy_keywords_and_allowlists() {
        let import = import_gitleaks(CONFIG).unwrap();
        let aws = &import.rules[0];
        assert_eq!(aws.secret_group, 1, "one group and no secretGroup: that group");
        assert_eq!(aws.min_entropy, Some(3.0));
        assert_eq!(aws.keywords, ["akia", "asia", "abia", "acca", "a3t"]);
        assert_eq!(aws.allowlist.secret_regexes.len(), 1, "the global allowlist applies");
        let generic = &import.rules[1];
        assert_eq!(generic.secret_group, 1);
        assert_eq!(generic.allowlist.stopwords, ["client", "endpoint"]);
        assert_eq!(generic.allowlist.match_regexes.len(), 1);
        assert_eq!(import.rules[2].secret_group, 0, "no group: the whole match");
    }

    #[test]
    fn imported_rules_find_secrets_and_honour_allowlists() {
        let detector = detector(import_gitleaks(CONFIG).unwrap());
        let value = fake("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 32, 7);
        let text = format!("my_token = \"{value}\"\n");
        let findings = detector.find(&text);
        assert!(findings.iter().any(|f| text[f.start..f.end] == value), "{findings:?}");

        let stopped = format!("client_token = \"CLIENT{value}\"\n");
        assert!(!detector.find(&stopped).iter().any(|f| f.rule_id == "gl.generic-api-key"), "stopword");
        let matched = format!("token_type_secret = \"{value}\"\n");
        assert!(!detector.find(&matched).iter().any(|f| f.rule_id == "gl.generic-api-key"), "match regex");
    }

    #[test]
    fn a_go_pattern_with_wide_classes_is_rewritten_and_matches_utf8() {
        let import = import_gitleaks(CONFIG).unwrap();
        let key = import.rules[2].pattern.regex();
        let body = fake("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/", 64, 3);
        let text = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\né\n-----END RSA PRIVATE KEY-----");
        assert_eq!(key.find(&text).map(|m| m.as_str()), Some(text.as_str()));
        let dotted = compile_go("a.b[^x]c").unwrap();
        assert!(dotted.is_match("aéb€c"));
        assert!(!dotted.is_match("aébxc"));
    }

    #[test]
    fn malformed_rules_are_skipped_and_bad_toml_is_an_error() {
        let import =
            import_gitleaks("[[rules]]\nid = \"x\"\nregex = 5\n[[rules]]\nid = \"Bad Id\"\nregex = 'a'\n").unwrap();
        assert!(import.rules.is_empty());
        assert_eq!(import.skipped.len(), 2);
        assert!(import.skipped[0].1.starts_with("malformed rule"), "{:?}", import.skipped);
        let error = import_gitleaks("[[rules]\nid=").unwrap_err();
        assert_eq!(error.code, ErrorCode::PolicyInvalid);
    }
}
