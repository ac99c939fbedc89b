//! `context build`: a packet from a task and the files a host read — collect, redact, budget, validate, hash.
//!
//! Pure: the host passes the files (already selected by [`crate::context::collect::ScopeMatcher`]), the packet
//! id, the creation time and the build duration. Redaction runs before the budget, so a masked snippet is counted
//! at its redacted size and a dropped item frees room; validation runs last, on the packet as it will be sent.

use crate::context::budget::apply_budget;
use crate::context::collect::{collect_items, SourceFile, Target, TRUNCATED_MARKER};
use crate::context::hash::{cache_key, packet_hash};
use crate::context::packet::validate::{validate, SchemaRules};
use crate::context::packet::{
    BuildStats, Constraints, Header, InputFile, Inputs, Item, Packet, PolicyRecord, Problem, Provenance,
};
use crate::context::policy::Policy;
use crate::context::redact::{approval_gate, redact_packet, remote_gate};
use crate::context::task::TaskSpec;
use crate::context::tokens::TokenCounter;
use crate::context::violation::{violations_error, Violation};
use crate::digest::Digest;
use crate::error::{ErrorCode, Result};

/// `ctxpack/<version>`: recorded in every packet, and part of the cache key, so a new builder never serves a
/// packet an older one built.
pub const BUILDER_VERSION: &str = concat!("ctxpack/", env!("CARGO_PKG_VERSION"));

/// The invariants every packet ctxpack builds satisfies (and that its validator and redactor enforce).
const INVARIANTS: [&str; 4] = [
    "All paths are relative to the project root",
    "No item comes from a forbidden path",
    "Secrets and PII are redacted; forbidden calls are flagged or dropped",
    "Total tokens_est <= max_tokens and items <= max_items",
];

/// What the host supplies that the core must not invent: identity, time, and how long collecting took.
#[derive(Debug, Clone)]
pub struct BuildEnv {
    pub packet_id: String,
    /// RFC 3339.
    pub created_at: String,
    pub duration_ms: Option<u64>,
    /// The user approved sending this packet to a remote model where the policy reserves that for approval.
    pub remote_approved: bool,
}

#[derive(Debug, Clone)]
pub struct BuildOutcome {
    pub packet: Packet,
    pub cache_key: Digest,
    /// Non-empty only for a `remote_allowed` packet that breaks a routing rule: the host must not send it.
    pub blocked: Vec<Violation>,
}

/// The cache key of a build, computable before the build (the host checks its cache with it first).
pub fn build_cache_key(task: &TaskSpec, files: &[SourceFile], policy: &Policy) -> Result<Digest> {
    cache_key(task, &key_inputs(files, policy), &policy.digest(), BUILDER_VERSION)
}

