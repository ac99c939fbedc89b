//! contract/v1 for JavaScript: `contractPlan`, `resolveContract`, `contractUri`.

use super::{field, object, to_js_error, value_from_js, value_to_js};
use crate::contract::{self, Contract, InputKind, Need, ResolvedInput};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use js_sys::Array;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** What the host must hash before a contract resolves (docs/spec.md §5.1), in contract order. */
export type ContractNeed =
  | { kind: "input"; name: string; path: string }
  | { kind: "code"; transform: number; path: string };

export interface ContractPlan {
  needs: ContractNeed[];
  /** The contract's outputs, normalised to an array. */
  outputs: Array<{ path: string }>;
  /** What the contract leaves out of its identity that its author may not mean to (a transform without code). */
  warnings: string[];
}

/** The host's answers to a plan: each input by name, each code file by transform index. */
export interface ContractAnswers {
  inputs?: Record<string, { type: "file" | "tree"; digest: string }> | null;
  code?: Record<string, string> | null;
}

/**
 * A resolved contract (docs/spec.md §5.2): the contract with "ctxpack": "contract/v1", without outputs, its paths
 * replaced by digests. Its JCS form hashes to the URI.
 */
export type ResolvedContract = JsonObject & { ctxpack: "contract/v1" };

export interface ResolvedContractResult {
  uri: string;
  contract: ResolvedContract;
  /** JCS(contract), the text whose SHA-256 is the URI. */
  canonical: string;
}
"#;

/// `{ needs: [{kind: "input", name, path} | {kind: "code", transform, path}], outputs: [{path}], warnings: string[] }`
#[wasm_bindgen(js_name = contractPlan, unchecked_return_type = "ContractPlan")]
pub fn contract_plan(
    #[wasm_bindgen(js_name = contractText)] contract_text: &str,
) -> std::result::Result<JsValue, JsValue> {
    let plan = Contract::parse(contract_text.as_bytes()).map_err(to_js_error)?.plan();
    let needs: Array = plan
        .needs
        .iter()
        .map(|need| match need {
            Need::Input { name, path } => {
                object(&[("kind", "input".into()), ("name", name.into()), ("path", path.into())])
            }
            Need::Code { transform, path } => {
                object(&[("kind", "code".into()), ("transform", (*transform as f64).into()), ("path", path.into())])
            }
        })
        .collect();
    let outputs: Array = plan.outputs.iter().map(|output| object(&[("path", output.path.as_str().into())])).collect();
    let warnings: Array = plan.warnings.iter().map(|warning| JsValue::from(warning.as_str())).collect();
    Ok(object(&[("needs", needs.into()), ("outputs", outputs.into()), ("warnings", warnings.into())]))
}

/// `resolved = { inputs: { [name]: {type, digest} }, code: { [transformIndex]: digest } }` →
/// `{ uri, contract, canonical }`.
#[wasm_bindgen(js_name = resolveContract, unchecked_return_type = "ResolvedContractResult")]
pub fn resolve_contract(
    #[wasm_bindgen(js_name = contractText)] contract_text: &str,
    #[wasm_bindgen(unchecked_param_type = "ContractAnswers")] resolved: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let resolve = || -> Result<JsValue> {
        let contract = Contract::parse(contract_text.as_bytes())?;
        let inputs = resolved_inputs(&field(&resolved, "inputs"))?;
        let code = resolved_code(&field(&resolved, "code"))?;
        let resolved = contract.resolve(&inputs, &code)?;
        let canonical = String::from_utf8(resolved.canonical).expect("JCS output is UTF-8");
        Ok(object(&[
            ("uri", resolved.uri.to_string().into()),
            ("contract", value_to_js(&resolved.value)),
            ("canonical", canonical.into()),
        ]))
    };
    resolve().map_err(to_js_error)
}

/// The URI of a resolved contract (as stored in a pack), after checking it is one.
#[wasm_bindgen(js_name = contractUri)]
pub fn contract_uri(
    #[wasm_bindgen(js_name = resolvedContract, unchecked_param_type = "ResolvedContract | object")]
    resolved_contract: JsValue,
) -> std::result::Result<String, JsValue> {
    value_from_js(&resolved_contract, "contract")
        .and_then(|value| contract::uri_of_resolved(&value))
        .map(|uri| uri.to_string())
        .map_err(to_js_error)
}

fn resolved_inputs(inputs: &JsValue) -> Result<BTreeMap<String, ResolvedInput>> {
    record(inputs, "resolved.inputs")?
        .into_iter()
        .map(|(name, answer)| {
            let at = format!("resolved.inputs.{name}");
            let kind = answer.get("type").and_then(Value::as_str).and_then(InputKind::parse).ok_or_else(|| {
                Error::new(ErrorCode::JsonInvalid, "\"type\" must be \"file\" or \"tree\"").at(format!("{at}.type"))
            })?;
            let digest = digest_of(answer.get("digest"), &format!("{at}.digest"))?;
            Ok((name, ResolvedInput { kind, digest }))
        })
        .collect()
}

fn resolved_code(code: &JsValue) -> Result<BTreeMap<usize, Digest>> {
    record(code, "resolved.code")?
        .into_iter()
        .map(|(index, digest)| {
            let at = format!("resolved.code.{index}");
            let transform = index.parse::<usize>().map_err(|_| {
                Error::new(ErrorCode::JsonInvalid, "keys of resolved.code are transform indexes").at(&at)
            })?;
            Ok((transform, digest_of(Some(&digest), &at)?))
        })
        .collect()
}

/// A JS object used as a record; `undefined` and `null` are empty records.
fn record(value: &JsValue, what: &str) -> Result<Map<String, Value>> {
    if value.is_undefined() || value.is_null() {
        return Ok(Map::new());
    }
    match value_from_js(value, what)? {
        Value::Object(map) => Ok(map),
        _ => Err(Error::new(ErrorCode::JsonInvalid, "must be an object").at(what)),
    }
}

fn digest_of(value: Option<&Value>, at: &str) -> Result<Digest> {
    let text = value
        .and_then(Value::as_str)
        .ok_or_else(|| Error::new(ErrorCode::JsonInvalid, "must be a sha256:<hex> string").at(at))?;
    Digest::parse(text).map_err(|e| e.at(at))
}
