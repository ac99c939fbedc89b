//! Fits a packet's items into its `constraints.max_tokens` and `constraints.max_items`.
//!
//! Target items are always kept (a target that alone breaks a limit is [`ErrorCode::BudgetExceeded`]). The rest
//! are taken greedily by item type ([`ItemType::budget_rank`]: symbol, signature, code, snippet, test,
//! dependency, summary), then higher `priority` (absent = 0), then document order. An item that does not fit is
//! skipped and smaller ones after it are still tried, unlike the original, which stopped at the first misfit.
//! Kept items stay in document order, and every drop is recorded in `provenance.build_stats.dropped`.

use crate::context::packet::{BuildStats, DropReason, Dropped, Item, Packet};
use crate::context::tokens::TokenCounter;
use crate::error::{Error, ErrorCode, Result};

/// Tokens for an item's YAML keys, punctuation and the short enum values (`item_type`, `span`, `tokens_est`),
/// which are the same for every item: a dozen keys at about two tokens each.
pub const ITEM_OVERHEAD_TOKENS: u64 = 24;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetSummary {
    /// What this pass dropped, in document order.
    pub dropped: Vec<Dropped>,
    /// The tokens of the kept items.
    pub tokens_total: u64,
}

/// The tokens an item adds to a packet: every text it serialises (name, path, signature, summary, snippet,
/// deps, hash, source), counted with `counter`, plus [`ITEM_OVERHEAD_TOKENS`].
pub fn estimate_item(item: &Item, counter: TokenCounter) -> u64 {
    let optional = [&item.path, &item.signature, &item.summary, &item.snippet, &item.hash];
    let texts = optional.into_iter().flatten().chain([&item.name, &item.source]).chain(&item.deps);
    ITEM_OVERHEAD_TOKENS + texts.map(|text| counter(text)).sum::<u64>()
}

