//! The error table for JavaScript: `errorCodes()`, and the default hints of the `CtxpackError` class, which asks
//! for them the first time an error comes without a hint, so that a host error gets the core's.

use super::object;
use crate::error::ErrorCode;
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/interop/ctxpack_error.js")]
extern "C" {
    #[wasm_bindgen(js_name = setDefaultHintsSource)]
    fn set_default_hints_source(source: &Function);
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

/// Runs when the module is instantiated. The table is built only when an error first needs a hint: building it
/// at instantiation cost every process ~1 ms (58 objects made across the boundary, and their code compiled), most
/// of it for commands that never fail. The closure lives as long as the instance.
#[wasm_bindgen(start, private)]
fn give_the_error_class_its_hints() {
    let source = Closure::<dyn Fn() -> Array>::new(error_codes);
    set_default_hints_source(source.as_ref().unchecked_ref());
    source.forget();
}
