//! The context policy: what may reach an LLM, how it is redacted, and how large a packet may be.
//!
//! [`Policy::from_document`] reads `.intent/context/policy.yaml` in the original layout (seed-study Appendix B),
//! which the original loaded and never enforced. Every section is optional and falls back to ctxpack's defaults
//! ([`Policy::builtin`] is the empty document); unknown sections are ignored, so a policy can carry notes, audit
//! settings or keys meant for other tools. A value of the wrong shape is [`ErrorCode::PolicyInvalid`] naming its
//! key path (`redaction.strategies.secrets.action`).
//!
//! Lists that protect (forbidden paths, forbidden calls) extend the built-in ones unless the section says
//! `include_defaults: false`: the original's own list misses `.npmrc`, SSH keys and cloud credentials, and a
//! project that copied it should not lose them. [`Policy::digest`] covers the document and every gitleaks
//! config added, so changing either changes every cache key.

pub mod gitleaks;
mod read;

use crate::context::call_finder::CallFinder;
use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::context::detect::{Detector, PiiOptions, Rule, RuleKind};
use crate::context::glob::{Glob, SplitPath};
use crate::context::packet::Privacy;
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use read::Section;

/// Forbidden paths ctxpack always applies unless a policy opts out: the original's list, then more files that
/// commonly hold credentials.
pub const DEFAULT_FORBIDDEN_PATHS: &[&str] = &[
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
    // Beyond the original: the same directories at any depth, and more credential files.
    "**/.secrets/**",
    "**/.ssh/**",
    "**/.gnupg/**",
    "secrets.yml",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.tfstate",
    "*.tfstate.backup",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".pgpass",
    ".htpasswd",
    ".git-credentials",
    "**/.aws/credentials",
    "**/.docker/config.json",
    "**/.kube/config",
];

/// The original's `invariants.rules[].forbidden_calls`, applied unless a policy opts out.
pub const DEFAULT_FORBIDDEN_CALLS: &[(&str, &[&str])] = &[
    ("no_filesystem_ops", &["os.remove", "os.unlink", "shutil.rmtree", "pathlib.Path.unlink"]),
    ("no_network_ops", &["requests.get", "requests.post", "urllib.request", "socket.connect", "httpx.get"]),
    ("no_subprocess", &["subprocess.run", "subprocess.Popen", "os.system"]),
];

const DEFAULT_SENSITIVE_DIRS: &[&str] = &[".git", ".github/workflows", "deployment", "infrastructure"];
const DEFAULT_ALWAYS_LOCAL: &[&str] = &["security.audit", "secrets.scan"];
const DEFAULT_REQUIRE_APPROVAL: &[&str] = &["code.generate", "refactor"];
pub const DEFAULT_MAX_TOKENS: u64 = 100_000;
pub const DEFAULT_MAX_ITEMS: u64 = 50;
const DEFAULT_BUDGETS: &[(&str, u64, u64)] = &[
    ("docstring.fix", 10_000, 10),
    ("header.fix", 5_000, 5),
    ("test.generate", 50_000, 30),
    ("code.generate", 100_000, 50),
    ("refactor", 150_000, 75),
];
pub const DEFAULT_MAX_SNIPPET_CHARS: usize = 5000;
pub const DEFAULT_CACHE_TTL_SECONDS: u64 = 86_400;

/// What happens to an item whose text a detector matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentAction {
    /// `mask_content`: the match is replaced by `[REDACTED:<rule>]` (or the rule's replacement).
    Mask,
    /// `remove_item`: the whole item is dropped. Problem text and attachments are masked instead.
    RemoveItem,
}

/// What happens to a snippet that calls a forbidden function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAction {
    /// Kept, and recorded as flagged.
    Flag,
    /// The item is dropped.
    Drop,
}

/// A dotted (or `::`-separated) call name and the invariant rule that forbids it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForbiddenCall {
    pub name: String,
    pub rule: String,
}

#[derive(Debug, Clone)]
pub struct Policy {
    forbidden_paths: Vec<Glob>,
    sensitive_dirs: Vec<Glob>,
    sensitive_approval_required: bool,
    detector: Detector,
    secrets_action: ContentAction,
    pii_action: ContentAction,
    max_snippet_chars: usize,
    forbidden_calls: Vec<ForbiddenCall>,
    /// Finds every forbidden call name in one pass over a snippet.
    call_finder: CallFinder,
    call_action: CallAction,
    default_privacy: Privacy,
    always_local: Vec<String>,
    require_remote_approval: Vec<String>,
    default_budget: (u64, u64),
    budgets: BTreeMap<String, (u64, u64)>,
    cache_ttl_seconds: u64,
    /// The document as given (`{}` for the defaults) and every gitleaks text added: the digest's input.
    source: Value,
    gitleaks: Vec<String>,
    skipped: Vec<(String, String)>,
}

