//! Fits a packet into its `constraints.max_tokens` and `constraints.max_items`.
//!
//! `max_tokens` bounds what the model receives: the packet as serialised, header, problem, constraints, policy
//! records and provenance included, not only the items' texts. A packet is counted as the larger of its YAML and
//! its indented JSON (the two forms ctxpack writes), and so is each item and each record of a dropped item. A drop
//! adds a `provenance.build_stats.dropped` record; at most [`MAX_DROP_RECORDS`] are kept (the rest are counted in
//! `dropped_omitted`), since a scope of a thousand symbols would otherwise spend most of the budget on them, and
//! room for that many records is set aside before any item is taken.
//!
//! Target items are always kept (targets that alone break a limit are [`ErrorCode::BudgetExceeded`]). The rest
//! are taken greedily by item type ([`ItemType::budget_rank`]: symbol, signature, code, snippet, test,
//! dependency, summary), then higher `priority` (absent = 0), then document order. An item that does not fit is
//! skipped and smaller ones after it are still tried, unlike the original, which stopped at the first misfit.
//! Kept items stay in document order, and every drop is recorded in `provenance.build_stats.dropped`. Counting the
//! parts apart can differ from counting the whole by a few tokens, so the whole is counted last and the
//! lowest-ranked kept items are dropped until it fits.

use crate::context::packet::yaml::{to_json_pretty, to_yaml};
use crate::context::packet::{BuildStats, DropReason, Dropped, Item, Packet};
use crate::context::tokens::TokenCounter;
use crate::error::{Error, ErrorCode, Result};
use serde::Serialize;

/// At most this many `build_stats.dropped` records per packet, the first in document order.
pub const MAX_DROP_RECORDS: usize = 32;

/// Stands in for numbers the budget has not decided yet (`tokens_est`, `tokens_total`), at their widest.
const NUMBER_PLACEHOLDER: u64 = 999_999;
/// Stands in for a packet hash not computed yet.
const HASH_PLACEHOLDER: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetSummary {
    /// What this pass dropped, in document order.
    pub dropped: Vec<Dropped>,
    /// The tokens of the packet as serialised, everything included: what `max_tokens` bounds.
    pub tokens_total: u64,
}

/// The tokens of `value` as ctxpack writes it: the larger of its YAML and its indented JSON.
pub fn serialised_tokens<T: Serialize>(value: &T, counter: TokenCounter) -> u64 {
    let yaml = to_yaml(value).map(|text| counter(&text)).unwrap_or(0);
    let json = to_json_pretty(value).map(|text| counter(&text)).unwrap_or(0);
    yaml.max(json)
}

/// The tokens an item adds to a packet: the item as serialised, one element of the `context` list.
pub fn estimate_item(item: &Item, counter: TokenCounter) -> u64 {
    let mut item = item.clone();
    item.tokens_est = Some(NUMBER_PLACEHOLDER);
    serialised_tokens(&[item], counter)
}

/// The tokens of the whole packet as serialised.
pub fn packet_tokens(packet: &Packet, counter: TokenCounter) -> u64 {
    serialised_tokens(packet, counter)
}

/// The packet without items, as it will be once the budget has run: what every item comes on top of.
fn frame_tokens(packet: &Packet, counter: TokenCounter) -> u64 {
    let mut frame = packet.clone();
    frame.context.clear();
    if frame.provenance.packet_hash.is_empty() {
        frame.provenance.packet_hash = HASH_PLACEHOLDER.to_owned();
    }
    let stats = frame.provenance.build_stats.get_or_insert_with(BuildStats::default);
    stats.tokens_total = NUMBER_PLACEHOLDER;
    stats.items_filtered = NUMBER_PLACEHOLDER;
    stats.items_collected = stats.items_collected.max(NUMBER_PLACEHOLDER);
    stats.dropped_omitted = NUMBER_PLACEHOLDER;
    serialised_tokens(&frame, counter)
}

fn drop_record(item: &Item, reason: DropReason) -> Dropped {
    Dropped { item_name: item.name.clone(), path: item.path.clone(), reason, tokens_est: item.tokens_est.unwrap_or(0) }
}

