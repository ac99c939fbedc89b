//! The line scanner reads what the full reader reads, and leaves it what it does not handle.

use super::*;
use crate::context::packet::yaml::{parse_document, yaml_item};
use crate::context::packet::Item;
use serde_json::json;

/// What the full reader makes of `text` as the one item of a packet's `context` list.
fn full(text: &str) -> Option<Value> {
    Some(parse_document(&format!("context:\n{text}")).ok()?["context"][0].clone())
}

fn same(text: &str, dash: usize) {
    let scanned = scan_item(text, dash);
    assert!(scanned.is_some(), "not scanned:\n{text}");
    assert_eq!(scanned, full(text), "{text}");
}

#[test]
fn reads_what_the_writer_writes_as_the_full_reader_does() {
    let snippets = [
        "def f():\n    return 1\n",
        "    indented first\nline\n",
        "\nafter a blank line\n",
        "no final break",
        "two finals\n\n",
        "inner\n\n\nblank lines\n\n\n",
        "tab\there\n\tand there\n",
        "é ü 日本 😀\n",
        "quote \" and backslash \\ in a block\n",
        "  # not a comment\n- not a list\nkey: not a key\n",
    ];
    let flows = [
        "plain",
        "x [REDACTED:rule]",
        "sha256:abc",
        "yes",
        "123",
        "-1",
        "0o17",
        "a: b",
        "#x",
        " x ",
        "",
        "'q'",
        "\u{1b}[0m",
        "say \"hi\" \\",
        "it's",
    ];
    for (i, snippet) in snippets.iter().enumerate() {
        let item: Item =
            serde_json::from_value(json!({"name": flows[i % flows.len()], "path": flows[(i + 3) % flows.len()],
            "item_type": "code", "span": {"start": 1, "end": 2}, "summary": flows[(i + 7) % flows.len()],
            "snippet": snippet, "deps": flows, "source": "ast", "tokens_est": 7, "priority": -3, "target": true}))
            .unwrap();
        let mut text = String::new();
        yaml_item(item.clone(), &mut text);
        same(&text, 0);
        assert_eq!(serde_json::from_value::<Item>(scan_item(&text, 0).unwrap()).unwrap(), item);
    }
}

#[test]
fn reads_what_people_write_as_the_full_reader_does() {
    same("  - name: a\n    item_type: code\n    snippet: |\n        four spaces\n          six\n    deps:\n      - x\n      - 'y'\n", 2);
    same("- name:   spaced\n  empty_list: []\n  empty_map: {}\n  nothing:\n  span:\n      start: 1\n      end: 2\n", 0);
    same("- snippet: |-\n    keep none\n  s2: |+\n    keep all\n\n\n  s3: |2-\n     one more\n  s4: |-2\n    x\n", 0);
    same("- s: |\n    trailing blank lines go to the block\n\n  \n", 0);
    same("- q: \"\\u00e9\\t\\\\\\\"\\n\\r\"\n  n: null\n  t: true\n  f: 1.5\n  h: 0x1f\n", 0);
}

#[test]
fn leaves_the_rest_to_the_full_reader() {
    let others = [
        "- name: a # comment\n",
        "# comment\n- name: a\n",
        "- name: &x a\n",
        "- name: *x\n",
        "- name: !!str a\n",
        "- name: [a, b]\n",
        "- name: {a: 1}\n",
        "- s: >\n    folded\n",
        "- s: \"two\n    lines\"\n",
        "- s: plain\n    continued\n",
        "- a: 1\n\n  b: 2\n",
        "- a: 1\n  a: 2\n",
        "- 1: x\n",
        "- null: x\n",
        "- a: 1\r\n",
        "- a: 1",
        "- s: |\n\n    leading blank line\n",
        "- s: |\n      \n    spaces beyond\n",
        "- s: |\n    x\n   wrongly indented\n",
        "- s: |\n    bell \u{7}\n",
        "- s: \"\\x41\"\n",
        "- s: \"\\ud800\"\n",
        "- s: 'it's'\n",
        "- s: 1e999\n",
        "- s: - x\n",
        "- s: a:\n",
        "- s: a\ttab\n",
        "- s: trailing \n",
        "- deps:\n  - [a]\n",
        "- deps:\n  - |\n    x\n",
        "-  name: a\n",
        "- name: a\n   deeper: 1\n",
    ];
    for text in others {
        assert_eq!(scan_item(text, 0), None, "{text:?}");
    }
}