impl Policy {
    /// ctxpack's defaults: the policy of an empty document.
    pub fn builtin() -> Policy {
        Policy::from_document(&json!({})).expect("the empty policy is valid")
    }

    /// Reads a policy document (`null` is the empty one). See the module documentation and docs/spec.md.
    pub fn from_document(document: &Value) -> Result<Policy> {
        let source = if document.is_null() { json!({}) } else { document.clone() };
        let root = Section::root(&source)?;
        let privacy = root.section("privacy")?;
        let redaction = root.section("redaction")?.section("strategies")?;
        let routing = root.section("routing")?;
        let budgets = root.section("budgets")?;

        let forbidden_section = privacy.section("forbidden_paths")?;
        let mut forbidden_patterns: Vec<String> = Vec::new();
        if forbidden_section.bool_or("include_defaults", true)? {
            forbidden_patterns.extend(DEFAULT_FORBIDDEN_PATHS.iter().map(|p| (*p).to_owned()));
        }
        forbidden_patterns.extend(forbidden_section.strings("patterns")?.unwrap_or_default());
        let forbidden_paths = globs(&forbidden_section, "patterns", dedupe(forbidden_patterns))?;

        let sensitive = privacy.section("sensitive_dirs")?;
        let sensitive_list = sensitive.strings("paths")?.unwrap_or_else(|| owned(DEFAULT_SENSITIVE_DIRS));
        let sensitive_dirs = globs(&sensitive, "paths", sensitive_list)?;

        let default_privacy = match privacy.string("default_level")?.as_deref() {
            None | Some("local_only") => Privacy::LocalOnly,
            Some("remote_allowed") => Privacy::RemoteAllowed,
            Some(other) => {
                return Err(privacy.invalid("default_level", &format!("is {other:?}, not local_only or remote_allowed")))
            }
        };
        if routing.bool_or("remote_allowed_by_default", false)? && default_privacy == Privacy::LocalOnly {
            return Err(routing.invalid("remote_allowed_by_default", "is true but privacy.default_level is local_only"));
        }

        let pii_section = redaction.section("pii")?;
        let mut detector = Detector::builtin_with(pii_options(&privacy)?);
        if let Some(replacement) = pii_section.string("replacement")? {
            check_replacement(&pii_section, "replacement", &replacement)?;
            let pii_ids: Vec<String> =
                detector.rules().iter().filter(|r| r.kind == RuleKind::Pii).map(|r| r.id.clone()).collect();
            for id in pii_ids {
                detector.set_replacement(&id, &replacement);
            }
        }
        user_rules(&privacy.section("forbidden_content")?, &mut detector)?;

        let secrets_action = content_action(&redaction.section("secrets")?)?;
        let pii_action = content_action(&pii_section)?;
        let large = redaction.section("large_files")?;
        if let Some(action) = large.string("action")? {
            if action != "truncate" {
                return Err(large.invalid("action", &format!("is {action:?}; only truncate is supported")));
            }
        }
        let max_snippet_chars = large.positive_or("max_length", DEFAULT_MAX_SNIPPET_CHARS as u64)? as usize;

        let calls_section = redaction.section("forbidden_calls")?;
        let call_action = match calls_section.string("action")?.as_deref() {
            None | Some("flag") => CallAction::Flag,
            Some("drop") | Some("remove_item") => CallAction::Drop,
            Some(other) => return Err(calls_section.invalid("action", &format!("is {other:?}, not flag or drop"))),
        };
        let forbidden_calls = forbidden_calls(&root, calls_section.bool_or("include_defaults", true)?)?;

        let always_local =
            routing.section("always_local")?.strings("task_types")?.unwrap_or_else(|| owned(DEFAULT_ALWAYS_LOCAL));
        let require_remote_approval = routing
            .section("require_remote_approval")?
            .strings("task_types")?
            .unwrap_or_else(|| owned(DEFAULT_REQUIRE_APPROVAL));

        let defaults = budgets.section("defaults")?;
        let default_budget = (
            defaults.positive_or("max_tokens", DEFAULT_MAX_TOKENS)?,
            defaults.positive_or("max_items", DEFAULT_MAX_ITEMS)?,
        );
        let budgets = task_budgets(&budgets, default_budget)?;

        let cache = root.section("cache")?;
        let cache_ttl_seconds = match cache.integer("ttl_hours")? {
            Some(hours) => hours.checked_mul(3600).ok_or_else(|| cache.invalid("ttl_hours", "is too large"))?,
            None => DEFAULT_CACHE_TTL_SECONDS,
        };

        Ok(Policy {
            forbidden_paths,
            sensitive_dirs,
            sensitive_approval_required: sensitive.bool_or("approval_required", true)?,
            detector,
            secrets_action,
            pii_action,
            max_snippet_chars,
            call_finder: CallFinder::new(&forbidden_calls.iter().map(|call| call.name.clone()).collect::<Vec<_>>())
                .map_err(|e| Error::new(ErrorCode::PolicyInvalid, format!("forbidden calls: {e}")))?,
            forbidden_calls,
            call_action,
            default_privacy,
            always_local,
            require_remote_approval,
            default_budget,
            budgets,
            cache_ttl_seconds,
            source,
            gitleaks: Vec::new(),
            skipped: Vec::new(),
        })
    }