/// Tokens to set aside for `room` more drop records: the largest ones any choice of dropped items could need.
fn drop_record_reserve(packet: &Packet, room: usize, counter: TokenCounter) -> u64 {
    let mut records: Vec<u64> = packet
        .context
        .iter()
        .filter(|item| !item.target)
        .map(|item| serialised_tokens(&[drop_record(item, DropReason::MaxTokens)], counter))
        .collect();
    records.sort_unstable_by(|a, b| b.cmp(a));
    records.iter().take(room).sum()
}

pub fn apply_budget(packet: &mut Packet, counter: TokenCounter) -> Result<BudgetSummary> {
    let (max_tokens, max_items) = (packet.constraints.max_tokens, packet.constraints.max_items);
    for item in &mut packet.context {
        item.tokens_est = Some(estimate_item(item, counter));
    }
    let cost = |item: &Item| item.tokens_est.unwrap_or(0);
    let frame = frame_tokens(packet, counter);
    // Room for the drop records the packet can still take: the largest ones any choice could need.
    let recorded = packet.provenance.build_stats.as_ref().map_or(0, |stats| stats.dropped.len());
    let reserve = drop_record_reserve(packet, MAX_DROP_RECORDS.saturating_sub(recorded), counter);

    let targets: Vec<&Item> = packet.context.iter().filter(|item| item.target).collect();
    let target_tokens: u64 = targets.iter().map(|item| cost(item)).sum();
    let fixed = frame + target_tokens + reserve;
    if fixed > max_tokens || targets.len() as u64 > max_items {
        return Err(Error::new(
            ErrorCode::BudgetExceeded,
            format!(
                "the target items alone need {target_tokens} tokens in {} items, and the rest of the packet as \
                 serialised (header, policy, provenance, room for the records of dropped items) {} more; the \
                 budget is {max_tokens} tokens in {max_items} items",
                targets.len(),
                fixed - target_tokens,
            ),
        )
        .hint("raise max_tokens or max_items for this task, or narrow the target or the scope"));
    }

    let mut order: Vec<usize> = (0..packet.context.len()).filter(|&i| !packet.context[i].target).collect();
    order.sort_by_key(|&i| {
        let item = &packet.context[i];
        (item.item_type.budget_rank(), std::cmp::Reverse(item.priority.unwrap_or(0)), i)
    });
    let mut keep: Vec<bool> = packet.context.iter().map(|item| item.target).collect();
    let mut reasons: Vec<Option<DropReason>> = vec![None; packet.context.len()];
    let (mut tokens, mut items) = (fixed, targets.len() as u64);
    let mut kept_order = Vec::new();
    for &i in &order {
        let needed = cost(&packet.context[i]);
        if items >= max_items {
            reasons[i] = Some(DropReason::MaxItems);
        } else if tokens + needed > max_tokens {
            reasons[i] = Some(DropReason::MaxTokens);
        } else {
            keep[i] = true;
            kept_order.push(i);
            tokens += needed;
            items += 1;
        }
    }

    loop {
        let total = finish(packet, &keep, &reasons, counter);
        if total <= max_tokens {
            return Ok(take(packet, keep, reasons, total));
        }
        // The whole counts more than its parts: give up the lowest-ranked kept item and count again.
        let Some(i) = kept_order.pop() else {
            return Err(Error::new(
                ErrorCode::BudgetExceeded,
                format!(
                    "the packet needs {total} tokens as serialised with only its targets; the budget is {max_tokens}"
                ),
            )
            .hint("raise max_tokens for this task, or narrow the target or the scope"));
        };
        keep[i] = false;
        reasons[i] = Some(DropReason::MaxTokens);
    }
}

