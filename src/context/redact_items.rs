//! The steps of redaction that touch one item at a time (a forbidden path, masking or removal, truncation,
//! forbidden calls), and the records they leave, kept apart by step so that a packet redacted whole and one
//! redacted item by item as it streams record the same actions in the same order.

use crate::context::collect::TRUNCATED_MARKER;
use crate::context::detect::{Detector, Rule, RuleKind};
use crate::context::packet::{Attachment, Item, Problem, Redaction, RedactionAction};
use crate::context::policy::{CallAction, ContentAction, Policy};

/// What a pass did so far, one list per step: [`Records::finish`] joins them in the order of
/// [`crate::context::redact`]'s steps.
#[derive(Debug, Default)]
pub struct Records {
    forbidden: Vec<Redaction>,
    items: Vec<Redaction>,
    problem: Vec<Redaction>,
    attachments: Vec<Redaction>,
    truncated: Vec<Redaction>,
    calls: Vec<Redaction>,
}

impl Records {
    /// Redacts one item; `false`: it is dropped (a forbidden path, a `remove_item` finding, a forbidden call
    /// under `drop`).
    pub fn item(&mut self, item: &mut Item, policy: &Policy) -> bool {
        if let Some(glob) = item.path.as_deref().and_then(|path| policy.forbidden_path(path)) {
            let dropped = record(item, None, RedactionAction::Dropped, glob.as_str(), "forbidden path".to_owned(), 1);
            self.forbidden.push(dropped);
            return false;
        }
        if !redact_item(item, policy, &mut self.items) {
            return false;
        }
        truncate_snippet(item, policy, &mut self.truncated);
        check_calls(item, policy, &mut self.calls)
    }

    /// Masks `problem.summary` and `problem.acceptance[]`.
    pub fn problem(&mut self, problem: &mut Problem, policy: &Policy) {
        let detector = policy.detector();
        mask("problem", None, "problem.summary", &mut problem.summary, detector, &mut self.problem);
        for (i, text) in problem.acceptance.iter_mut().enumerate() {
            mask("problem", None, &format!("problem.acceptance[{i}]"), text, detector, &mut self.problem);
        }
    }

    /// Masks `attachments[].content`.
    pub fn attachments(&mut self, attachments: &mut [Attachment], policy: &Policy) {
        let detector = policy.detector();
        for (index, attachment) in attachments.iter_mut().enumerate() {
            let field = format!("attachments[{index}].content");
            mask(&attachment.name, None, &field, &mut attachment.content, detector, &mut self.attachments);
        }
    }

    /// Every record in step order, without the flags `existing` (the packet's earlier records) already holds: a
    /// flag is recorded once.
    pub fn finish(self, existing: &[Redaction]) -> Vec<Redaction> {
        let calls = self.calls.into_iter().filter(|flag| !existing.iter().any(|r| same_flag(r, flag)));
        let steps = [self.forbidden, self.items, self.problem, self.attachments, self.truncated];
        steps.into_iter().flatten().chain(calls).collect()
    }
}

/// Two records of the same forbidden call flagged in the same item.
fn same_flag(r: &Redaction, flag: &Redaction) -> bool {
    flag.action == RedactionAction::Flagged
        && r.action == flag.action
        && r.rule == flag.rule
        && r.item_name == flag.item_name
        && r.path == flag.path
}

/// Appended to a truncated snippet; counted within the maximum length, so the result fits.
pub(crate) fn truncation_mark() -> String {
    format!("\n{TRUNCATED_MARKER}")
}

/// Masks an item's texts, or reports `false` (drop it) when a rule whose kind is `remove_item` matched.
fn redact_item(item: &mut Item, policy: &Policy, applied: &mut Vec<Redaction>) -> bool {
    let detector = policy.detector();
    // Without a `remove_item` action no finding drops the item: masking alone scans the texts.
    let removes = [RuleKind::Credential, RuleKind::Pii]
        .into_iter()
        .any(|kind| policy.action_for(kind) == ContentAction::RemoveItem);
    let fields = [("signature", &item.signature), ("summary", &item.summary), ("snippet", &item.snippet)];
    for (field, text) in fields.into_iter().filter(|_| removes) {
        let Some(text) = text.as_deref() else { continue };
        let findings = detector.find(text);
        let removing: Vec<_> =
            findings.iter().filter(|f| policy.action_for(f.kind) == ContentAction::RemoveItem).collect();
        if let Some(first) = removing.first() {
            let reason = format!("{} found (remove_item)", kind_name(first.kind));
            applied.push(record(item, Some(field), RedactionAction::Dropped, &first.rule_id, reason, removing.len()));
            return false;
        }
    }
    let (name, path) = (item.name.clone(), item.path.clone());
    for (field, text) in
        [("signature", &mut item.signature), ("summary", &mut item.summary), ("snippet", &mut item.snippet)]
    {
        if let Some(text) = text {
            mask(&name, path.as_deref(), field, text, detector, applied);
        }
    }
    true
}