    /// Adds the rules of a gitleaks config after the existing ones. Unusable rules, and rules whose id is
    /// already taken (the earlier definition wins), are listed in [`Policy::skipped`].
    pub fn add_gitleaks(&mut self, toml_text: &str) -> Result<()> {
        let import = gitleaks::import_gitleaks(toml_text)?;
        self.skipped.extend(import.skipped);
        for rule in import.rules {
            if self.detector.rules().iter().any(|existing| existing.id == rule.id) {
                self.skipped.push((rule.id, "an earlier rule already uses this id".to_owned()));
            } else {
                self.detector.push(rule);
            }
        }
        self.gitleaks.push(toml_text.to_owned());
        Ok(())
    }

    /// `sha256` of JCS({document, gitleaks texts}): any change to the policy changes it.
    pub fn digest(&self) -> Digest {
        let input = json!({"policy": self.source, "gitleaks": self.gitleaks});
        crate::jcs::digest(&input).expect("a parsed policy document is canonical JSON")
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// `(rule id, reason)` for each gitleaks rule that could not be used.
    pub fn skipped(&self) -> &[(String, String)] {
        &self.skipped
    }

    pub fn forbidden_paths(&self) -> &[Glob] {
        &self.forbidden_paths
    }

    /// The first forbidden glob that matches `path`.
    pub fn forbidden_path(&self, path: &str) -> Option<&Glob> {
        let path = SplitPath::new(path);
        self.forbidden_paths.iter().find(|glob| glob.matches_split(&path))
    }

    pub fn sensitive_dirs(&self) -> &[Glob] {
        &self.sensitive_dirs
    }

    /// Why sending a packet with this task type and these item paths off the machine needs a person's
    /// approval (`routing.require_remote_approval`, `privacy.sensitive_dirs`); empty when it does not.
    pub fn approval_reasons<'a>(&self, task_type: &str, paths: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.require_remote_approval.iter().any(|t| t == task_type) {
            reasons.push(format!("task type {task_type} requires approval for remote use"));
        }
        if self.sensitive_approval_required {
            for path in paths {
                if let Some(glob) = self.sensitive_dirs.iter().find(|glob| glob.matches(path)) {
                    reasons.push(format!("is in sensitive directory {glob}"));
                }
            }
        }
        reasons
    }

    /// The action for matches of a rule of this kind.
    pub fn action_for(&self, kind: RuleKind) -> ContentAction {
        match kind {
            RuleKind::Credential => self.secrets_action,
            RuleKind::Pii => self.pii_action,
        }
    }

    /// Snippets longer than this many characters (Unicode scalar values) are truncated.
    pub fn max_snippet_chars(&self) -> usize {
        self.max_snippet_chars
    }

    pub fn forbidden_calls(&self) -> &[ForbiddenCall] {
        &self.forbidden_calls
    }

    /// The forbidden call names, pattern `i` being `forbidden_calls()[i]`.
    pub fn call_finder(&self) -> &CallFinder {
        &self.call_finder
    }

    pub fn call_action(&self) -> CallAction {
        self.call_action
    }

    /// `privacy.default_level`: what a task that does not say gets.
    pub fn default_privacy(&self) -> Privacy {
        self.default_privacy
    }

    pub fn is_always_local(&self, task_type: &str) -> bool {
        self.always_local.iter().any(|t| t == task_type)
    }

    /// `(max_tokens, max_items)` for a task type: its `budgets.by_task_type` entry, else `budgets.defaults`.
    pub fn budget_for(&self, task_type: &str) -> (u64, u64) {
        self.budgets.get(task_type).copied().unwrap_or(self.default_budget)
    }

    pub fn cache_ttl_seconds(&self) -> u64 {
        self.cache_ttl_seconds
    }
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn dedupe(list: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    list.into_iter().filter(|item| seen.insert(item.clone())).collect()
}