/// The tokens of the packet these decisions would make, counted whole.
fn finish(packet: &Packet, keep: &[bool], reasons: &[Option<DropReason>], counter: TokenCounter) -> u64 {
    let mut trial = packet.clone();
    let (mut kept, mut dropped) = (Vec::new(), Vec::new());
    for ((item, keep), reason) in packet.context.iter().zip(keep).zip(reasons) {
        match reason {
            Some(reason) if !keep => dropped.push(drop_record(item, *reason)),
            _ => kept.push(item.clone()),
        }
    }
    trial.context = kept;
    if trial.provenance.packet_hash.is_empty() {
        trial.provenance.packet_hash = HASH_PLACEHOLDER.to_owned();
    }
    let stats = trial.provenance.build_stats.get_or_insert_with(BuildStats::default);
    record_drops(stats, &dropped);
    stats.tokens_total = NUMBER_PLACEHOLDER;
    stats.items_filtered = NUMBER_PLACEHOLDER;
    packet_tokens(&trial, counter)
}

/// Adds `dropped` to the records, up to [`MAX_DROP_RECORDS`]; the rest are counted in `dropped_omitted`.
fn record_drops(stats: &mut BuildStats, dropped: &[Dropped]) {
    let room = MAX_DROP_RECORDS.saturating_sub(stats.dropped.len()).min(dropped.len());
    stats.dropped.extend(dropped[..room].iter().cloned());
    stats.dropped_omitted += (dropped.len() - room) as u64;
}

