//! Python CtxPack v0 layers for JavaScript: `LegacyReader` (spec §7.4). Conversion only.

use super::archive::{expect_uri_option, kind_fields, limits_option, number};
use super::{object, to_js_error, value_to_js};
use crate::archive::legacy::{self, LegacyEvent, LegacyOptions};
use crate::archive::PackEntryKind;
use crate::error::Result;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;

type JsResult<T> = std::result::Result<T, JsValue>;

#[wasm_bindgen(js_name = LegacyReader)]
pub struct LegacyReaderJs(legacy::LegacyReader);

#[wasm_bindgen(js_class = LegacyReader)]
impl LegacyReaderJs {
    /// `options`: `{ limits?: Partial<Limits>, expectUri?: string }`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> JsResult<LegacyReaderJs> {
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
    pub fn next(&mut self) -> JsResult<JsValue> {
        let event = self.0.next().map_err(to_js_error)?;
        Ok(match event {
            None => JsValue::UNDEFINED,
            Some(LegacyEvent::Manifest { manifest, bytes }) => object(&[
                ("kind", "manifest".into()),
                ("manifest", value_to_js(&manifest)),
                ("bytes", Uint8Array::from(bytes.as_slice()).into()),
            ]),
            Some(LegacyEvent::Directory { path }) => object(&[("kind", "directory".into()), ("path", path.into())]),
            Some(LegacyEvent::Entry { path, kind }) => {
                let [kind_type, size, executable] = kind_fields(&kind);
                let mut pairs = vec![("kind", "entry".into()), ("path", path.into()), kind_type, size, executable];
                if let PackEntryKind::Symlink { target } = kind {
                    pairs.push(("target", target.into()));
                }
                object(&pairs)
            }
            Some(LegacyEvent::Data(bytes)) => {
                object(&[("kind", "data".into()), ("bytes", Uint8Array::from(bytes.as_slice()).into())])
            }
            Some(LegacyEvent::End) => object(&[("kind", "end".into())]),
        })
    }

    /// `{ uri, manifest, files, bytes, compressedBytes, unverified }` once the whole layer is read and safe.
    pub fn finish(&mut self) -> JsResult<JsValue> {
        let summary = self.0.finish().map_err(to_js_error)?;
        let unverified: Array = summary.unverified.iter().map(|reason| JsValue::from(reason.as_str())).collect();
        Ok(object(&[
            ("uri", summary.uri.to_string().into()),
            ("manifest", value_to_js(&summary.manifest)),
            ("files", number(summary.files)),
            ("bytes", number(summary.bytes)),
            ("compressedBytes", number(summary.compressed_bytes)),
            ("unverified", unverified.into()),
        ]))
    }
}
