//! Comparing two execution manifests (execution/v1) step by step.
//!
//! Steps are aligned by a global sequence alignment, not by position, so one inserted step does not mark
//! every later step as changed. A pair of steps may align only when they have the same `type` and `tool`;
//! an identical step (same parameters, output and flags) scores more than a changed one, so the alignment
//! prefers exact matches and pairs the rest as "changed" with the fields that differ.

use crate::error::{Error, ErrorCode, Result};
use serde_json::Value;

/// Alignments larger than this many cells (steps of a × steps of b, after trimming the common prefix and
/// suffix) are refused: the table would not fit in a bounded amount of memory.
pub const MAX_ALIGNMENT_CELLS: usize = 16 << 20;

const SCORE_SAME: u32 = 3;
const SCORE_CHANGED: u32 = 1;

/// One entry of the step alignment, with indices into the two manifests' `steps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepChange {
    Same {
        a: usize,
        b: usize,
    },
    /// Same type and tool; `fields` lists what differs (`parameters`, `output`, `deterministic`, `timestamp`).
    Changed {
        a: usize,
        b: usize,
        fields: Vec<&'static str>,
    },
    Removed {
        a: usize,
    },
    Added {
        b: usize,
    },
}

/// A field that differs between the two manifests outside the steps, e.g. `model.parameters.temperature`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionDiff {
    /// `model`, `environment`, `system_prompt`, `prompts`, `inputs`, `outputs` and `parent`, field by field
    /// (contents compare by digest).
    pub fields: Vec<FieldChange>,
    pub steps: Vec<StepChange>,
}

impl ExecutionDiff {
    pub fn differs(&self) -> bool {
        !self.fields.is_empty() || self.steps.iter().any(|s| !matches!(s, StepChange::Same { .. }))
    }
}

/// Compares two execution manifests (as parsed JSON).
pub fn diff(a: &Value, b: &Value) -> Result<ExecutionDiff> {
    let mut fields = Vec::new();
    for key in ["model", "environment", "system_prompt", "parent"] {
        compare_values(key, a.get(key), b.get(key), &mut fields);
    }
    compare_list(a, b, "prompts", |item| item.get("role").and_then(Value::as_str).map(str::to_string), &mut fields);
    for key in ["inputs", "outputs"] {
        compare_list(a, b, key, |item| item.get("name").and_then(Value::as_str).map(str::to_string), &mut fields);
    }
    let steps = align_steps(steps_of(a, "a")?, steps_of(b, "b")?)?;
    Ok(ExecutionDiff { fields, steps })
}

fn steps_of<'v>(manifest: &'v Value, which: &str) -> Result<&'v [Value]> {
    match manifest.get("steps") {
        None => Ok(&[]),
        Some(Value::Array(steps)) => Ok(steps),
        Some(_) => {
            Err(Error::new(ErrorCode::ExecutionInvalid, "\"steps\" must be an array").at(format!("{which}.steps")))
        }
    }
}

/// Records every leaf that differs below `path`; objects compare key by key, anything else as a whole.
fn compare_values(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) if !is_content_ref(x) || !is_content_ref(y) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                compare_values(&format!("{path}.{key}"), x.get(key), y.get(key), out);
            }
        }
        (x, y) if x != y => out.push(FieldChange { path: path.to_string(), before: x.cloned(), after: y.cloned() }),
        _ => {}
    }
}

/// A content reference compares as one value (its digest), not field by field.
fn is_content_ref(object: &serde_json::Map<String, Value>) -> bool {
    object.contains_key("digest") && object.contains_key("size")
}

