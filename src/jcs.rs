//! RFC 8785 JSON Canonicalization Scheme: the one byte form every identity is hashed over.
//!
//! Parsing is strict where JCS needs it to be: duplicate keys and numbers whose canonical form is not the
//! number written (see [`number`]) are errors instead of silently changing what gets hashed.

mod number;

use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

use number::es_number;

/// The largest integer magnitude a double holds exactly (2^53).
const MAX_EXACT_INT: u64 = 1 << 53;

/// Parses JSON text, rejecting duplicate keys and numbers that would be hashed as another number.
pub fn parse(text: &[u8]) -> Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let value = StrictValue.deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(json_error)?;
    check_numbers(text)?;
    Ok(value)
}

/// Every number of `text` (valid JSON) is one whose canonical form has the value written
/// (`CTX_JSON_NUMBER_UNREPRESENTABLE` otherwise). For documents parsed by other means than [`parse`].
pub fn check_numbers(text: &[u8]) -> Result<()> {
    number::literals(text).try_for_each(check_number)
}

/// One number literal (JSON syntax, or a YAML decimal: a `+` sign, `.5` and `1.` are allowed too).
pub fn check_number(literal: &str) -> Result<()> {
    match number::unrepresentable(literal) {
        None => Ok(()),
        Some(why) => Err(unrepresentable(why)),
    }
}

fn unrepresentable(why: String) -> Error {
    Error::new(ErrorCode::JsonNumberUnrepresentable, why)
}

fn json_error(e: serde_json::Error) -> Error {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix(DUPLICATE_KEY) {
        return Error::new(ErrorCode::JsonDuplicateKey, format!("duplicate key {rest}"));
    }
    if text.starts_with("number out of range") {
        return unrepresentable(format!("{text}: a double holds at most 1.7976931348623157e+308"));
    }
    Error::new(ErrorCode::JsonInvalid, text)
}

const DUPLICATE_KEY: &str = "ctxpack-duplicate-key ";

struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    // An integer beyond ±2^53 becomes the double nearest to it; check_numbers then refuses it unless that
    // double's canonical form has the value written.
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::Number(if v.unsigned_abs() <= MAX_EXACT_INT { v.into() } else { double(v as f64) }))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::Number(if v <= MAX_EXACT_INT { v.into() } else { double(v as f64) }))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        // serde_json reports a number beyond the largest double as "number out of range" before this.
        Ok(Value::Number(double(v)))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(StrictValue)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE_KEY}{key:?}")));
            }
            let v = map.next_value_seed(StrictValue)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

fn double(v: f64) -> Number {
    Number::from_f64(v).expect("parsed numbers are finite")
}

/// The RFC 8785 canonical form of `value`.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out)?;
    Ok(out)
}

/// `sha256(JCS(value))`: how every ctxpack identity is computed.
pub fn digest(value: &Value) -> Result<Digest> {
    Ok(Digest::of(&canonicalize(value)?))
}

/// Appends the canonical form of `value` (for documents written piece by piece).
pub(crate) fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // RFC 8785 §3.2.3: keys sorted by their UTF-16 code units, not by UTF-8 bytes.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(&map[key], out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the canonical form of a string.
pub(crate) fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    // The bytes to escape are all ASCII, so the runs between them are whole UTF-8 sequences, copied as they are.
    let bytes = s.as_bytes();
    let mut run = 0;
    loop {
        let at = next_escape(bytes, run);
        out.extend_from_slice(&bytes[run..at]);
        let Some(&b) = bytes.get(at) else { break };
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            _ => &[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]],
        };
        out.extend_from_slice(escape);
        run = at + 1;
    }
    out.push(b'"');
}

