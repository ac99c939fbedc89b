//! RFC 8785 JSON Canonicalization Scheme: the one byte form every identity is hashed over.
//!
//! Parsing is strict where JCS needs it to be: duplicate keys and numbers that an IEEE-754 double cannot
//! hold exactly are errors instead of silently changing what gets hashed.

use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// The largest integer magnitude a double holds exactly (2^53).
const MAX_EXACT_INT: u64 = 1 << 53;

/// Parses JSON text, rejecting duplicate keys and integers beyond ±2^53.
pub fn parse(text: &[u8]) -> Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let value = StrictValue.deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(json_error)?;
    Ok(value)
}

fn json_error(e: serde_json::Error) -> Error {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix(DUPLICATE_KEY) {
        return Error::new(ErrorCode::JsonDuplicateKey, format!("duplicate key {rest}"));
    }
    if let Some(rest) = text.strip_prefix(UNREPRESENTABLE) {
        return Error::new(ErrorCode::JsonNumberUnrepresentable, format!("number {rest}"));
    }
    Error::new(ErrorCode::JsonInvalid, text)
}

const DUPLICATE_KEY: &str = "ctxpack-duplicate-key ";
const UNREPRESENTABLE: &str = "ctxpack-unrepresentable ";

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
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Value, E> {
        if v.unsigned_abs() <= MAX_EXACT_INT {
            return Ok(Value::Number(v.into()));
        }
        exact_double(v as i128, v as f64).map(Value::Number).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Value, E> {
        if v <= MAX_EXACT_INT {
            return Ok(Value::Number(v.into()));
        }
        exact_double(v as i128, v as f64).map(Value::Number).map_err(E::custom)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom(format!("{UNREPRESENTABLE}{v} is not finite")))
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

/// An integer beyond ±2^53 is kept (as the double it equals) only when a double holds it exactly, so
/// `1e18` written out in full is accepted and `9007199254740993` is not.
fn exact_double(int: i128, double: f64) -> std::result::Result<Number, String> {
    if double as i128 == int {
        Ok(Number::from_f64(double).expect("a converted integer is finite"))
    } else {
        Err(format!("{UNREPRESENTABLE}{int} has no exact IEEE-754 double"))
    }
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

fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<()> {
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

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

fn write_number(n: &Number, out: &mut Vec<u8>) -> Result<()> {
    let int = n.as_u64().map(i128::from).or_else(|| n.as_i64().map(i128::from));
    if let Some(int) = int {
        let double = exact_double(int, int as f64).map_err(|why| {
            Error::new(ErrorCode::JsonNumberUnrepresentable, why.trim_start_matches(UNREPRESENTABLE).to_string())
        })?;
        if int.unsigned_abs() <= u128::from(MAX_EXACT_INT) {
            out.extend_from_slice(int.to_string().as_bytes());
        } else {
            out.extend_from_slice(es_number(double.as_f64().expect("exact_double returns a double")).as_bytes());
        }
    } else {
        let f = n.as_f64().expect("a serde_json number is u64, i64 or f64");
        out.extend_from_slice(es_number(f).as_bytes());
    }
    Ok(())
}

/// ECMAScript `Number.prototype.toString` for a finite double, as RFC 8785 §3.2.2.3 requires.
fn es_number(f: f64) -> String {
    if f == 0.0 {
        return "0".into(); // also -0
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, the same digits ECMAScript picks.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let shortest: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let digits = even_on_tie(f.abs(), shortest, exp);
    let k = digits.len() as i32;
    let n = exp + 1;
    let mut s = String::new();
    if f < 0.0 {
        s.push('-');
    }
    if k <= n && n <= 21 {
        s.push_str(&digits);
        s.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        s.push_str(&digits[..n as usize]);
        s.push('.');
        s.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        s.push_str("0.");
        s.extend(std::iter::repeat_n('0', (-n) as usize));
        s.push_str(&digits);
    } else {
        s.push_str(&digits[..1]);
        if k > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('e');
        s.push(if n > 0 { '+' } else { '-' });
        s.push_str(&(n - 1).abs().to_string());
    }
    s
}

/// When the exact value lies halfway between two shortest candidates, ECMAScript takes the one whose last
/// digit is even; Rust's formatter rounds such ties up. `f` is positive; `digits` × 10^(exp−k+1) ≈ f.
fn even_on_tie(f: f64, digits: String, exp: i32) -> String {
    let last = digits.as_bytes()[digits.len() - 1] - b'0';
    if last % 2 == 0 {
        return digits;
    }
    // The exact decimal expansion of a double has at most 767 significant digits.
    let exact = format!("{f:.800e}");
    let (mantissa, exact_exp) = exact.split_once('e').expect("`{:e}` always has an exponent");
    let exact_digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exact_digits = exact_digits.trim_end_matches('0');
    let is_tie =
        exact_exp.parse::<i32>() == Ok(exp) && exact_digits.len() == digits.len() + 1 && exact_digits.ends_with('5');
    if !is_tie {
        return digits;
    }
    // Rust rounded up, so the even candidate is the truncation, provided it still reads back as `f`.
    let below = &exact_digits[..digits.len()];
    let round_trips = format!("{}.{}e{exp}", &below[..1], &below[1..]).parse::<f64>() == Ok(f);
    if below != digits && round_trips {
        below.to_string()
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jcs(text: &str) -> String {
        String::from_utf8(canonicalize(&parse(text.as_bytes()).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn rfc8785_main_example() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        assert_eq!(
            jcs(input),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn rfc8785_number_vectors() {
        let cases: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for &(bits, want) in cases {
            assert_eq!(es_number(f64::from_bits(bits)), want, "{bits:#018x}");
        }
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
    fn unrepresentable_integers_are_rejected() {
        for text in ["9007199254740993", "-9007199254740993", "[18446744073709551615]"] {
            assert_eq!(parse(text.as_bytes()).unwrap_err().code, ErrorCode::JsonNumberUnrepresentable, "{text}");
        }
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