/// Lists whose items have a key (`name`, `role`): items compare by key when every key is unique, else
/// by position.
fn compare_list(
    a: &Value,
    b: &Value,
    list: &str,
    key_of: impl Fn(&Value) -> Option<String>,
    out: &mut Vec<FieldChange>,
) {
    let items = |m: &Value| m.get(list).and_then(Value::as_array).cloned().unwrap_or_default();
    let (xs, ys) = (items(a), items(b));
    let keyed = |items: &[Value]| -> Option<Vec<String>> {
        let keys: Option<Vec<String>> = items.iter().map(&key_of).collect();
        keys.filter(|k| k.iter().collect::<std::collections::BTreeSet<_>>().len() == k.len())
    };
    match (keyed(&xs), keyed(&ys)) {
        (Some(kx), Some(ky)) if list != "prompts" => {
            let mut names: Vec<&String> = kx.iter().chain(ky.iter()).collect();
            names.sort();
            names.dedup();
            for name in names {
                let find =
                    |keys: &[String], items: &[Value]| keys.iter().position(|k| k == name).map(|i| items[i].clone());
                compare_values(&format!("{list}[{name}]"), find(&kx, &xs).as_ref(), find(&ky, &ys).as_ref(), out);
            }
        }
        _ => {
            for i in 0..xs.len().max(ys.len()) {
                compare_values(&format!("{list}[{i}]"), xs.get(i), ys.get(i), out);
            }
        }
    }
}

/// Needleman–Wunsch over the steps between the common prefix and suffix; gaps cost nothing, a changed
/// pair scores [`SCORE_CHANGED`], an identical pair [`SCORE_SAME`], different type or tool cannot pair.
fn align_steps(a: &[Value], b: &[Value]) -> Result<Vec<StepChange>> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x_same(x, y)).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x_same(x, y)).count();
    let (mid_a, mid_b) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let (n, m) = (mid_a.len(), mid_b.len());
    if n.saturating_mul(m) > MAX_ALIGNMENT_CELLS {
        return Err(Error::new(
            ErrorCode::LimitExceeded,
            format!("{n} × {m} differing steps are too many to align (at most {MAX_ALIGNMENT_CELLS} pairs)"),
        )
        .hint("compare smaller runs, or fork the runs closer together"));
    }
    // score[i][j]: best alignment of mid_a[i..] with mid_b[j..]; filled from the end so the walk is forward.
    let width = m + 1;
    let mut score = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let pair = pair_score(&mid_a[i], &mid_b[j]).map_or(0, |s| s + score[(i + 1) * width + j + 1]);
            score[i * width + j] = pair.max(score[(i + 1) * width + j]).max(score[i * width + j + 1]);
        }
    }
    let mut out: Vec<StepChange> = (0..prefix).map(|i| StepChange::Same { a: i, b: i }).collect();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        let here = score[i * width + j];
        if i < n && j < m {
            if let Some(s) = pair_score(&mid_a[i], &mid_b[j]) {
                if here == s + score[(i + 1) * width + j + 1] {
                    let (ia, jb) = (prefix + i, prefix + j);
                    out.push(match changed_fields(&mid_a[i], &mid_b[j]) {
                        fields if fields.is_empty() => StepChange::Same { a: ia, b: jb },
                        fields => StepChange::Changed { a: ia, b: jb, fields },
                    });
                    i += 1;
                    j += 1;
                    continue;
                }
            }
        }
        if i < n && (j == m || here == score[(i + 1) * width + j]) {
            out.push(StepChange::Removed { a: prefix + i });
            i += 1;
        } else {
            out.push(StepChange::Added { b: prefix + j });
            j += 1;
        }
    }
    out.extend((0..suffix).map(|k| StepChange::Same { a: a.len() - suffix + k, b: b.len() - suffix + k }));
    Ok(out)
}

fn x_same(x: &Value, y: &Value) -> bool {
    pair_score(x, y) == Some(SCORE_SAME)
}

fn pair_score(x: &Value, y: &Value) -> Option<u32> {
    let kind = |s: &Value| (s.get("type").cloned(), s.get("tool").cloned());
    if kind(x) != kind(y) {
        return None;
    }
    Some(if changed_fields(x, y).is_empty() { SCORE_SAME } else { SCORE_CHANGED })
}