/// The first byte from `at` on that a JSON string escapes (a control character, `"` or `\\`), or the length.
/// Eight bytes at a time: texts are long and their escapes (line breaks, quotes) tens of bytes apart.
fn next_escape(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte that is zero; only the lowest is exact (a borrow can set the ones above it).
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    while let Some(word) = bytes.get(at..at + 8) {
        let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let found = (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
            | zero(w ^ (ONES * u64::from(b'"')))
            | zero(w ^ (ONES * u64::from(b'\\')));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + bytes[at..].iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\').unwrap_or(bytes.len() - at)
}

fn write_number(n: &Number, out: &mut Vec<u8>) -> Result<()> {
    // Integers built in code (not parsed) beyond ±2^53 are written as the double they equal, if one does.
    let int = n.as_u64().map(i128::from).or_else(|| n.as_i64().map(i128::from));
    if let Some(int) = int {
        if int.unsigned_abs() <= u128::from(MAX_EXACT_INT) {
            out.extend_from_slice(int.to_string().as_bytes());
        } else if (int as f64) as i128 == int {
            out.extend_from_slice(es_number(int as f64).as_bytes());
        } else {
            return Err(unrepresentable(format!("number {int} has no exact double")));
        }
    } else {
        let f = n.as_f64().expect("a serde_json number is u64, i64 or f64");
        out.extend_from_slice(es_number(f).as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jcs(text: &str) -> String {
        String::from_utf8(canonicalize(&parse(text.as_bytes()).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn rfc8785_main_example() {
        // The RFC writes 333333333.33333329, which is refused here: its double prints as 333333333.3333333.
        let input = r#"{
          "numbers": [333333333.3333333, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        assert_eq!(
            jcs(input),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16 although after it in UTF-8.
        assert_eq!(jcs(r#"{"\ufb33":1,"😀":2,"a":3,"A":4}"#), "{\"A\":4,\"a\":3,\"😀\":2,\"\u{fb33}\":1}");
    }

    #[test]
    fn strings_keep_non_ascii_and_escape_controls() {
        assert_eq!(jcs(r#"["café ☕ 😀","\u007f","\u001f","<&>"]"#), "[\"café ☕ 😀\",\"\u{7f}\",\"\\u001f\",\"<&>\"]");
    }

    #[test]
    fn every_byte_to_escape_is_found_wherever_it_stands() {
        // serde_json escapes the same bytes the same way (it has no `/` or non-ASCII escapes either).
        for special in ["\"", "\\", "\n", "\u{0}", "\u{1f}", "\u{8}", "\u{c}", "\r", "\t"] {
            for at in 0..20 {
                for tail in [0, 1, 9] {
                    let text = format!("{}{special}{}é\u{7f}", "a".repeat(at), "~".repeat(tail));
                    let mut out = Vec::new();
                    write_string(&text, &mut out);
                    assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&text).unwrap(), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn integers_and_floats() {
        assert_eq!(
            jcs("[1.0, -0.0, 1e2, 100, -7, 9007199254740992, 1.5e-7]"),
            "[1,0,100,100,-7,9007199254740992,1.5e-7]"
        );
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let e = parse(br#"{"a":1,"b":{"c":1,"c":2}}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::JsonDuplicateKey);
        assert!(e.message.contains("\"c\""), "{}", e.message);
    }

    #[test]
    fn large_integers_that_a_double_holds_exactly_are_kept() {
        assert_eq!(
            jcs("[1e18, 1000000000000000000, 100000000000000000000, -1e17]"),
            "[1000000000000000000,1000000000000000000,100000000000000000000,-100000000000000000]"
        );
        // Canonical output always parses back to itself.
        let once = jcs("[1e18, 1e20, 1e21, 123456789e10]");
        assert_eq!(jcs(&once), once);
        let big = serde_json::json!([u64::MAX]);
        assert_eq!(canonicalize(&big).unwrap_err().code, ErrorCode::JsonNumberUnrepresentable);
    }

    #[test]
    fn numbers_that_would_be_hashed_as_another_number_are_rejected() {
        for text in [
            "9007199254740993",
            "-9007199254740993",
            "[18446744073709551615]",
            r#"{"n":18446744073709551616}"#,
            r#"{"n":18446744073709551617}"#,
            r#"{"n":1e-400}"#,
            r#"{"n":1e400}"#,
            r#"{"n":-1e400}"#,
            "[0.30000000000000001]",
            r#"{"deep":[{"x":["1 2",{"y":333333333.33333329}]}]}"#,
        ] {
            let e = parse(text.as_bytes()).unwrap_err();
            assert_eq!(e.code, ErrorCode::JsonNumberUnrepresentable, "{text}: {e}");
        }
        let e = parse(br#"{"n":18446744073709551617}"#).unwrap_err();
        assert!(e.message.contains("hashed as 18446744073709552000"), "{}", e.message);
        // Numbers inside strings are text, not numbers.
        assert_eq!(jcs(r#"["1e-400","18446744073709551617"]"#), r#"["1e-400","18446744073709551617"]"#);
    }

    #[test]
    fn malformed_json_is_rejected() {
        for text in ["", "{", "{\"a\":1}x", "[1,]", "\"\\ud800\"", "NaN"] {
            assert_eq!(parse(text.as_bytes()).unwrap_err().code, ErrorCode::JsonInvalid, "{text:?}");
        }
    }

    #[test]
    fn digest_of_empty_object() {
        // sha256("{}"), also the OCI empty-config digest.
        assert_eq!(
            digest(&serde_json::json!({})).unwrap().hex(),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