pub fn build_packet(
    task: &TaskSpec,
    files: &[SourceFile],
    policy: &Policy,
    rules: &SchemaRules,
    env: BuildEnv,
    counter: TokenCounter,
) -> Result<BuildOutcome> {
    let (default_tokens, default_items) = policy.budget_for(&task.task_type);
    let target = Target { file: task.target_file.clone(), symbol: task.target_symbol.clone() };
    // Cut while collecting (so a whole-file item's span is what it shows), leaving room for the marker line:
    // the snippets then fit the policy's maximum and redaction has nothing left to cut.
    let marker_line = TRUNCATED_MARKER.chars().count() + 1;
    // A forbidden file is collected without its text: its item is dropped by path, and neither its content nor
    // its symbols (through `deps`) can reach the packet, so the packet and its cache key depend on its path only.
    let readable: Vec<SourceFile> = files
        .iter()
        .map(|file| match policy.forbidden_path(file.path) {
            Some(_) => SourceFile { text: "", ..file.clone() },
            None => file.clone(),
        })
        .collect();
    let mut items = collect_items(&readable, &target, policy.max_snippet_chars().saturating_sub(marker_line));
    prioritise_by_relevance(&mut items);
    let items_collected = items.len() as u64;
    let (inputs, forbidden_files) = input_files(files, policy);
    let key = cache_key(task, &key_inputs(files, policy), &policy.digest(), BUILDER_VERSION)?;
    let mut packet = Packet {
        header: Header {
            packet_id: env.packet_id,
            task_id: task.task_id.clone(),
            task_type: task.task_type.clone(),
            created_at: env.created_at,
            builder_version: BUILDER_VERSION.to_owned(),
            privacy: task.privacy,
        },
        problem: Problem {
            summary: task.summary.clone(),
            intent_ref: task.intent_ref.clone(),
            acceptance: task.acceptance.clone(),
        },
        scope: task.scope.clone(),
        constraints: Constraints {
            max_tokens: task.max_tokens.unwrap_or(default_tokens),
            max_items: task.max_items.unwrap_or(default_items),
            time_budget_seconds: None,
            cost_budget_usd: None,
            forbidden_paths: Vec::new(),
            forbidden_calls: Vec::new(),
        },
        context: items,
        invariants: INVARIANTS.iter().map(|rule| rule.to_string()).collect(),
        policy: PolicyRecord::default(),
        provenance: Provenance {
            inputs: Inputs { files: inputs, forbidden_files, ..Inputs::default() },
            build_stats: Some(BuildStats { duration_ms: env.duration_ms, items_collected, ..BuildStats::default() }),
            cache_key: Some(key.to_string()),
            packet_hash: String::new(),
        },
        attachments: Vec::new(),
    };
    redact_packet(&mut packet, policy);
    apply_budget(&mut packet, counter)?;
    if let Some(stats) = packet.provenance.build_stats.as_mut() {
        stats.items_filtered = items_collected - packet.context.len() as u64;
    }
    let violations = validate(&packet.to_value(), rules);
    if !violations.is_empty() {
        return Err(violations_error(ErrorCode::PacketInvalid, &violations).at(task.task_id.clone()));
    }
    packet.provenance.packet_hash = packet_hash(&packet)?.to_string();
    let mut blocked = remote_gate(&packet, policy);
    if !env.remote_approved {
        blocked.extend(approval_gate(&packet, policy));
    }
    Ok(BuildOutcome { packet, cache_key: key, blocked })
}

/// What the target uses or is used by is read first, then the rest of its file(s), then everything else, when
/// a budget forces a choice between items of one type. The budget keeps document order among equals, which for
/// a whole project is alphabetical: without this a tight budget keeps whatever file sorts first.
fn prioritise_by_relevance(items: &mut [Item]) {
    const NEIGHBOUR: i64 = 2;
    const SAME_FILE: i64 = 1;
    let targets: Vec<(String, Option<String>, Vec<String>)> = items
        .iter()
        .filter(|item| item.target)
        .map(|item| (item.name.clone(), item.path.clone(), item.deps.clone()))
        .collect();
    for item in items.iter_mut().filter(|item| !item.target && item.priority.is_none()) {
        let neighbour = targets.iter().any(|(name, _, deps)| deps.contains(&item.name) || item.deps.contains(name));
        let same_file = targets.iter().any(|(_, path, _)| path.is_some() && *path == item.path);
        item.priority = if neighbour {
            Some(NEIGHBOUR)
        } else if same_file {
            Some(SAME_FILE)
        } else {
            None
        };
    }
}

/// The files a packet lists, sorted by path, and how many were left out for being on a forbidden path.
fn input_files(files: &[SourceFile], policy: &Policy) -> (Vec<InputFile>, u64) {
    let (forbidden, listed): (Vec<&SourceFile>, Vec<&SourceFile>) =
        files.iter().partition(|file| policy.forbidden_path(file.path).is_some());
    let mut inputs: Vec<InputFile> = listed
        .into_iter()
        .map(|file| InputFile { path: file.path.to_owned(), digest: file.digest.to_string(), size: file.size })
        .collect();
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    (inputs, forbidden.len() as u64)
}

/// What the cache key covers: every file by digest and size, except a forbidden one, which counts by path only
/// (the packet shows its path in a redaction record and nothing of its content, see [`build_packet`]). The key is
/// in the packet, so a forbidden file's digest inside it would let a guess be confirmed offline too.
fn key_inputs(files: &[SourceFile], policy: &Policy) -> Vec<InputFile> {
    let mut inputs: Vec<InputFile> = files
        .iter()
        .map(|file| match policy.forbidden_path(file.path) {
            Some(_) => InputFile { path: file.path.to_owned(), digest: FORBIDDEN_FILE_DIGEST.to_owned(), size: 0 },
            None => InputFile { path: file.path.to_owned(), digest: file.digest.to_string(), size: file.size },
        })
        .collect();
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    inputs
}

