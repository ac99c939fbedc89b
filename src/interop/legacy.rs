//! Python CtxPack v0 layers for JavaScript: `LegacyReader` (spec §7.4). Conversion only.

use super::archive::{
    data_event, end_event, entry_event, expect_uri_option, limits_option, manifest_event, summary_fields,
};
use super::{object, to_js_error, value_to_js};
use crate::archive::legacy::{self, LegacyEvent, LegacyOptions};
use crate::error::Result;
use js_sys::Array;
use wasm_bindgen::prelude::*;

type JsResult<T> = std::result::Result<T, JsValue>;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
export interface LegacyReaderOptions {
  limits?: Partial<Limits> | null;
  /** The URI the v0 pack must claim. */
  expectUri?: string | null;
}

/** What a LegacyReader read (docs/spec.md §7.4); the v0 manifest may come after the entries. */
export type LegacyEvent =
  | { kind: "manifest"; manifest: JsonObject; bytes: Uint8Array }
  | { kind: "directory"; path: string }
  | PackEntryEvent
  | { kind: "data"; bytes: Uint8Array }
  | { kind: "end" };

/** A v0 layer read whole and found safe; `unverified` says what a v0 pack cannot prove. */
export interface LegacySummary {
  uri: string;
  manifest: JsonObject;
  files: number;
  bytes: number;
  compressedBytes: number;
  unverified: string[];
}
"#;

#[wasm_bindgen(js_name = LegacyReader)]
pub struct LegacyReaderJs(legacy::LegacyReader);

#[wasm_bindgen(js_class = LegacyReader)]
impl LegacyReaderJs {
    /// `options`: `{ limits?: Partial<Limits>, expectUri?: string }`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "LegacyReaderOptions | null")] options: JsValue,
    ) -> JsResult<LegacyReaderJs> {
        let build = || -> Result<LegacyReaderJs> {
            let options = LegacyOptions { limits: limits_option(&options)?, expect_uri: expect_uri_option(&options)? };
            Ok(LegacyReaderJs(legacy::LegacyReader::new(options)))
        };
        build().map_err(to_js_error)
    }

    #[wasm_bindgen(js_name = wantsInput)]
    pub fn wants_input(&self) -> bool {
        self.0.wants_input()
    }

    pub fn push(&mut self, chunk: &[u8]) -> JsResult<()> {
        self.0.push(chunk).map_err(to_js_error)
    }

    /// The next event as a plain object, or `undefined` when more input is needed.
    #[allow(clippy::should_implement_trait)]
    #[wasm_bindgen(unchecked_return_type = "LegacyEvent | undefined")]
    pub fn next(&mut self) -> JsResult<JsValue> {
        let event = self.0.next().map_err(to_js_error)?;
        Ok(match event {
            None => JsValue::UNDEFINED,
            Some(LegacyEvent::Manifest { manifest, bytes }) => manifest_event(&manifest, &bytes),
            Some(LegacyEvent::Directory { path }) => object(&[("kind", "directory".into()), ("path", path.into())]),
            Some(LegacyEvent::Entry { path, kind }) => entry_event(path, kind),
            Some(LegacyEvent::Data(bytes)) => data_event(&bytes),
            Some(LegacyEvent::End) => end_event(),
        })
    }

    /// `{ uri, manifest, files, bytes, compressedBytes, unverified }` once the whole layer is read and safe.
    #[wasm_bindgen(unchecked_return_type = "LegacySummary")]
    pub fn finish(&mut self) -> JsResult<JsValue> {
        let summary = self.0.finish().map_err(to_js_error)?;
        let unverified: Array = summary.unverified.iter().map(|reason| JsValue::from(reason.as_str())).collect();
        let mut fields = summary_fields(&summary.uri, summary.files, summary.bytes, summary.compressed_bytes);
        fields.push(("manifest", value_to_js(&summary.manifest)));
        fields.push(("unverified", unverified.into()));
        Ok(object(&fields))
    }
}