fn take(packet: &mut Packet, keep: Vec<bool>, reasons: Vec<Option<DropReason>>, total: u64) -> BudgetSummary {
    let mut dropped = Vec::new();
    let mut kept = Vec::new();
    for ((item, keep), reason) in std::mem::take(&mut packet.context).into_iter().zip(keep).zip(reasons) {
        match reason {
            Some(reason) if !keep => dropped.push(drop_record(&item, reason)),
            _ => kept.push(item),
        }
    }
    packet.context = kept;
    let stats = packet.provenance.build_stats.get_or_insert_with(BuildStats::default);
    stats.tokens_total = total;
    stats.items_filtered += dropped.len() as u64;
    record_drops(stats, &dropped);
    BudgetSummary { dropped, tokens_total: total }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::packet::ItemType;
    use crate::context::tokens::estimate_tokens;
    use serde_json::json;

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

    fn names(packet: &Packet) -> Vec<&str> {
        packet.context.iter().map(|item| item.name.as_str()).collect()
    }

    /// What the budget charges for keeping `kept` (and the targets): the packet without items, room for the drop
    /// records, and each kept item, counted apart. The smallest budget that keeps exactly them; the packet counted
    /// whole is at most this.
    fn total_keeping(packet: &Packet, kept: &[&str], counter: TokenCounter) -> u64 {
        let mut packet = packet.clone();
        for item in &mut packet.context {
            item.tokens_est = Some(estimate_item(item, counter));
        }
        let reserve = drop_record_reserve(&packet, MAX_DROP_RECORDS, counter);
        let items: u64 = packet
            .context
            .iter()
            .filter(|item| item.target || kept.contains(&item.name.as_str()))
            .map(|item| item.tokens_est.unwrap())
            .sum();
        frame_tokens(&packet, counter) + reserve + items
    }

    #[test]
    fn an_item_costs_what_it_serialises_to() {
        let item: Item = serde_json::from_value(json!({
            "name": "f", "path": "src/a.py", "item_type": "symbol", "source": "ast", "signature": "def f(x)",
            "summary": "does a thing", "snippet": "def f(x):\n    return x", "deps": ["g"], "hash": "sha256:00"
        }))
        .unwrap();
        let texts = 1 + 1 + 2 + 3 + 4 + 1 + 1 + 1;
        assert!(estimate_item(&item, &words) > texts, "keys and punctuation count too");
        let mut longer = item.clone();
        longer.snippet = Some("def f(x):\n    return x + 1 + 2".into());
        assert_eq!(estimate_item(&longer, &words), estimate_item(&item, &words) + 4);
        assert!(estimate_item(&item, &estimate_tokens) > estimate_tokens("def f(x):\n    return x"));
    }

    #[test]
    fn trims_summaries_before_snippets_before_symbols() {
        let items = vec![item("sum", "summary", 10), item("snip", "snippet", 10), item("sym", "symbol", 10)];
        let p = packet(1000, 50, items);
        let budget = total_keeping(&p, &["snip", "sym"], &words);
        let mut p = packet(budget, 50, p.context.iter().map(|i| serde_json::to_value(i).unwrap()).collect());
        let summary = apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["snip", "sym"], "kept in document order");
        assert_eq!(summary.dropped.len(), 1);
        assert_eq!(summary.dropped[0].item_name, "sum");
        assert_eq!(summary.dropped[0].reason, DropReason::MaxTokens);
        assert!(summary.tokens_total <= budget);
        let stats = p.provenance.build_stats.as_ref().unwrap();
        assert_eq!((stats.tokens_total, stats.items_filtered, stats.dropped.len()), (summary.tokens_total, 1, 1));
        let mut sent = p.clone();
        sent.provenance.packet_hash = HASH_PLACEHOLDER.to_owned();
        assert!(packet_tokens(&sent, &words) <= summary.tokens_total, "placeholders count at their widest");
    }

    #[test]
    fn max_tokens_bounds_the_packet_as_serialised() {
        // A long problem statement leaves less room for items: it is sent too.
        let items: Vec<_> = (0..12).map(|i| item(&format!("i{i}"), "symbol", 40)).collect();
        let mut short = packet(1400, 50, items.clone());
        let mut long = packet(1400, 50, items);
        long.problem.summary = "the model reads this statement too ".repeat(60);
        apply_budget(&mut short, &estimate_tokens).unwrap();
        apply_budget(&mut long, &estimate_tokens).unwrap();
        assert!(long.context.len() < short.context.len(), "{} vs {}", long.context.len(), short.context.len());
        for p in [&short, &long] {
            let mut sent = p.clone();
            sent.provenance.packet_hash = HASH_PLACEHOLDER.to_owned();
            let yaml = estimate_tokens(&to_yaml(&sent).unwrap());
            let json = estimate_tokens(&to_json_pretty(&sent).unwrap());
            assert!(yaml <= 1400 && json <= 1400, "yaml {yaml}, json {json}");
            assert!(p.provenance.build_stats.as_ref().unwrap().tokens_total >= yaml.max(json));
        }
    }

    #[test]
    fn the_bound_holds_for_many_shapes() {
        for seed in 0..40u64 {
            let items: Vec<_> = (0..(seed % 17 + 1))
                .map(|i| {
                    let mut v = item(&format!("n{seed}_{i}"), ItemType::ALL[((seed + i) % 7) as usize].as_str(), 0);
                    v["snippet"] =
                        json!(format!("fn f{i}() {{ {} }}\n", "x += 1; ".repeat(((seed * 7 + i * 13) % 90) as usize)));
                    v["path"] = json!(format!("src/m{i}.rs"));
                    v
                })
                .collect();
            let max_tokens = 1000 + seed * 37;
            let mut p = packet(max_tokens, 10, items);
            if apply_budget(&mut p, &estimate_tokens).is_ok() {
                p.provenance.packet_hash = HASH_PLACEHOLDER.to_owned();
                assert!(packet_tokens(&p, &estimate_tokens) <= max_tokens, "seed {seed}");
            }
        }
    }

    #[test]
    fn higher_priority_wins_within_a_type_then_document_order() {
        let mut items = vec![item("a", "snippet", 5), item("b", "snippet", 5), item("c", "snippet", 5)];
        items[2]["priority"] = json!(3);
        items[0]["priority"] = json!(-1);
        let budget = total_keeping(&packet(1000, 50, items.clone()), &["c"], &words);
        let mut p = packet(budget, 50, items.clone());
        apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["c"]);

        items[2]["priority"] = json!(0);
        let budget = total_keeping(&packet(1000, 50, items.clone()), &["b", "c"], &words);
        let mut p = packet(budget, 50, items);
        apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["b", "c"], "b and c tie at 0 and precede a (-1); document order breaks the tie");
    }

    #[test]
    fn targets_are_kept_first_and_too_large_targets_are_an_error() {
        let mut items = vec![item("sym", "symbol", 5), item("big", "summary", 50)];
        items[1]["target"] = json!(true);
        let budget = total_keeping(&packet(1000, 50, items.clone()), &[], &words);
        let mut p = packet(budget, 50, items.clone());
        let summary = apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["big"]);
        assert_eq!(summary.dropped[0].item_name, "sym");

        let mut p = packet(budget - 1, 50, items.clone());
        let e = apply_budget(&mut p, &words).unwrap_err();
        assert_eq!(e.code, ErrorCode::BudgetExceeded);
        assert!(e.message.contains("as serialised"), "{e}");
        items[0]["target"] = json!(true);
        let mut p = packet(1000, 1, items);
        assert_eq!(apply_budget(&mut p, &words).unwrap_err().code, ErrorCode::BudgetExceeded);
    }

    #[test]
    fn an_item_that_does_not_fit_is_skipped_and_smaller_ones_still_tried() {
        let items = vec![item("small1", "symbol", 1), item("huge", "symbol", 100), item("small2", "symbol", 1)];
        let budget = total_keeping(&packet(1000, 50, items.clone()), &["small1", "small2"], &words);
        let mut p = packet(budget, 50, items);
        let summary = apply_budget(&mut p, &words).unwrap();
        assert_eq!(names(&p), ["small1", "small2"]);
        assert_eq!(summary.dropped[0].item_name, "huge");
    }

    #[test]
    fn exact_fit_is_kept_and_one_more_token_is_not() {
        let items = vec![item("a", "symbol", 3), item("b", "symbol", 40)];
        let budget = total_keeping(&packet(1000, 50, items.clone()), &["a", "b"], &words);
        let mut p = packet(budget, 50, items.clone());
        assert!(apply_budget(&mut p, &words).unwrap().dropped.is_empty());
        let mut p = packet(budget - 1, 50, items);
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
        // One long word: the word counter sees 1, o200k_base many tokens.
        let long = json!({"name": "n", "item_type": "symbol", "source": "s", "snippet": "x".repeat(1200)});
        let short = json!({"name": "m", "item_type": "summary", "source": "s", "snippet": "a b c d e f g h"});
        let items = vec![long, short];
        // Some slack: the packet counted whole can differ a little from its parts counted apart.
        let budget = total_keeping(&packet(1000, 50, items.clone()), &["m"], &estimate_tokens) + 20;
        assert!(budget >= total_keeping(&packet(1000, 50, items.clone()), &["n", "m"], &words));
        let mut by_words = packet(budget, 50, items.clone());
        apply_budget(&mut by_words, &words).unwrap();
        assert_eq!(names(&by_words), ["n", "m"]);
        let mut by_estimate = packet(budget, 50, items);
        apply_budget(&mut by_estimate, &estimate_tokens).unwrap();
        assert_eq!(names(&by_estimate), ["m"]);
    }

    #[test]
    fn decisions_are_deterministic() {
        let items: Vec<_> =
            (0..20).map(|i| item(&format!("i{i}"), ItemType::ALL[i % 7].as_str(), (i * 7) % 13)).collect();
        let run = || {
            let mut p = packet(1000, 8, items.clone());
            apply_budget(&mut p, &words).unwrap();
            p
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn drop_records_are_capped_and_the_rest_counted() {
        let items: Vec<_> = (0..100).map(|i| item(&format!("item{i}"), "symbol", 30)).collect();
        let mut p = packet(3000, 5, items);
        let summary = apply_budget(&mut p, &estimate_tokens).unwrap();
        assert_eq!(summary.dropped.len(), 95, "the result lists every drop");
        let stats = p.provenance.build_stats.as_ref().unwrap();
        assert_eq!((stats.dropped.len(), stats.dropped_omitted), (MAX_DROP_RECORDS, 95 - MAX_DROP_RECORDS as u64));
        assert_eq!(stats.dropped[0].item_name, "item5", "the first drops in document order are recorded");
        // A second pass adds no records beyond the cap.
        p.constraints.max_items = 2;
        apply_budget(&mut p, &estimate_tokens).unwrap();
        let stats = p.provenance.build_stats.as_ref().unwrap();
        assert_eq!((stats.dropped.len(), stats.dropped_omitted), (MAX_DROP_RECORDS, 98 - MAX_DROP_RECORDS as u64));
        let mut sent = p.clone();
        sent.provenance.packet_hash = HASH_PLACEHOLDER.to_owned();
        assert!(packet_tokens(&sent, &estimate_tokens) <= 3000);
    }
}
