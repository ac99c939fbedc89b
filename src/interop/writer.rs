//! Writing packs for JavaScript: `PackWriter`, `deflateBlock` and `encodeBlockIndex` (feature `write`: hosts that
//! seed packs; the browser and edge core only reads them). Conversion only.

use super::archive::{bool_option, integer_option, kind_fields, layer_option};
use super::{object, to_js_error};
use crate::archive::{self, WriterOptions};
use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use wasm_bindgen::prelude::*;

type JsResult<T> = std::result::Result<T, JsValue>;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
export interface PackWriterOptions {
  /** Seconds since 1970 written as every entry's mtime (default 0; hosts pass SOURCE_DATE_EPOCH). */
  mtime?: number | null;
  /** Hash the content written (default true); false: the host hashes and passes each digest to endEntry. */
  hashContent?: boolean | null;
  /** Write only layer k of the pack's layout (packLayout). */
  layer?: number | null;
}

/** The next artifact a PackWriter wants, in tree order; a symlink is written by the writer itself. */
export interface PackWriterEntry {
  path: string;
  type: "file" | "symlink";
  size: number;
}
"#;

#[wasm_bindgen(js_name = PackWriter)]
pub struct PackWriterJs(archive::PackWriter);

#[wasm_bindgen(js_class = PackWriter)]
impl PackWriterJs {
    /// `options`: `{ mtime?: number, hashContent?: boolean, layer?: number }`; with `layer`, only that
    /// layer of the pack's layout (`packLayout`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = manifestBytes)] manifest_bytes: &[u8],
        #[wasm_bindgen(unchecked_optional_param_type = "PackWriterOptions | null")] options: JsValue,
    ) -> JsResult<PackWriterJs> {
        let build = || -> Result<PackWriterJs> {
            let writer_options = WriterOptions {
                mtime: integer_option(&options, "mtime")?.unwrap_or(0),
                hash_content: bool_option(&options, "hashContent", true)?,
            };
            match layer_option(&options)? {
                Some(layer) => archive::PackWriter::layer(manifest_bytes, layer, writer_options),
                None => archive::PackWriter::new(manifest_bytes, writer_options),
            }
            .map(PackWriterJs)
        };
        build().map_err(to_js_error)
    }

    /// `{ path, type, size }` of the next artifact in tree order, or `undefined` when all are written.
    #[wasm_bindgen(js_name = nextEntry, unchecked_return_type = "PackWriterEntry | undefined")]
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

    /// Gzip bytes produced and not taken yet.
    #[wasm_bindgen(js_name = outputLength)]
    pub fn output_length(&self) -> usize {
        self.0.output_len()
    }

    /// Moves up to `target.length` bytes of the output into `target` (a buffer the host reuses, so draining
    /// allocates no new array); returns how many.
    #[wasm_bindgen(js_name = takeOutputInto)]
    pub fn take_output_into(&mut self, target: &mut [u8]) -> usize {
        self.0.take_output_into(target)
    }

    /// After `finish()`: the archive's block index, the value of its layer descriptor's `dev.ctxpack.blocks`
    /// annotation (spec §10).
    #[wasm_bindgen(js_name = blockIndex)]
    pub fn block_index(&self) -> JsResult<String> {
        self.0.block_sizes().map(archive::BlockIndex::encode).map_err(to_js_error)
    }
}

/// One block of the pack's gzip profile, deflated on its own (for hosts that deflate in parallel).
#[wasm_bindgen(js_name = deflateBlock)]
pub fn deflate_block(block: &[u8], last: bool) -> Vec<u8> {
    archive::deflate_block(block, last)
}

/// The block index of a layer a host deflated itself (`deflateBlock`): the byte length of each block's output,
/// in order, the final block included.
#[wasm_bindgen(js_name = encodeBlockIndex)]
pub fn encode_block_index(sizes: Vec<f64>) -> JsResult<String> {
    let sizes = sizes
        .iter()
        .map(|&n| (n.fract() == 0.0 && n > 0.0 && n <= 9_007_199_254_740_992.0).then_some(n as u64))
        .collect::<Option<Vec<u64>>>()
        .ok_or_else(|| to_js_error(Error::new(ErrorCode::JsonInvalid, "must be positive integers").at("sizes")))?;
    Ok(archive::BlockIndex::encode(&sizes))
}