/// Stands for a forbidden file's digest in the cache key: no content hashes to it.
const FORBIDDEN_FILE_DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::packet::{Privacy, RedactionAction};
    use crate::context::tokens::estimate_tokens;

    const CHARGE: &str = "import os\n\n\ndef charge(amount: int) -> dict:\n    \"\"\"Charge a card.\"\"\"\n    os.system(\"sync\")\n    return {\"amount\": amount}\n\n\ndef refund(receipt):\n    \"\"\"Refund a charge.\"\"\"\n    return receipt\n";

    fn task(privacy: Privacy, task_type: &str) -> TaskSpec {
        let doc = serde_json::json!({
            "task_id": "T-1", "task_type": task_type, "privacy": privacy.as_str(), "summary": "Add refunds",
            "target_file": "src/pay.py", "target_symbol": "charge", "max_tokens": 5000
        });
        crate::context::task::parse_task(&doc).unwrap()
    }

    fn env(id: &str) -> BuildEnv {
        BuildEnv {
            packet_id: id.into(),
            created_at: "2026-11-23T12:00:00Z".into(),
            duration_ms: Some(3),
            remote_approved: false,
        }
    }

    fn build(task: &TaskSpec, files: &[SourceFile], id: &str) -> BuildOutcome {
        build_packet(task, files, &Policy::builtin(), &SchemaRules::default(), env(id), &estimate_tokens).unwrap()
    }

    fn config() -> String {
        // Assembled at run time: a fixture that looks like a live key is one a scanner would flag.
        format!("aws_access_key_id = AKIA{}\n", "QZ7RTX2LMN4KPW3V")
    }

    #[test]
    fn a_build_collects_redacts_budgets_validates_and_hashes() {
        let config = config();
        let files = [
            SourceFile::new("src/pay.py", CHARGE),
            SourceFile::new("config/app.ini", &config),
            SourceFile::new(".env", "TOKEN=abc\n"),
        ];
        let outcome = build(&task(Privacy::LocalOnly, "code.generate"), &files, "a");
        let packet = &outcome.packet;
        assert!(outcome.blocked.is_empty());
        assert_eq!(packet.context[0].name, "charge");
        assert!(packet.context[0].target);
        assert!(!packet.context.iter().any(|item| item.path.as_deref() == Some(".env")));
        let records = &packet.policy.redactions_applied;
        assert!(records.iter().any(|r| r.action == RedactionAction::Dropped && r.path.as_deref() == Some(".env")));
        assert!(records.iter().any(|r| r.action == RedactionAction::Masked && r.rule == "aws-access-key-id"));
        assert!(records.iter().any(|r| r.action == RedactionAction::Flagged && r.rule.contains("os.system")));
        assert!(!serde_json::to_string(packet).unwrap().contains("QZ7RTX2LMN4KPW3V"));
        assert_eq!(packet.provenance.inputs.files.len(), 2, "every file read but the forbidden one is listed");
        assert_eq!(packet.provenance.inputs.forbidden_files, 1);
        assert!(validate(&packet.to_value(), &SchemaRules::default()).is_empty());
        assert_eq!(packet.provenance.packet_hash, packet_hash(packet).unwrap().to_string());
        assert_eq!(packet.provenance.cache_key.as_deref(), Some(outcome.cache_key.to_string().as_str()));
        assert_eq!(
            outcome.cache_key,
            build_cache_key(&task(Privacy::LocalOnly, "code.generate"), &files, &Policy::builtin()).unwrap()
        );
    }

    #[test]
    fn the_same_inputs_give_the_same_hash_whatever_the_packet_id() {
        let files = [SourceFile::new("src/pay.py", CHARGE)];
        let first = build(&task(Privacy::LocalOnly, "code.generate"), &files, "a").packet;
        let second = build(&task(Privacy::LocalOnly, "code.generate"), &files, "b").packet;
        assert_ne!(first.header.packet_id, second.header.packet_id);
        assert_eq!(first.provenance.packet_hash, second.provenance.packet_hash);
    }

    #[test]
    fn under_a_tight_budget_the_targets_neighbours_are_kept_before_unrelated_code() {
        let helpers = "def aaa_unrelated():\n    return 1\n\n\ndef zzz_used(x):\n    return x\n";
        let target = "from helpers import zzz_used\n\n\ndef charge(amount):\n    return zzz_used(amount)\n";
        let files = [SourceFile::new("a/helpers.py", helpers), SourceFile::new("src/pay.py", target)];
        let mut spec = task(Privacy::LocalOnly, "code.generate");
        spec.max_items = Some(2);
        let packet = build(&spec, &files, "a").packet;
        let names: Vec<&str> = packet.context.iter().map(|item| item.name.as_str()).collect();
        assert_eq!(names, ["charge", "zzz_used"]);
        let dropped = &packet.provenance.build_stats.as_ref().unwrap().dropped;
        // The import line of src/pay.py is an item too: code, so after every symbol.
        assert_eq!(dropped.iter().map(|d| d.item_name.as_str()).collect::<Vec<_>>(), ["aaa_unrelated", "src/pay.py"]);
    }

    #[test]
    fn a_remote_packet_of_an_always_local_task_is_blocked() {
        let files = [SourceFile::new("src/pay.py", CHARGE)];
        let outcome = build(&task(Privacy::RemoteAllowed, "secrets.scan"), &files, "a");
        assert_eq!(outcome.blocked.iter().map(|v| v.code).collect::<Vec<_>>(), ["always_local"]);
        assert!(build(&task(Privacy::RemoteAllowed, "docstring.fix"), &files, "a").blocked.is_empty());
    }

    #[test]
    fn a_remote_packet_the_policy_reserves_for_approval_is_blocked_until_approved() {
        let files = [SourceFile::new("src/pay.py", CHARGE)];
        let spec = task(Privacy::RemoteAllowed, "code.generate");
        let pending = build(&spec, &files, "a");
        assert_eq!(pending.blocked.iter().map(|v| v.code).collect::<Vec<_>>(), ["approval_required"]);
        let mut approved = env("a");
        approved.remote_approved = true;
        let outcome =
            build_packet(&spec, &files, &Policy::builtin(), &SchemaRules::default(), approved, &estimate_tokens)
                .unwrap();
        assert!(outcome.blocked.is_empty());
    }

    #[test]
    fn a_target_larger_than_the_budget_is_an_error_not_a_silent_drop() {
        let big = format!("def charge():\n{}", "    x = 1\n".repeat(3000));
        let files = [SourceFile::new("src/pay.py", &big)];
        let mut spec = task(Privacy::LocalOnly, "code.generate");
        spec.max_tokens = Some(1000);
        let e = build_packet(&spec, &files, &Policy::builtin(), &SchemaRules::default(), env("a"), &estimate_tokens)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::BudgetExceeded);
    }

    #[test]
    fn a_forbidden_file_leaves_neither_its_digest_nor_its_size_nor_its_symbols_in_the_packet() {
        let env_text = "def leaked_helper():\n    return 'TOKEN=s3cr3t-value'\n";
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";
        let caller = "def charge(amount):\n    return leaked_helper()\n";
        let files = [
            SourceFile::new("src/pay.py", caller),
            SourceFile::new(".env", env_text),
            SourceFile::new("certs/server.pem", pem),
        ];
        let spec = task(Privacy::LocalOnly, "code.generate");
        let outcome = build(&spec, &files, "a");
        let text = serde_json::to_string(&outcome.packet).unwrap();
        for file in &files[1..] {
            assert!(!text.contains(&file.digest.to_string()), "{} digest in {text}", file.path);
            assert!(!text.contains(&file.digest.hex()), "{} digest in {text}", file.path);
            assert!(!text.contains(&format!("\"size\":{}", file.size)), "{} size in {text}", file.path);
        }
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(outcome.packet.context[0].deps.is_empty(), "a forbidden file's symbols are not deps");
        let inputs = &outcome.packet.provenance.inputs;
        assert_eq!((inputs.files.len(), inputs.forbidden_files), (1, 2));
        let paths: Vec<_> = outcome.packet.policy.redactions_applied.iter().filter_map(|r| r.path.clone()).collect();
        assert!(paths.contains(&".env".to_owned()) && paths.contains(&"certs/server.pem".to_owned()), "{paths:?}");

        // A forbidden file's content does not change the key (nothing of it reaches the packet); its path does.
        let key = |files: &[SourceFile]| build_cache_key(&spec, files, &Policy::builtin()).unwrap();
        let edited = [files[0].clone(), SourceFile::new(".env", "TOKEN=other\n"), files[2].clone()];
        assert_eq!(key(&files), key(&edited));
        assert_eq!(key(&files), outcome.cache_key);
        let moved = [files[0].clone(), SourceFile::new("app/.env", env_text), files[2].clone()];
        assert_ne!(key(&files), key(&moved));
    }
}
