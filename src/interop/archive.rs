//! The pack byte format for JavaScript: `PackWriter`, `PackReader`, `deflateBlock` and `packLayout`.
//! Conversion only.

use super::{field, object, to_js_error, value_to_js};
use crate::archive::{self, Event, Limits, PackEntryKind, ReaderOptions};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use crate::manifest::PackManifest;
use crate::uri::CtxUri;
use js_sys::{Array, Function, Reflect, Uint8Array};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type JsResult<T> = std::result::Result<T, JsValue>;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** What protects a reader against hostile packs (docs/spec.md §7.2); each one has a default. */
export interface Limits {
  maxManifestBytes: number;
  /** The manifest's provenance as written (not identity, so it has no reason to be large). */
  maxProvenanceBytes: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  maxEntries: number;
  /** Uncompressed bytes per compressed byte. */
  maxRatio: number;
}

export interface PackReaderOptions {
  limits?: Partial<Limits> | null;
  /** Hash the content read (default true); false: the host hashes and passes each digest to entryDigest. */
  hashContent?: boolean | null;
  /** The URI the pack must have (CTX_URI_MISMATCH otherwise). */
  expectUri?: string | null;
  /** With `layer`: the pack's manifest.json bytes, to verify that one layer. */
  manifest?: Uint8Array | null;
  layer?: number | null;
  /** The host's CRC-32 (Node's `zlib.crc32`: faster than the core's in wasm) over what is inflated, as an
   * unsigned 32-bit integer; the core still compares it with each gzip trailer. */
  crc32?: ((data: Uint8Array, value: number) => number) | null;
}

/** An artifact's header, as read. */
export type PackEntryEvent =
  | { kind: "entry"; path: string; type: "file"; size: number; executable: boolean }
  | { kind: "entry"; path: string; type: "symlink"; size: 0; executable: false; target: string };

/**
 * What a PackReader read: the manifest (verified; its bytes from manifestBytes()), then each artifact's header, its
 * content in pieces and its end.
 */
export type ReaderEvent =
  | { kind: "manifest"; uri: string }
  | PackEntryEvent
  | { kind: "data"; bytes: Uint8Array }
  | { kind: "end" };

/** What PackReader.finish() gives once the whole pack has been read and verified. */
export interface PackReaderSummary {
  uri: string;
  files: number;
  bytes: number;
  compressedBytes: number;
}

/** A pack read and verified whole by verifyPack, with its manifest. */
export interface PackSummary extends PackReaderSummary {
  manifest: PackManifest;
}

/** The layers of a pack (docs/spec.md §7.3): entries [start, start + entries) of the manifest, `bytes` of files each. */
export interface PackLayout {
  layers: Array<{ index: number; start: number; entries: number; bytes: number }>;
}
"#;

