//! One-call operations, the same in Node, browsers and workerd: the host hands over a source and gets a
//! verified answer, with no stream pump or event loop of its own to write.

use super::archive::{expect_uri_option, limits_option, summary_fields};
use super::chunks::Chunks;
use super::{field, object, to_js_error, value_to_js};
use crate::archive::{PackReader, ReaderOptions};
use crate::error::Result;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

/// How often (in compressed bytes read) `onProgress` is told.
const PROGRESS_EVERY: u64 = 4 * 1024 * 1024;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
export interface VerifyPackOptions {
  /** The URI the pack must have (CTX_URI_MISMATCH otherwise). */
  expectUri?: string | null;
  limits?: Partial<Limits> | null;
  /** Told every 4 MiB of compressed bytes read. */
  onProgress?: ((progress: { bytes: number }) => void) | null;
}
"#;

/// `verifyPack(source, { expectUri?, limits?, onProgress? })` → `Promise<{ uri, manifest, files, bytes,
/// compressedBytes }>`: reads a whole pack (a `Uint8Array`, a `Response`, a `ReadableStream<Uint8Array>` or an
/// async iterable of chunks) and checks everything: manifest, URI re-derived from the contract, every file's size
/// and digest, the tree digest, nothing missing or extra. Rejects with a `CtxpackError` at the first problem.
#[wasm_bindgen(js_name = verifyPack, unchecked_return_type = "Promise<PackSummary>")]
pub fn verify_pack(
    #[wasm_bindgen(unchecked_param_type = "ByteSource")] source: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "VerifyPackOptions | null")] options: JsValue,
) -> Promise {
    future_to_promise(async move {
        let reader_options = || -> Result<ReaderOptions> {
            Ok(ReaderOptions {
                limits: limits_option(&options)?,
                hash_content: true,
                expect_uri: expect_uri_option(&options)?,
            })
        };
        let reader = PackReader::new(reader_options().map_err(to_js_error)?);
        let on_progress = field(&options, "onProgress").dyn_into::<Function>().ok();
        let chunks = Chunks::from_js(&source).map_err(to_js_error)?;
        verify_stream(reader, chunks, on_progress.as_ref()).await
    })
}

async fn verify_stream(
    mut reader: PackReader,
    mut chunks: Chunks,
    on_progress: Option<&Function>,
) -> std::result::Result<JsValue, JsValue> {
    let mut read = 0u64;
    let mut told = 0u64;
    while let Some(piece) = chunks.next().await? {
        read += piece.len() as u64;
        if let Err(error) = feed(&mut reader, &piece) {
            chunks.cancel().await;
            return Err(to_js_error(error));
        }
        if let Some(on_progress) = on_progress.filter(|_| read - told >= PROGRESS_EVERY) {
            told = read;
            let _ = on_progress.call1(&JsValue::NULL, &object(&[("bytes", (read as f64).into())]));
        }
    }
    let summary = reader.finish().map_err(to_js_error)?;
    let mut fields = summary_fields(&summary.uri, summary.files, summary.bytes, summary.compressed_bytes);
    fields.push(("manifest", value_to_js(&summary.manifest.to_value())));
    Ok(object(&fields))
}

/// Pushes one piece and drains every event it makes (content is hashed inside the reader).
fn feed(reader: &mut PackReader, piece: &[u8]) -> Result<()> {
    reader.push(piece)?;
    while reader.next()?.is_some() {}
    Ok(())
}