fn globs(section: &Section, key: &str, patterns: Vec<String>) -> Result<Vec<Glob>> {
    patterns
        .iter()
        .map(|pattern| {
            Glob::parse(pattern).map_err(|e| section.invalid(key, &format!("has a bad glob: {}", e.message)))
        })
        .collect()
}

fn pii_options(privacy: &Section) -> Result<PiiOptions> {
    let defaults = PiiOptions::default();
    match privacy.get("pii") {
        None => Ok(defaults),
        Some(Value::Bool(on)) => Ok(PiiOptions { email: *on, ipv4: *on, payment_card: *on, iban: *on }),
        Some(_) => {
            let pii = privacy.section("pii")?;
            pii.only_keys(&["email", "ipv4", "payment_card", "iban"])?;
            Ok(PiiOptions {
                email: pii.bool_or("email", defaults.email)?,
                ipv4: pii.bool_or("ipv4", defaults.ipv4)?,
                payment_card: pii.bool_or("payment_card", defaults.payment_card)?,
                iban: pii.bool_or("iban", defaults.iban)?,
            })
        }
    }
}

fn content_action(section: &Section) -> Result<ContentAction> {
    match section.string("action")?.as_deref() {
        None | Some("mask_content") | Some("mask") => Ok(ContentAction::Mask),
        Some("remove_item") => Ok(ContentAction::RemoveItem),
        Some(other) => Err(section.invalid("action", &format!("is {other:?}, not mask_content or remove_item"))),
    }
}

/// A replacement must look like a marker — non-empty, bracketed, at most 64 printable ASCII characters without
/// inner brackets — because the detector never matches inside one: a replacement such as `x` would hide
/// every later secret that touches an `x`.
fn check_replacement(section: &Section<'_>, key: &str, text: &str) -> Result<()> {
    let inner = text.strip_prefix('[').and_then(|t| t.strip_suffix(']'));
    let ok = text.len() <= 64
        && inner.is_some_and(|inner| {
            !inner.is_empty() && inner.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'[' && b != b']')
        });
    if ok {
        Ok(())
    } else {
        Err(section
            .invalid(key, "must be bracketed text such as \"[EMAIL_REDACTED]\", 3 to 64 printable ASCII characters"))
    }
}

/// `privacy.forbidden_content.patterns`: one detector rule each, after the built-in rules (which win ties).
fn user_rules(section: &Section, detector: &mut Detector) -> Result<()> {
    let Some(patterns) = section.entries("patterns")? else { return Ok(()) };
    for (index, entry) in patterns.iter().enumerate() {
        let regex = entry.string("regex")?.ok_or_else(|| entry.invalid("regex", "is required"))?;
        let compiled = gitleaks::compile_go(&regex).map_err(|e| {
            entry.invalid("regex", &format!("does not compile: {}", e.to_string().lines().last().unwrap_or("")))
        })?;
        let reason = entry.string("reason")?.unwrap_or_else(|| "forbidden content".to_owned());
        let redact_with = entry.string("redact_with")?;
        if let Some(text) = &redact_with {
            check_replacement(entry, "redact_with", text)?;
        }
        // A rule with its own replacement asks for masking, like the original's e-mail rule: it is PII unless
        // it says otherwise, so `secrets.action: remove_item` does not drop items for it.
        let kind = match entry.string("kind")?.as_deref() {
            Some("credential") => RuleKind::Credential,
            Some("pii") => RuleKind::Pii,
            None if redact_with.is_some() => RuleKind::Pii,
            None => RuleKind::Credential,
            Some(other) => return Err(entry.invalid("kind", &format!("is {other:?}, not credential or pii"))),
        };
        let id = match entry.string("id")? {
            Some(id) => id,
            None => slug(&reason, index, detector),
        };
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)) {
            return Err(entry.invalid("id", "must be non-empty and use only a-z, 0-9, '.', '_' and '-'"));
        }
        if detector.rules().iter().any(|rule| rule.id == id) {
            return Err(entry.invalid("id", &format!("{id:?} is already used by another rule")));
        }
        let groups = compiled.captures_len() - 1;
        let secret_group = entry.integer("secret_group")?.unwrap_or(0) as usize;
        if secret_group > groups {
            return Err(entry.invalid("secret_group", &format!("is {secret_group} but the regex has {groups} groups")));
        }
        let keywords = entry.strings("keywords")?.unwrap_or_default();
        let min_entropy = entry.number("entropy")?;
        if let Some(text) = &redact_with {
            detector.set_replacement(&id, text);
        }
        detector.push(Rule {
            id,
            description: reason,
            keywords: keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            pattern: compiled.into(),
            secret_group,
            min_entropy,
            kind,
            value_check: None,
            allowlist: Default::default(),
        });
    }
    Ok(())
}