/// What differs between two steps of the same type and tool. The index is where a step sits, not what it
/// did, so it is not compared.
fn changed_fields(x: &Value, y: &Value) -> Vec<&'static str> {
    ["parameters", "output", "deterministic", "timestamp"]
        .into_iter()
        .filter(|field| {
            let content = |s: &Value| s.get(*field).map(|v| v.get("digest").unwrap_or(v).clone());
            content(x) != content(y)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(tool: &str, output: &str) -> Value {
        json!({"index": 0, "type": "tool_call", "tool": tool, "parameters": {"q": tool},
               "output": {"digest": format!("sha256:{output}"), "size": 1, "encoding": "utf-8"}, "deterministic": true})
    }

    fn run(steps: Vec<Value>) -> Value {
        json!({"ctxpack": "execution/v1", "model": {"identifier": "m", "parameters": {"temperature": 0}},
               "environment": {"os": "linux", "runtime": "node 20", "tool_versions": {"git": "2.43"}},
               "steps": steps})
    }

    #[test]
    fn identical_runs_do_not_differ() {
        let a = run(vec![step("read", "1"), step("grep", "2")]);
        let d = diff(&a, &a).unwrap();
        assert!(!d.differs());
        assert_eq!(d.steps, vec![StepChange::Same { a: 0, b: 0 }, StepChange::Same { a: 1, b: 1 }]);
    }

    #[test]
    fn one_inserted_step_leaves_later_steps_aligned() {
        let a = run(vec![step("read", "1"), step("grep", "2"), step("test", "3"), step("diff", "4")]);
        let b =
            run(vec![step("read", "1"), step("lint", "9"), step("grep", "2"), step("test", "3"), step("diff", "4")]);
        let d = diff(&a, &b).unwrap();
        assert_eq!(
            d.steps,
            vec![
                StepChange::Same { a: 0, b: 0 },
                StepChange::Added { b: 1 },
                StepChange::Same { a: 1, b: 2 },
                StepChange::Same { a: 2, b: 3 },
                StepChange::Same { a: 3, b: 4 },
            ]
        );
    }

    #[test]
    fn a_changed_output_pairs_the_steps_and_names_the_field() {
        let a = run(vec![step("read", "1"), step("test", "fail"), step("diff", "4")]);
        let b = run(vec![step("read", "1"), step("test", "pass"), step("diff", "4")]);
        let d = diff(&a, &b).unwrap();
        assert_eq!(d.steps[1], StepChange::Changed { a: 1, b: 1, fields: vec!["output"] });
        assert!(d.differs());
    }

    #[test]
    fn removed_and_added_steps_of_other_tools_do_not_pair() {
        let a = run(vec![step("read", "1"), step("search", "2")]);
        let b = run(vec![step("read", "1"), step("fetch", "2")]);
        let d = diff(&a, &b).unwrap();
        assert_eq!(
            d.steps,
            vec![StepChange::Same { a: 0, b: 0 }, StepChange::Removed { a: 1 }, StepChange::Added { b: 1 }]
        );
    }

    #[test]
    fn exact_matches_win_over_changed_pairs_of_the_same_tool() {
        // b drops a's first read; the remaining read must pair with its identical twin, not be "changed".
        let a = run(vec![step("read", "x"), step("read", "y")]);
        let b = run(vec![step("read", "y")]);
        let d = diff(&a, &b).unwrap();
        assert_eq!(d.steps, vec![StepChange::Removed { a: 0 }, StepChange::Same { a: 1, b: 0 }]);
    }

    #[test]
    fn model_environment_inputs_and_outputs_are_compared_field_by_field() {
        let mut a = run(vec![]);
        let mut b = run(vec![]);
        b["model"]["parameters"]["temperature"] = json!(0.7);
        b["environment"]["tool_versions"]["git"] = json!("2.44");
        a["outputs"] = json!([{"name": "patch", "content": {"digest": "sha256:1", "size": 1, "encoding": "utf-8"}}]);
        b["outputs"] = json!([{"name": "patch", "content": {"digest": "sha256:2", "size": 1, "encoding": "utf-8"}},
                              {"name": "notes", "content": {"digest": "sha256:3", "size": 1, "encoding": "utf-8"}}]);
        let paths: Vec<String> = diff(&a, &b).unwrap().fields.into_iter().map(|f| f.path).collect();
        assert_eq!(
            paths,
            [
                "model.parameters.temperature",
                "environment.tool_versions.git",
                "outputs[notes]",
                "outputs[patch].content",
            ]
        );
    }

    #[test]
    fn alignments_past_the_limit_are_refused() {
        let many = |tag: &str| run((0..5000).map(|i| step("t", &format!("{tag}{i}"))).collect());
        let error = diff(&many("a"), &many("b")).unwrap_err();
        assert_eq!(error.code, ErrorCode::LimitExceeded);
    }
}