fn mask(name: &str, path: Option<&str>, field: &str, text: &mut String, detector: &Detector, out: &mut Vec<Redaction>) {
    let redacted = detector.redact(text);
    if redacted.counts.is_empty() {
        return;
    }
    *text = redacted.text;
    for (rule_id, count) in redacted.counts {
        let reason = rule(detector, &rule_id).map_or_else(|| "secret".to_owned(), |rule| rule.description.clone());
        out.push(Redaction {
            item_name: name.to_owned(),
            path: path.map(str::to_owned),
            field: Some(field.to_owned()),
            action: RedactionAction::Masked,
            rule: rule_id,
            reason,
            count: count as u64,
            redacted_at: None,
        });
    }
}

fn truncate_snippet(item: &mut Item, policy: &Policy, applied: &mut Vec<Redaction>) {
    let max = policy.max_snippet_chars();
    let Some(snippet) = item.snippet.as_mut() else { return };
    // No more characters than bytes: most snippets need no count.
    if snippet.len() <= max {
        return;
    }
    let length = snippet.chars().count();
    if length <= max {
        return;
    }
    let full_mark = truncation_mark();
    let mark_chars = full_mark.chars().count();
    let (keep, mut mark) = if max > mark_chars { (max - mark_chars, full_mark.as_str()) } else { (max, "") };
    let mut cut = snippet.char_indices().nth(keep).map_or(snippet.len(), |(at, _)| at);
    let detector = policy.detector();
    // Never leave half a marker: the remains could match a rule, and the next pass would mask them.
    if let Some(&(start, _)) = detector.protected_ranges(snippet).iter().find(|&&(start, end)| start < cut && cut < end)
    {
        cut = start;
    }
    // A cut can also complete a match (a token that was too long to match ends at the cut now): cut before it,
    // so the result holds no secret and a second pass finds nothing. Each round shortens the text.
    let truncated = loop {
        let candidate = format!("{}{mark}", &snippet[..cut]);
        match detector.find(&candidate).iter().map(|finding| finding.start).min() {
            None => break candidate,
            Some(start) if start < cut => cut = start,
            Some(_) => mark = "",
        }
    };
    *snippet = truncated;
    let reason = format!("snippet of {length} characters cut to at most {max}");
    applied.push(record(item, Some("snippet"), RedactionAction::Truncated, "max_length", reason, 1));
}

/// Flags (or drops, reporting `false`) an item whose snippet calls a forbidden function.
fn check_calls(item: &Item, policy: &Policy, applied: &mut Vec<Redaction>) -> bool {
    let Some(snippet) = item.snippet.as_deref() else { return true };
    let counts = policy.call_finder().count(snippet);
    let found: Vec<(&crate::context::policy::ForbiddenCall, usize)> =
        policy.forbidden_calls().iter().zip(counts).filter(|(_, count)| *count > 0).collect();
    if found.is_empty() {
        return true;
    }
    if policy.call_action() == CallAction::Drop {
        let (call, _) = found[0];
        let total = found.iter().map(|(_, count)| count).sum();
        let reason = format!("forbidden call ({})", call.rule);
        applied.push(record(item, Some("snippet"), RedactionAction::Dropped, &call.name, reason, total));
        return false;
    }
    for (call, count) in found {
        let flag = record(
            item,
            Some("snippet"),
            RedactionAction::Flagged,
            &call.name,
            format!("forbidden call ({})", call.rule),
            count,
        );
        if !applied.iter().any(|r| same_flag(r, &flag)) {
            applied.push(flag);
        }
    }
    true
}

fn record(
    item: &Item,
    field: Option<&str>,
    action: RedactionAction,
    rule: &str,
    reason: String,
    count: usize,
) -> Redaction {
    Redaction {
        item_name: item.name.clone(),
        path: item.path.clone(),
        field: field.map(str::to_owned),
        action,
        rule: rule.to_owned(),
        reason,
        count: count as u64,
        redacted_at: None,
    }
}

fn rule<'a>(detector: &'a Detector, id: &str) -> Option<&'a Rule> {
    detector.rules().iter().find(|rule| rule.id == id)
}

fn kind_name(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Credential => "credential",
        RuleKind::Pii => "personal data",
    }
}