/// An optional non-negative integer option (exact in a JS number: at most 2^53).
pub(super) fn integer_option(options: &JsValue, key: &str) -> Result<Option<u64>> {
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

pub(super) fn bool_option(options: &JsValue, key: &str, default: bool) -> Result<bool> {
    let value = field(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(default);
    }
    value.as_bool().ok_or_else(|| Error::new(ErrorCode::JsonInvalid, "must be a boolean").at(key))
}

/// An optional function option.
pub(super) fn function_option(options: &JsValue, key: &str) -> Result<Option<Function>> {
    let value = field(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.dyn_into::<Function>().map(Some).map_err(|_| Error::new(ErrorCode::JsonInvalid, "must be a function").at(key))
}

/// Sizes and counts as JS numbers (exact below 2^53, which every limit keeps them under).
fn number(n: u64) -> JsValue {
    JsValue::from(n as f64)
}

pub(super) fn kind_fields(kind: &PackEntryKind) -> [(&'static str, JsValue); 3] {
    match kind {
        PackEntryKind::File { size, executable } => {
            [("type", "file".into()), ("size", number(*size)), ("executable", (*executable).into())]
        }
        PackEntryKind::Symlink { .. } => {
            [("type", "symlink".into()), ("size", number(0)), ("executable", false.into())]
        }
    }
}

// The events and summary fields `PackReader` and `LegacyReader` have in common.

/// A v0 manifest (small, any shape) as an object beside its bytes.
pub(super) fn manifest_event(manifest: &Value, bytes: &[u8]) -> JsValue {
    object(&[
        ("kind", "manifest".into()),
        ("manifest", value_to_js(manifest)),
        ("bytes", Uint8Array::from(bytes).into()),
    ])
}

pub(super) fn entry_event(path: String, kind: PackEntryKind) -> JsValue {
    let [kind_type, size, executable] = kind_fields(&kind);
    let mut pairs = vec![("kind", "entry".into()), ("path", path.into()), kind_type, size, executable];
    if let PackEntryKind::Symlink { target } = kind {
        pairs.push(("target", target.into()));
    }
    object(&pairs)
}

pub(super) fn data_event(bytes: &[u8]) -> JsValue {
    object(&[("kind", "data".into()), ("bytes", Uint8Array::from(bytes).into())])
}

pub(super) fn end_event() -> JsValue {
    object(&[("kind", "end".into())])
}

/// `uri, files, bytes, compressedBytes`.
pub(super) fn summary_fields(
    uri: &CtxUri,
    files: u64,
    bytes: u64,
    compressed_bytes: u64,
) -> Vec<(&'static str, JsValue)> {
    vec![
        ("uri", uri.to_string().into()),
        ("files", number(files)),
        ("bytes", number(bytes)),
        ("compressedBytes", number(compressed_bytes)),
    ]
}

/// The host's `crc32(data, value)` as the gzip reader's CRC: given a view of the inflated bytes in wasm memory,
/// valid while it runs (it cannot call back into the core, so nothing moves that memory meanwhile).
fn host_crc(crc32: Function) -> archive::HostCrc {
    Box::new(move |running, bytes| {
        let view = unsafe { Uint8Array::view(bytes) };
        let answer = crc32.call2(&JsValue::NULL, &view, &JsValue::from(running));
        answer
            .ok()
            .and_then(|value| value.as_f64())
            .filter(|value| value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(value))
            .map(|value| value as u32)
            .ok_or_else(|| {
                Error::new(ErrorCode::InvalidState, "the host's crc32 failed or did not return a CRC-32").at("crc32")
            })
    })
}

#[wasm_bindgen(js_name = PackReader)]
pub struct PackReaderJs {
    reader: archive::PackReader,
    /// The verified manifest.json, kept here (not copied into the event) until the host asks for it.
    manifest_bytes: Option<Vec<u8>>,
    /// The piece of content `nextView()` gave last, which its view shows: kept until the next call.
    piece: Option<Vec<u8>>,
}

#[wasm_bindgen(js_class = PackReader)]
impl PackReaderJs {
    /// `options`: `{ limits?: Partial<Limits>, hashContent?: boolean, expectUri?: string, manifest?: Uint8Array,
    /// layer?: number, crc32?: (data, value) => number }`; `manifest` and `layer` together verify one layer of
    /// that pack.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "PackReaderOptions | null")] options: JsValue,
    ) -> JsResult<PackReaderJs> {
        let build = || -> Result<PackReaderJs> {
            let (limits, expect_uri) = (limits_option(&options)?, expect_uri_option(&options)?);
            let hash_content = bool_option(&options, "hashContent", true)?;
            let crc32 = function_option(&options, "crc32")?;
            let reader_options = ReaderOptions { limits, hash_content, expect_uri };
            let manifest = field(&options, "manifest");
            match (manifest.dyn_ref::<Uint8Array>(), layer_option(&options)?) {
                (Some(bytes), Some(layer)) => archive::PackReader::layer(&bytes.to_vec(), layer, reader_options),
                (None, None) if manifest.is_undefined() || manifest.is_null() => {
                    Ok(archive::PackReader::new(reader_options))
                }
                _ => Err(Error::new(
                    ErrorCode::InvalidState,
                    "to read one layer, give both manifest (the manifest.json bytes) and layer",
                )
                .at("manifest")),
            }
            .map(|mut reader| {
                if let Some(crc32) = crc32 {
                    reader.use_host_crc(host_crc(crc32));
                }
                PackReaderJs { reader, manifest_bytes: None, piece: None }
            })
        };
        build().map_err(to_js_error)
    }

    #[wasm_bindgen(js_name = wantsInput)]
    pub fn wants_input(&self) -> bool {
        self.reader.wants_input()
    }

    pub fn push(&mut self, chunk: &[u8]) -> JsResult<()> {
        self.reader.push(chunk).map_err(to_js_error)
    }

    /// The next event as a plain object, or `undefined` when more input is needed. The manifest event
    /// carries only the verified manifest's URI: a manifest may hold a million entries, so its bytes are
    /// copied out only when the host asks (`manifestBytes()`).
    #[allow(clippy::should_implement_trait)]
    #[wasm_bindgen(unchecked_return_type = "ReaderEvent | undefined")]
    pub fn next(&mut self) -> JsResult<JsValue> {
        let event = self.reader.next().map_err(to_js_error)?;
        Ok(self.event_to_js(event))
    }

    /// `next()`, but a piece of content is given as a view of the core's memory, `{ kind: "data", bytes }`,
    /// valid until the next call to this reader: a host that uses each piece at once (hashes it, writes it)
    /// copies nothing and leaves no buffer per piece for the collector, which otherwise holds tens of MiB of
    /// them per thread between collections. The view is made last, so nothing in the core allocates (and may
    /// move its memory) before the host has it.
    #[wasm_bindgen(js_name = nextView, unchecked_return_type = "ReaderEvent | undefined")]
    pub fn next_view(&mut self) -> JsResult<JsValue> {
        self.piece = None;
        match self.reader.next().map_err(to_js_error)? {
            Some(Event::Data(bytes)) => {
                let event = object(&[("kind", "data".into())]);
                let piece = self.piece.insert(bytes);
                let view = unsafe { Uint8Array::view(piece) };
                Reflect::set(&event, &"bytes".into(), &view)?;
                Ok(event)
            }
            event => Ok(self.event_to_js(event)),
        }
    }

    #[wasm_bindgen(js_name = entryDigest)]
    pub fn entry_digest(&mut self, digest: &str) -> JsResult<()> {
        let digest = Digest::parse(digest).map_err(to_js_error)?;
        self.reader.entry_digest(digest).map_err(to_js_error)
    }

    /// The verified manifest.json (its JSON text), once the manifest event has been seen; `undefined` before,
    /// and when reading one layer (the host gave the manifest).
    #[wasm_bindgen(js_name = manifestBytes, unchecked_return_type = "Uint8Array | undefined")]
    pub fn manifest_bytes(&self) -> JsValue {
        self.manifest_bytes.as_deref().map_or(JsValue::UNDEFINED, |bytes| Uint8Array::from(bytes).into())
    }

    /// `{ uri, files, bytes, compressedBytes }` once the whole pack has been read and verified.
    #[wasm_bindgen(unchecked_return_type = "PackReaderSummary")]
    pub fn finish(&mut self) -> JsResult<JsValue> {
        let summary = self.reader.finish().map_err(to_js_error)?;
        Ok(object(&summary_fields(&summary.uri, summary.files, summary.bytes, summary.compressed_bytes)))
    }
}

impl PackReaderJs {
    /// A reader event as the plain object `next()` gives.
    fn event_to_js(&mut self, event: Option<Event>) -> JsValue {
        match event {
            None => JsValue::UNDEFINED,
            Some(Event::Manifest { manifest, bytes }) => {
                self.manifest_bytes = Some(bytes);
                object(&[("kind", "manifest".into()), ("uri", manifest.uri.to_string().into())])
            }
            Some(Event::Entry { path, kind }) => entry_event(path, kind),
            Some(Event::Data(bytes)) => data_event(&bytes),
            Some(Event::End) => end_event(),
        }
    }
}

/// `{ layers: [{ index, start, entries, bytes }] }`: the layers of the pack with this manifest (spec §7.3),
/// `start` and `entries` locating each group in the manifest's entries. The manifest is verified first.
#[wasm_bindgen(js_name = packLayout, unchecked_return_type = "PackLayout")]
pub fn pack_layout(#[wasm_bindgen(js_name = manifestBytes)] manifest_bytes: &[u8]) -> JsResult<JsValue> {
    let manifest = PackManifest::parse(manifest_bytes).map_err(to_js_error)?;
    let layers: Array = archive::partition(manifest.outputs.entries())
        .iter()
        .enumerate()
        .map(|(index, group)| {
            object(&[
                ("index", number(index as u64)),
                ("start", number(group.entries.start as u64)),
                ("entries", number(group.entries.len() as u64)),
                ("bytes", number(group.bytes)),
            ])
        })
        .collect();
    Ok(object(&[("layers", layers.into())]))
}

/// `options.limits`: a partial `Limits`, the defaults filling the rest.
pub(super) fn limits_option(options: &JsValue) -> Result<Limits> {
    let limits = field(options, "limits");
    let defaults = Limits::default();
    let limit = |key: &str, default: u64| integer_option(&limits, key).map(|v| v.unwrap_or(default));
    Ok(Limits {
        max_manifest_bytes: limit("maxManifestBytes", defaults.max_manifest_bytes)?,
        max_provenance_bytes: limit("maxProvenanceBytes", defaults.max_provenance_bytes)?,
        max_entry_bytes: limit("maxEntryBytes", defaults.max_entry_bytes)?,
        max_total_bytes: limit("maxTotalBytes", defaults.max_total_bytes)?,
        max_entries: limit("maxEntries", defaults.max_entries)?,
        max_ratio: limit("maxRatio", defaults.max_ratio)?,
    })
}

/// `options.expectUri`: an optional ctx:// URI.
pub(super) fn expect_uri_option(options: &JsValue) -> Result<Option<CtxUri>> {
    let expect_uri = field(options, "expectUri");
    match expect_uri.as_string() {
        Some(uri) => Ok(Some(CtxUri::parse(&uri)?)),
        None if expect_uri.is_undefined() || expect_uri.is_null() => Ok(None),
        None => Err(Error::new(ErrorCode::JsonInvalid, "must be a ctx:// URI string").at("expectUri")),
    }
}

pub(super) fn layer_option(options: &JsValue) -> Result<Option<usize>> {
    Ok(integer_option(options, "layer")?.map(|layer| usize::try_from(layer).unwrap_or(usize::MAX)))
}
