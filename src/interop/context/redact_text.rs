//! `contextRedactText`: a packet redacted from its file's bytes to the bytes to write, in one call. The packet
//! never crosses into JavaScript as an object (converting a large packet each way cost more than redacting it);
//! only the records of what was done and what still blocks it do.

use super::super::{field, object, to_js_error};
use super::packet::{gate, packet_error, rehash_if_hashed, to_js, violations_to_js, ContextPolicy};
use crate::context::packet::validate::check_structure;
use crate::context::packet::yaml::{into_yaml, parse_document_within, to_json_pretty, MAX_DOCUMENT_BYTES};
use crate::context::redact::redact_packet;
use crate::error::{Error, ErrorCode};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** Options of `contextRedactText`. */
export interface ContextRedactTextOptions extends ContextGateOptions {
  /** "yaml" (default) or "json": how the redacted packet is written. */
  format?: "yaml" | "json";
  /** The largest input read, in bytes (default 16 MiB); a larger one is refused with CTX_LIMIT_EXCEEDED. */
  maxBytes?: number;
}
"#;

/// `{bytes, applied, blocked, taskId, packetHash, privacy}`: the packet in `input` (YAML or JSON, UTF-8; invalid
/// sequences read as U+FFFD as `readFileSync(…, 'utf8')` does) redacted under the policy and written as
/// `options.format`, what this pass did, and what still blocks it from a remote model.
#[wasm_bindgen(
    js_name = contextRedactText,
    unchecked_return_type = "{ bytes: Uint8Array; applied: ContextRedaction[]; blocked: ContextViolation[]; taskId: string; packetHash: string | null; privacy: ContextPrivacy }"
)]
pub fn context_redact_text(
    input: Vec<u8>,
    policy: &ContextPolicy,
    #[wasm_bindgen(unchecked_optional_param_type = "ContextRedactTextOptions | null")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let RedactOptions { json, max_bytes } = RedactOptions::from_js(&options)?;
    // Owned, so the input's copy in wasm memory is freed once parsed, before the output grows.
    let text = String::from_utf8(input).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    let value = parse_document_within(&text, max_bytes).map_err(to_js_error)?;
    drop(text);
    let mut packet = check_structure(value, &policy.rules).map_err(packet_error)?;
    let summary = redact_packet(&mut packet, &policy.policy);
    rehash_if_hashed(&mut packet)?;
    let blocked = gate(&packet, &policy.policy, &options);
    let task_id = packet.header.task_id.clone();
    let privacy = packet.header.privacy.as_str();
    let hash = packet.provenance.packet_hash.clone();
    let bytes = if json {
        let mut text = to_json_pretty(&packet).map_err(to_js_error)?;
        text.push('\n');
        text
    } else {
        into_yaml(packet).map_err(to_js_error)?
    };
    let bytes = js_sys::Uint8Array::from(bytes.as_bytes());
    Ok(object(&[
        ("bytes", bytes.into()),
        ("applied", to_js(&summary.applied)),
        ("blocked", violations_to_js(&blocked)),
        ("taskId", task_id.as_str().into()),
        ("packetHash", if hash.is_empty() { JsValue::NULL } else { hash.as_str().into() }),
        ("privacy", privacy.into()),
    ]))
}

/// The `format` and `maxBytes` options of both redact calls (this one and `contextRedactStream`).
pub(super) struct RedactOptions {
    pub json: bool,
    pub max_bytes: usize,
}

impl RedactOptions {
    pub fn from_js(options: &JsValue) -> Result<RedactOptions, JsValue> {
        let present = !options.is_undefined() && !options.is_null();
        let json = match if present { field(options, "format").as_string() } else { None }.as_deref() {
            None | Some("yaml") => false,
            Some("json") => true,
            Some(other) => return Err(usage(&format!("format must be \"yaml\" or \"json\", not {other:?}"))),
        };
        let max_bytes = match if present { field(options, "maxBytes").as_f64() } else { None } {
            None => MAX_DOCUMENT_BYTES,
            Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => n as usize,
            Some(n) => return Err(usage(&format!("maxBytes must be a positive whole number, not {n}"))),
        };
        Ok(RedactOptions { json, max_bytes })
    }
}

fn usage(message: &str) -> JsValue {
    to_js_error(Error::new(ErrorCode::Usage, message))
}