pub fn apply_budget(packet: &mut Packet, counter: TokenCounter) -> Result<BudgetSummary> {
    let (max_tokens, max_items) = (packet.constraints.max_tokens, packet.constraints.max_items);
    for item in &mut packet.context {
        item.tokens_est = Some(estimate_item(item, counter));
    }
    let cost = |item: &Item| item.tokens_est.unwrap_or(0);

    let targets: Vec<&Item> = packet.context.iter().filter(|item| item.target).collect();
    let target_tokens: u64 = targets.iter().map(|item| cost(item)).sum();
    if target_tokens > max_tokens || targets.len() as u64 > max_items {
        return Err(Error::new(
            ErrorCode::BudgetExceeded,
            format!(
                "the target items alone need {target_tokens} tokens in {} items; the budget is {max_tokens} tokens \
                 in {max_items} items",
                targets.len()
            ),
        )
        .hint("raise max_tokens or max_items for this task, or narrow the target"));
    }

    let mut order: Vec<usize> = (0..packet.context.len()).filter(|&i| !packet.context[i].target).collect();
    order.sort_by_key(|&i| {
        let item = &packet.context[i];
        (item.item_type.budget_rank(), std::cmp::Reverse(item.priority.unwrap_or(0)), i)
    });
    let mut keep: Vec<bool> = packet.context.iter().map(|item| item.target).collect();
    let mut reasons: Vec<Option<DropReason>> = vec![None; packet.context.len()];
    let (mut tokens, mut items) = (target_tokens, targets.len() as u64);
    for i in order {
        let needed = cost(&packet.context[i]);
        if items >= max_items {
            reasons[i] = Some(DropReason::MaxItems);
        } else if tokens + needed > max_tokens {
            reasons[i] = Some(DropReason::MaxTokens);
        } else {
            keep[i] = true;
            tokens += needed;
            items += 1;
        }
    }

    let mut dropped = Vec::new();
    let mut kept = Vec::with_capacity(items as usize);
    for ((item, keep), reason) in std::mem::take(&mut packet.context).into_iter().zip(keep).zip(reasons) {
        match reason {
            Some(reason) if !keep => dropped.push(Dropped {
                item_name: item.name.clone(),
                path: item.path.clone(),
                reason,
                tokens_est: cost(&item),
            }),
            _ => kept.push(item),
        }
    }
    packet.context = kept;
    let stats = packet.provenance.build_stats.get_or_insert_with(BuildStats::default);
    stats.tokens_total = tokens;
    stats.items_filtered += dropped.len() as u64;
    stats.dropped.extend(dropped.iter().cloned());
    Ok(BudgetSummary { dropped, tokens_total: tokens })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::packet::ItemType;
    use crate::context::tokens::estimate_tokens;
    use serde_json::json;

    /// Items whose cost under `words` is exactly `ITEM_OVERHEAD_TOKENS + words in the snippet + 2` (name, source).
    fn item(name: &str, item_type: &str, words: usize) -> serde_json::Value {
        json!({"name": name, "item_type": item_type, "source": "ast", "snippet": vec!["w"; words].join(" ")})
    }

    fn packet(max_tokens: u64, max_items: u64, items: Vec<serde_json::Value>) -> Packet {
        serde_json::from_value(json!({
            "header": {"packet_id": "p", "task_id": "t", "task_type": "code.generate", "created_at": "now",
                       "builder_version": "test"},
            "problem": {"summary": "s"},
            "scope": {"roots": ["."]},
            "constraints": {"max_tokens": max_tokens, "max_items": max_items},
            "context": items,
            "policy": {"remote_allowed": false},
            "provenance": {}
        }))
        .unwrap()
    }

    fn words(text: &str) -> u64 {
        text.split_whitespace().count() as u64
    }

    /// The cost of `item(_, _, n)` under [`words`].
    fn cost(n: u64) -> u64 {
        ITEM_OVERHEAD_TOKENS + n + 2
    }

    fn names(packet: &Packet) -> Vec<&str> {
        packet.context.iter().map(|item| item.name.as_str()).collect()
    }

    #[test]
    fn estimate_counts_every_text_and_the_overhead() {
        let item: Item = serde_json::from_value(json!({
            "name": "f", "path": "src/a.py", "item_type": "symbol", "source": "ast", "signature": "def f(x)",
            "summary": "does a thing", "snippet": "def f(x):\n    return x", "deps": ["g"], "hash": "sha256:00"
        }))
        .unwrap();
        assert_eq!(estimate_item(&item, &words), ITEM_OVERHEAD_TOKENS + 1 + 1 + 2 + 3 + 4 + 1 + 1 + 1);
        assert!(estimate_item(&item, &estimate_tokens) > ITEM_OVERHEAD_TOKENS);
    }

    #[test]
    fn trims_summaries_before_snippets_before_symbols() {
        let items = vec![item("sum", "summary", 10), item("snip", "snippet", 10), item("sym", "symbol", 10)];
        let mut p = packet(2 * cost(10), 50, items);
        let summary = apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["snip", "sym"], "kept in document order");
        assert_eq!(summary.dropped.len(), 1);
        assert_eq!(summary.dropped[0].item_name, "sum");
        assert_eq!(summary.dropped[0].reason, DropReason::MaxTokens);
        assert_eq!(summary.tokens_total, 2 * cost(10));
        let stats = p.provenance.build_stats.as_ref().unwrap();
        assert_eq!((stats.tokens_total, stats.items_filtered, stats.dropped.len()), (2 * cost(10), 1, 1));
        assert!(p.context.iter().all(|item| item.tokens_est == Some(cost(10))));
    }

    #[test]
    fn higher_priority_wins_within_a_type_then_document_order() {
        let mut items = vec![item("a", "snippet", 5), item("b", "snippet", 5), item("c", "snippet", 5)];
        items[2]["priority"] = json!(3);
        items[0]["priority"] = json!(-1);
        let mut p = packet(cost(5), 50, items.clone());
        apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["c"]);

        items[2]["priority"] = json!(0);
        let mut p = packet(2 * cost(5), 50, items);
        apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["b", "c"], "b and c tie at 0 and precede a (-1); document order breaks the tie");
    }

    #[test]
    fn targets_are_kept_first_and_too_large_targets_are_an_error() {
        let mut items = vec![item("sym", "symbol", 5), item("big", "summary", 50)];
        items[1]["target"] = json!(true);
        let mut p = packet(cost(50), 50, items.clone());
        let summary = apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["big"]);
        assert_eq!(summary.dropped[0].item_name, "sym");

        let mut p = packet(cost(50) - 1, 50, items.clone());
        assert_eq!(apply_budget(&mut p, &words).unwrap_err().code, ErrorCode::BudgetExceeded);
        items[0]["target"] = json!(true);
        let mut p = packet(1000, 1, items);
        assert_eq!(apply_budget(&mut p, &words).unwrap_err().code, ErrorCode::BudgetExceeded);
    }

    #[test]
    fn an_item_that_does_not_fit_is_skipped_and_smaller_ones_still_tried() {
        let items = vec![item("small1", "symbol", 1), item("huge", "symbol", 100), item("small2", "symbol", 1)];
        let mut p = packet(2 * cost(1), 50, items);
        let summary = apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["small1", "small2"]);
        assert_eq!(summary.dropped[0].item_name, "huge");
    }

    #[test]
    fn exact_fit_is_kept_and_one_more_token_is_not() {
        let items = vec![item("a", "symbol", 3), item("b", "symbol", 4)];
        let mut p = packet(cost(3) + cost(4), 50, items.clone());
        assert!(apply_budget(&mut p, &words).unwrap().dropped.is_empty());
        let mut p = packet(cost(3) + cost(4) - 1, 50, items);
        let summary = apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["a"]);
        assert_eq!(summary.dropped[0].reason, DropReason::MaxTokens);
    }

    #[test]
    fn the_item_limit_drops_with_max_items() {
        let items = vec![item("a", "symbol", 1), item("b", "symbol", 1), item("c", "summary", 1)];
        let mut p = packet(10_000, 2, items);
        let summary = apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["a", "b"]);
        assert_eq!(summary.dropped[0].reason, DropReason::MaxItems);
        // A second pass drops nothing and records nothing new.
        let again = apply_budget(&mut p, &words).unwrap();
        assert!(again.dropped.is_empty());
        assert_eq!(p.provenance.build_stats.as_ref().unwrap().dropped.len(), 1);
    }

    #[test]
    fn the_counter_decides() {
        // One long word: the word counter sees 1, the estimator sees many tokens.
        let long = json!({"name": "n", "item_type": "symbol", "source": "s", "snippet": "x".repeat(400)});
        let short = json!({"name": "m", "item_type": "summary", "source": "s", "snippet": "a b c d e f g h"});
        let budget = ITEM_OVERHEAD_TOKENS * 2 + 30;
        let mut by_words = packet(budget, 50, vec![long.clone(), short.clone()]);
        apply_budget(&mut by_words, &words).unwrap();
        assert_eq!(names(&by_words), ["n", "m"]);
        let mut by_estimate = packet(budget, 50, vec![long, short]);
        apply_budget(&mut by_estimate, &estimate_tokens).unwrap();
        assert_eq!(names(&by_estimate), ["m"]);
    }

    #[test]
    fn decisions_are_deterministic() {
        let items: Vec<_> =
            (0..20).map(|i| item(&format!("i{i}"), ItemType::ALL[i % 7].as_str(), (i * 7) % 13)).collect();
        let run = || {
            let mut p = packet(300, 8, items.clone());
            apply_budget(&mut p, &words).unwrap();
            p
        };
        assert_eq!(run(), run());
    }
}