/// A readable id from a rule's reason (`Potential password in code` → `policy.potential-password-in-code`),
/// numbered when it would repeat an id.
fn slug(reason: &str, index: usize, detector: &Detector) -> String {
    let mut slug = String::new();
    for c in reason.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.chars().take(40).collect();
    let slug = slug.trim_end_matches('-');
    let base = if slug.is_empty() { format!("policy.rule-{}", index + 1) } else { format!("policy.{slug}") };
    let taken = |id: &str| detector.rules().iter().any(|rule| rule.id == id);
    if !taken(&base) {
        return base;
    }
    (2..).map(|n| format!("{base}-{n}")).find(|id| !taken(id)).expect("some suffix is free")
}

fn forbidden_calls(root: &Section, include_defaults: bool) -> Result<Vec<ForbiddenCall>> {
    let mut calls: Vec<ForbiddenCall> = Vec::new();
    let mut add = |name: &str, rule: &str| {
        if !calls.iter().any(|call| call.name == name) {
            calls.push(ForbiddenCall { name: name.to_owned(), rule: rule.to_owned() });
        }
    };
    if include_defaults {
        for (rule, names) in DEFAULT_FORBIDDEN_CALLS {
            names.iter().for_each(|name| add(name, rule));
        }
    }
    let invariants = root.section("invariants")?;
    let Some(rules) = invariants.entries("rules")? else { return Ok(calls) };
    for entry in &rules {
        let Some(names) = entry.strings("forbidden_calls")? else { continue };
        let id = entry.string("id")?.ok_or_else(|| entry.invalid("id", "is required with forbidden_calls"))?;
        for name in names {
            if !is_call_name(&name) {
                return Err(entry.invalid("forbidden_calls", &format!("{name:?} is not a dotted or ::-separated name")));
            }
            add(&name, &id);
        }
    }
    Ok(calls)
}

/// `os.system`, `pathlib.Path.unlink`, `std::process::Command`: identifiers joined by `.` or `::`.
fn is_call_name(name: &str) -> bool {
    let identifier = |part: &str| {
        part.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    name.split("::").all(|part| part.split('.').all(identifier))
}

fn task_budgets(budgets: &Section, default: (u64, u64)) -> Result<BTreeMap<String, (u64, u64)>> {
    if budgets.get("by_task_type").is_none() {
        return Ok(DEFAULT_BUDGETS.iter().map(|(t, tokens, items)| ((*t).to_owned(), (*tokens, *items))).collect());
    }
    let by_task = budgets.section("by_task_type")?;
    let mut out = BTreeMap::new();
    for task_type in by_task.keys() {
        let entry = by_task.section(&task_type)?;
        out.insert(
            task_type,
            (entry.positive_or("max_tokens", default.0)?, entry.positive_or("max_items", default.1)?),
        );
    }
    Ok(out)
}

pub(crate) fn invalid(key_path: &str, why: &str) -> Error {
    Error::new(ErrorCode::PolicyInvalid, format!("policy {key_path} {why}"))
        .at(key_path.to_owned())
        .hint("fix the key in .intent/context/policy.yaml; see docs/spec.md for the supported keys")
}

#[cfg(test)]
mod tests;
