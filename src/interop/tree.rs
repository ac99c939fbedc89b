//! The tree digest from compact entries: one call per tree, so a host with a million small files pays no
//! per-file object conversion (identity of input trees in the Node host).

use super::to_js_error;
use crate::tree::{CompactEntries, Tree};
use js_sys::{Function, Uint8Array};
use wasm_bindgen::prelude::*;

/// `paths` joined by "\0"; `kinds` 0 file, 1 executable file, 2 symlink; per entry a size and 32 digest bytes
/// (ignored for symlinks); `targets` joined by "\0", one per symlink in order. Returns the tree digest
/// ("sha256:<hex>"); the tree is normalised, sorted and validated exactly as `treeDigest` does.
#[wasm_bindgen(js_name = treeDigestCompact)]
pub fn tree_digest_compact(
    paths: &str,
    kinds: &[u8],
    sizes: &[f64],
    digests: &[u8],
    targets: &str,
) -> std::result::Result<String, JsValue> {
    let compact = CompactEntries { paths, kinds, sizes, digests, targets };
    Tree::from_compact(compact).map(|tree| tree.digest().to_string()).map_err(to_js_error)
}

/// The same tree as `treeDigestCompact`, but its canonical document (whose SHA-256 is the tree digest) is
/// handed to `sink(piece)` in pieces of about 64 KiB, for the host to hash with its own SHA-256. Each piece
/// is a view of wasm memory, valid only during that call: sound because nothing allocates in the core while
/// the host function runs. An exception `sink` throws is rethrown as is.
#[wasm_bindgen(js_name = treeDocumentCompact)]
pub fn tree_document_compact(
    paths: &str,
    kinds: &[u8],
    sizes: &[f64],
    digests: &[u8],
    targets: &str,
    #[wasm_bindgen(unchecked_param_type = "(piece: Uint8Array) => void")] sink: &Function,
) -> std::result::Result<(), JsValue> {
    let compact = CompactEntries { paths, kinds, sizes, digests, targets };
    let tree = Tree::from_compact(compact).map_err(to_js_error)?;
    let mut thrown = None;
    tree.write_document(|piece| {
        if thrown.is_none() {
            let view = unsafe { Uint8Array::view(piece) };
            thrown = sink.call1(&JsValue::NULL, &view).err();
        }
    });
    thrown.map_or(Ok(()), Err)
}
