//! The error table for JavaScript: `errorCodes()`, and the default hints of the `CtxpackError` class, handed to
//! it when the module is instantiated so that a host error without a hint gets the core's.

use super::object;
use crate::error::ErrorCode;
use js_sys::Array;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/interop/ctxpack_error.js")]
extern "C" {
    #[wasm_bindgen(js_name = setDefaultHints)]
    fn set_default_hints(table: &Array);
}

#[wasm_bindgen(typescript_custom_section)]
const ERROR_CODE_TYPE: &str = crate::error::ERROR_CODE_TS;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** One code of the error table, and the next step it suggests when the thrower gives none. */
export interface ErrorCodeInfo {
  code: ErrorCode;
  hint: string;
}
"#;

/// Every `CTX_…` code the core and its hosts raise, with its default hint (the table in src/error.rs).
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "ErrorCodeInfo[]")]
pub fn error_codes() -> Array {
    ErrorCode::ALL
        .iter()
        .map(|code| object(&[("code", code.as_str().into()), ("hint", code.default_hint().into())]))
        .collect()
}

#[wasm_bindgen(start, private)]
fn give_the_error_class_its_hints() {
    set_default_hints(&error_codes());
}
