//! `FileSeek` for JavaScript: one file of a stored pack read through its layer's block index, for hosts that hold
//! the layer blob themselves (the Node pantry). Conversion only; the core decides (`archive::seek`).

use super::{object, to_js_error, value_from_js};
use crate::archive::{file_span, FileInflater, FileSpan, SeekPlan};
use crate::error::{Error, ErrorCode, Result};
use crate::manifest::PackManifest;
use crate::oci::{block_index, Descriptor};
use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type JsResult<T> = std::result::Result<T, JsValue>;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A file of a stored pack, and the layer that holds it. */
export interface SeekFile {
  path: string;
  size: number;
  digest: string;
  layer: number;
}

/** Bytes of a layer blob, [start, end). */
export interface ByteRange {
  start: number;
  end: number;
}
"#;

#[wasm_bindgen]
pub struct FileSeek {
    span: FileSpan,
    plan: Option<SeekPlan>,
    fallback: Option<String>,
    inflater: Option<FileInflater>,
}

#[wasm_bindgen]
impl FileSeek {
    /// `(manifestBytes, layers, path)`: the pack's verified `manifest.json`, its layer descriptors in layout order
    /// (with their `dev.ctxpack.blocks` annotations) and a path of its outputs (symlinks inside it followed).
    /// `CTX_NOT_FOUND` when the pack has no such file.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = manifestBytes)] manifest_bytes: &[u8],
        #[wasm_bindgen(unchecked_param_type = "Descriptor[]")] layers: JsValue,
        path: String,
    ) -> JsResult<FileSeek> {
        let build = || -> Result<FileSeek> {
            let manifest = PackManifest::parse(manifest_bytes)?;
            let span = file_span(&manifest, manifest_bytes.len() as u64, &path)?;
            let layers = layers
                .dyn_into::<Array>()
                .map_err(|_| Error::new(ErrorCode::JsonInvalid, "must be an array of descriptors").at("layers"))?;
            let at = format!("layers[{}]", span.layer);
            let layer = Descriptor::from_value(&value_from_js(&layers.get(span.layer as u32), &at)?, &at)?;
            let (plan, fallback) = match block_index(&layer).map(|index| SeekPlan::new(span.clone(), index, layer.size))
            {
                None => (None, None),
                Some(Ok(plan)) => (Some(plan), None),
                Some(Err(error)) => (None, Some(error.message)),
            };
            let inflater = plan.as_ref().map(FileInflater::new);
            Ok(FileSeek { span, plan, fallback, inflater })
        };
        build().map_err(to_js_error)
    }

    /// `{ path, size, digest, layer }`: the file (a symlink's target) and the layer holding it.
    #[wasm_bindgen(getter, unchecked_return_type = "SeekFile")]
    pub fn file(&self) -> JsValue {
        object(&[
            ("path", self.span.path.clone().into()),
            ("size", (self.span.size as f64).into()),
            ("digest", self.span.digest.to_string().into()),
            ("layer", (self.span.layer as f64).into()),
        ])
    }

    /// `{ start, end }`: the bytes of the layer blob to read and `push`, in order; `undefined` when the layer has
    /// no usable block index (read the layer from its start with a `PackReader` instead).
    #[wasm_bindgen(getter, unchecked_return_type = "ByteRange | undefined")]
    pub fn range(&self) -> JsValue {
        self.plan.as_ref().map_or(JsValue::UNDEFINED, |plan| {
            object(&[("start", (plan.range.start as f64).into()), ("end", (plan.range.end as f64).into())])
        })
    }

    /// Why a layer's block index cannot be used (malformed, or not fitting the layer); `undefined` otherwise.
    #[wasm_bindgen(getter)]
    pub fn fallback(&self) -> Option<String> {
        self.fallback.clone()
    }

    /// Inflates bytes of the range and returns the file's bytes among them (not verified before `finish`).
    pub fn push(&mut self, chunk: &[u8]) -> JsResult<Vec<u8>> {
        let mut out = Vec::new();
        self.inflater_mut()?.push(chunk, &mut out).map_err(to_js_error)?;
        Ok(out)
    }

    /// True once every byte of the file came out: the rest of the range is not needed.
    pub fn done(&self) -> bool {
        self.inflater.as_ref().is_some_and(FileInflater::is_complete)
    }

    /// Checks the file against the manifest's size and digest (`CTX_TRUNCATED`, `CTX_DIGEST_MISMATCH`, …).
    pub fn finish(&mut self) -> JsResult<()> {
        self.inflater_mut()?;
        self.inflater.take().expect("checked").finish().map_err(to_js_error)
    }

    fn inflater_mut(&mut self) -> JsResult<&mut FileInflater> {
        self.inflater.as_mut().ok_or_else(|| {
            let message = if self.plan.is_some() {
                "the file was finished already"
            } else {
                "the layer has no usable block index"
            };
            to_js_error(Error::new(ErrorCode::InvalidState, message))
        })
    }
}
