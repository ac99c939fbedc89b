//! `contextRedactStream`: a packet redacted as it streams, read from and written to host functions chunk by
//! chunk, so memory holds one item however large the packet (src/context/redact_stream.rs).

use super::super::{field, object, to_js_error};
use super::packet::{packet_error, to_js, violations_to_js, ContextPolicy};
use super::redact_text::RedactOptions;
use crate::context::redact_stream::{redact_stream, StreamOptions, Streamed};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** Options of `contextRedactStream`. */
export interface ContextRedactStreamOptions extends ContextGateOptions {
  /** "yaml" (default) or "json": how the redacted packet is written. */
  format?: "yaml" | "json";
  /** The most bytes one item, or the packet without its items, may take (default 16 MiB). */
  maxBytes?: number;
  /**
   * The packet's last bytes (64 KiB is plenty), when the host can read them first: an empty
   * `provenance.packet_hash` there spares hashing the items; should the packet hold a hash after all, the
   * result is `null` (read it whole).
   */
  tail?: Uint8Array;
}
"#;

/// `{applied, blocked, taskId, packetHash, privacy}` for the YAML packet `read()` returns chunk by chunk (a
/// `Uint8Array` each call; `null` or an empty one at the end), redacted under the policy and handed to
/// `write(chunk)` as it goes; or `null` when the packet must be read whole (`contextRedactText`): JSON, parts
/// in an order that cannot stream. What was written is complete only when a result object is returned.
#[wasm_bindgen(
    js_name = contextRedactStream,
    unchecked_return_type = "{ applied: ContextRedaction[]; blocked: ContextViolation[]; taskId: string; packetHash: string | null; privacy: ContextPrivacy } | null"
)]
pub fn context_redact_stream(
    read: &js_sys::Function,
    write: &js_sys::Function,
    policy: &ContextPolicy,
    #[wasm_bindgen(unchecked_optional_param_type = "ContextRedactStreamOptions | null")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let RedactOptions { json, max_bytes } = RedactOptions::from_js(&options)?;
    let approved = !options.is_undefined() && !options.is_null() && field(&options, "approveRemote").is_truthy();
    let mut failure = None;
    let read_chunk = || match read.call0(&JsValue::NULL) {
        Ok(chunk) if chunk.is_null() || chunk.is_undefined() => None,
        Ok(chunk) => Some(bytes_of(chunk)),
        Err(error) => {
            failure.get_or_insert(error);
            None
        }
    };
    let mut write_error = None;
    let mut write_chunk = |bytes: &[u8]| {
        if write_error.is_none() {
            if let Err(error) = write.call1(&JsValue::NULL, &js_sys::Uint8Array::from(bytes)) {
                write_error = Some(error);
            }
        }
    };
    let tail = if options.is_undefined() || options.is_null() { JsValue::UNDEFINED } else { field(&options, "tail") };
    let tail = if tail.is_undefined() { Vec::new() } else { bytes_of(tail) };
    let options = StreamOptions { json, max_bytes, approved, tail };
    let result = redact_stream(read_chunk, &mut write_chunk, &policy.policy, &policy.rules, &options);
    if let Some(error) = failure.or(write_error) {
        return Err(error);
    }
    match result.map_err(to_js_error)? {
        Streamed::Whole => Ok(JsValue::NULL),
        Streamed::Invalid(violations) => Err(packet_error(violations)),
        Streamed::Done(summary) => Ok(object(&[
            ("applied", to_js(&summary.applied)),
            ("blocked", violations_to_js(&summary.blocked)),
            ("taskId", summary.task_id.as_str().into()),
            (
                "packetHash",
                if summary.packet_hash.is_empty() { JsValue::NULL } else { summary.packet_hash.as_str().into() },
            ),
            ("privacy", summary.privacy.as_str().into()),
        ])),
    }
}

/// A chunk's bytes, copied once: `new Uint8Array(chunk)` would first copy a `Uint8Array` (a Node `Buffer`) into
/// a new one on the JS side, a second pass over every byte of the packet.
fn bytes_of(chunk: JsValue) -> Vec<u8> {
    match chunk.dyn_into::<js_sys::Uint8Array>() {
        Ok(bytes) => bytes.to_vec(),
        Err(other) => js_sys::Uint8Array::new(&other).to_vec(),
    }
}
