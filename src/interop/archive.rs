//! The pack byte format for JavaScript: `PackWriter`, `PackReader` and `deflateBlock`. Conversion only.

use super::{field, object, to_js_error, value_to_js};
use crate::archive::{self, Event, Limits, PackEntryKind, ReaderOptions, WriterOptions};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::uri::CtxUri;
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

type JsResult<T> = std::result::Result<T, JsValue>;

/// An optional non-negative integer option (exact in a JS number: at most 2^53).
fn integer_option(options: &JsValue, key: &str) -> Result<Option<u64>> {
    let value = field(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= 9_007_199_254_740_992.0)
        .map(|n| Some(n as u64))
        .ok_or_else(|| Error::new(ErrorCode::JsonInvalid, "must be a non-negative integer").at(key))
}

fn bool_option(options: &JsValue, key: &str, default: bool) -> Result<bool> {
    let value = field(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(default);
    }
    value.as_bool().ok_or_else(|| Error::new(ErrorCode::JsonInvalid, "must be a boolean").at(key))
}

/// Sizes and counts as JS numbers (exact below 2^53, which every limit keeps them under).
fn number(n: u64) -> JsValue {
    JsValue::from(n as f64)
}

fn kind_fields(kind: &PackEntryKind) -> [(&'static str, JsValue); 3] {
    match kind {
        PackEntryKind::File { size, executable } => {
            [("type", "file".into()), ("size", number(*size)), ("executable", (*executable).into())]
        }
        PackEntryKind::Symlink { .. } => {
            [("type", "symlink".into()), ("size", number(0)), ("executable", false.into())]
        }
    }
}

#[wasm_bindgen(js_name = PackWriter)]
pub struct PackWriterJs(archive::PackWriter);

#[wasm_bindgen(js_class = PackWriter)]
impl PackWriterJs {
    /// `options`: `{ mtime?: number, hashContent?: boolean }`.
    #[wasm_bindgen(constructor)]
    pub fn new(manifest_bytes: &[u8], options: JsValue) -> JsResult<PackWriterJs> {
        let build = || -> Result<PackWriterJs> {
            let options = WriterOptions {
                mtime: integer_option(&options, "mtime")?.unwrap_or(0),
                hash_content: bool_option(&options, "hashContent", true)?,
            };
            archive::PackWriter::new(manifest_bytes, options).map(PackWriterJs)
        };
        build().map_err(to_js_error)
    }

    /// `{ path, type, size }` of the next artifact in tree order, or `undefined` when all are written.
    #[wasm_bindgen(js_name = nextEntry)]
    pub fn next_entry(&mut self) -> JsResult<JsValue> {
        let next = self.0.next_entry().map_err(to_js_error)?;
        Ok(next.map_or(JsValue::UNDEFINED, |(path, kind)| {
            let [kind_type, size, _] = kind_fields(&kind);
            object(&[("path", path.into()), kind_type, size])
        }))
    }

    pub fn write(&mut self, chunk: &[u8]) -> JsResult<()> {
        self.0.write(chunk).map_err(to_js_error)
    }

    #[wasm_bindgen(js_name = endEntry)]
    pub fn end_entry(&mut self, digest: Option<String>) -> JsResult<()> {
        let digest = digest.as_deref().map(Digest::parse).transpose().map_err(to_js_error)?;
        self.0.end_entry(digest).map_err(to_js_error)
    }

    pub fn finish(&mut self) -> JsResult<()> {
        self.0.finish().map_err(to_js_error)
    }

    #[wasm_bindgen(js_name = takeOutput)]
    pub fn take_output(&mut self) -> Vec<u8> {
        self.0.take_output()
    }
}

/// One block of the pack's gzip profile, deflated on its own (for hosts that deflate in parallel).
#[wasm_bindgen(js_name = deflateBlock)]
pub fn deflate_block(block: &[u8], last: bool) -> Vec<u8> {
    archive::deflate_block(block, last)
}

#[wasm_bindgen(js_name = PackReader)]
pub struct PackReaderJs(archive::PackReader);

#[wasm_bindgen(js_class = PackReader)]
impl PackReaderJs {
    /// `options`: `{ limits?: Partial<Limits>, hashContent?: boolean, expectUri?: string }`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> JsResult<PackReaderJs> {
        let build = || -> Result<PackReaderJs> {
            let limits = field(&options, "limits");
            let defaults = Limits::default();
            let limit = |key: &str, default: u64| integer_option(&limits, key).map(|v| v.unwrap_or(default));
            let limits = Limits {
                max_manifest_bytes: limit("maxManifestBytes", defaults.max_manifest_bytes)?,
                max_entry_bytes: limit("maxEntryBytes", defaults.max_entry_bytes)?,
                max_total_bytes: limit("maxTotalBytes", defaults.max_total_bytes)?,
                max_entries: limit("maxEntries", defaults.max_entries)?,
                max_ratio: limit("maxRatio", defaults.max_ratio)?,
            };
            let expect_uri = field(&options, "expectUri");
            let expect_uri = match expect_uri.as_string() {
                Some(uri) => Some(CtxUri::parse(&uri)?),
                None if expect_uri.is_undefined() || expect_uri.is_null() => None,
                None => return Err(Error::new(ErrorCode::JsonInvalid, "must be a ctx:// URI string").at("expectUri")),
            };
            let hash_content = bool_option(&options, "hashContent", true)?;
            Ok(PackReaderJs(archive::PackReader::new(ReaderOptions { limits, hash_content, expect_uri })))
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
            Some(Event::Manifest { manifest, bytes }) => object(&[
                ("kind", "manifest".into()),
                ("manifest", value_to_js(&manifest.to_value())),
                ("bytes", Uint8Array::from(bytes.as_slice()).into()),
            ]),
            Some(Event::Entry { path, kind }) => {
                let [kind_type, size, executable] = kind_fields(&kind);
                let mut pairs = vec![("kind", "entry".into()), ("path", path.into()), kind_type, size, executable];
                if let PackEntryKind::Symlink { target } = kind {
                    pairs.push(("target", target.into()));
                }
                object(&pairs)
            }
            Some(Event::Data(bytes)) => {
                object(&[("kind", "data".into()), ("bytes", Uint8Array::from(bytes.as_slice()).into())])
            }
            Some(Event::End) => object(&[("kind", "end".into())]),
        })
    }

    #[wasm_bindgen(js_name = entryDigest)]
    pub fn entry_digest(&mut self, digest: &str) -> JsResult<()> {
        let digest = Digest::parse(digest).map_err(to_js_error)?;
        self.0.entry_digest(digest).map_err(to_js_error)
    }

    /// `{ uri, manifest, files, bytes, compressedBytes }` once the whole pack has been read and verified.
    pub fn finish(&mut self) -> JsResult<JsValue> {
        let summary = self.0.finish().map_err(to_js_error)?;
        Ok(object(&[
            ("uri", summary.uri.to_string().into()),
            ("manifest", value_to_js(&summary.manifest.to_value())),
            ("files", number(summary.files)),
            ("bytes", number(summary.bytes)),
            ("compressedBytes", number(summary.compressed_bytes)),
        ]))
    }
}
