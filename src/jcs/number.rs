//! Numbers in canonical JSON: how a double is written (ECMAScript `Number.prototype.toString`, as RFC 8785
//! requires) and which written numbers are accepted.
//!
//! The rule (docs/spec.md §2): a number is accepted only when its decimal value equals the decimal value of
//! the canonical form of the double nearest to it. Then what was written is what gets hashed (`4.50` and
//! `4.5` are one number, `2^64 + 1`, `1e-400` and `0.30000000000000001` are refused instead of silently
//! becoming `18446744073709552000`, `0` and `0.3`), no two accepted values share a canonical form, and every
//! canonical form is itself accepted.

/// A decimal value as `0.<digits> × 10^point`: `digits` has no leading or trailing zeros, and is empty for
/// zero (whatever its sign or exponent).
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    digits: String,
    point: i64,
}

/// Significant digits up to which any decimal in the normal range of doubles survives the round trip through
/// the nearest double (DBL_DIG).
const ROUND_TRIP_DIGITS: usize = 15;
/// Decimal exponents (`point`) safely inside the normal range of doubles (about 2.2e-308 to 1.8e308).
const NORMAL_POINTS: std::ops::Range<i64> = -300..300;

/// Why `literal` (a JSON number, or a YAML decimal: optional sign, digits with an optional `.`, optional
/// exponent) is not accepted, or None when it is. `literal` must already have that syntax.
pub fn unrepresentable(literal: &str) -> Option<String> {
    let written = decimal_of_literal(literal);
    if written.digits.is_empty()
        || (written.digits.len() <= ROUND_TRIP_DIGITS && NORMAL_POINTS.contains(&written.point))
    {
        return None;
    }
    let shown = abbreviated(literal);
    let double: f64 = match literal.strip_prefix('+').unwrap_or(literal).parse() {
        Ok(double) => double,
        Err(_) => return Some(format!("number {shown} is not a decimal number")),
    };
    if !double.is_finite() {
        return Some(format!("number {shown} is too large for a double (the largest is 1.7976931348623157e+308)"));
    }
    if double == 0.0 {
        return Some(format!("number {shown} is too small for a double: it would be hashed as 0"));
    }
    let (digits, n) = shortest(double.abs());
    if digits == written.digits && i64::from(n) == written.point {
        return None;
    }
    Some(format!("number {shown} has no exact double: it would be hashed as {}", es_number(double)))
}

/// The number as the message shows it: long literals are cut, so a hostile document cannot fill the error.
fn abbreviated(literal: &str) -> String {
    const SHOWN: usize = 40;
    if literal.len() <= SHOWN {
        return literal.to_string();
    }
    format!("{}… ({} characters)", &literal[..SHOWN], literal.len())
}

fn decimal_of_literal(literal: &str) -> Decimal {
    let unsigned = literal.trim_start_matches(['-', '+']);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], &unsigned[at + 1..]),
        None => (unsigned, ""),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let significant = whole.bytes().chain(fraction.bytes());
    let leading_zeros = significant.clone().take_while(|b| *b == b'0').count();
    let digits: String = significant.skip(leading_zeros).map(char::from).collect();
    let digits = digits.trim_end_matches('0').to_string();
    if digits.is_empty() {
        return Decimal { digits, point: 0 };
    }
    let point = (whole.len() as i64 - leading_zeros as i64).saturating_add(saturating_exponent(exponent));
    Decimal { digits, point }
}

/// The exponent's value, saturated far beyond any finite, non-zero double (whose exponents fit in ±400 plus
/// the length of the written digits).
fn saturating_exponent(exponent: &str) -> i64 {
    let (negative, digits) = match exponent.as_bytes().first() {
        Some(b'-') => (true, &exponent[1..]),
        Some(b'+') => (false, &exponent[1..]),
        _ => (false, exponent),
    };
    let magnitude = digits.bytes().fold(0i64, |acc, b| acc.saturating_mul(10).saturating_add(i64::from(b - b'0')));
    let magnitude = magnitude.min(i64::MAX / 4);
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// Every number literal in valid JSON text, in order (the text must already have parsed: this only finds
/// where numbers are, outside strings).
pub fn literals(text: &[u8]) -> impl Iterator<Item = &str> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < text.len() {
            match text[at] {
                b'"' => {
                    at += 1;
                    loop {
                        at = quote_or_backslash(text, at);
                        match text.get(at) {
                            Some(b'\\') => at += 2,
                            _ => break,
                        }
                    }
                    at += 1;
                }
                b'-' | b'0'..=b'9' => {
                    let start = at;
                    while at < text.len() && matches!(text[at], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                        at += 1;
                    }
                    return Some(std::str::from_utf8(&text[start..at]).expect("number literals are ASCII"));
                }
                _ => at += 1,
            }
        }
        None
    })
}

/// The position of the first `"` or `\` at or after `at` (or the text's length). Eight bytes at a time: logs and
/// packets are mostly long strings, and this scan is most of the number check's time on them.
fn quote_or_backslash(text: &[u8], mut at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero_byte = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS != 0;
    while let Some(chunk) = text.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        if has_zero_byte(word ^ (ONES * b'"' as u64)) || has_zero_byte(word ^ (ONES * b'\\' as u64)) {
            break;
        }
        at += 8;
    }
    while at < text.len() && text[at] != b'"' && text[at] != b'\\' {
        at += 1;
    }
    at
}

/// ECMAScript `Number.prototype.toString` for a finite double, as RFC 8785 §3.2.2.3 requires.
pub fn es_number(f: f64) -> String {
    if f == 0.0 {
        return "0".into(); // also -0
    }
    let (digits, n) = shortest(f.abs());
    let k = digits.len() as i32;
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

/// The shortest digits that read back as `f` (positive, finite, non-zero), ECMAScript's choice among them,
/// and `n` such that `f ≈ 0.<digits> × 10^n`.
fn shortest(f: f64) -> (String, i32) {
    // Rust's `{:e}` gives the shortest digits that round-trip, the same digits ECMAScript picks.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().expect("exponent is an integer");
    (even_on_tie(f, digits, exp), exp + 1)
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

    /// The word-at-a-time string skip finds the same literals as a byte-at-a-time scan, on texts built from the
    /// bytes that matter (quotes, backslashes, digits) at every alignment.
    #[test]
    fn literals_match_a_bytewise_scan() {
        fn bytewise(text: &[u8]) -> Vec<String> {
            let (mut at, mut found) = (0, Vec::new());
            while at < text.len() {
                match text[at] {
                    b'"' => {
                        at += 1;
                        while at < text.len() && text[at] != b'"' {
                            at += if text[at] == b'\\' { 2 } else { 1 };
                        }
                        at += 1;
                    }
                    b'-' | b'0'..=b'9' => {
                        let start = at;
                        while at < text.len() && matches!(text[at], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                            at += 1;
                        }
                        found.push(String::from_utf8(text[start..at].to_vec()).unwrap());
                    }
                    _ => at += 1,
                }
            }
            found
        }
        let alphabet = b"\"\\1-.e ax{}:,";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let len = (state % 40) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let fast: Vec<String> = literals(&text).map(str::to_string).collect();
            assert_eq!(fast, bytewise(&text), "{:?}", String::from_utf8_lossy(&text));
        }
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
            // Every canonical form is accepted, and so reads back as itself.
            assert_eq!(unrepresentable(want), None, "{want}");
        }
    }

    #[test]
    fn decimals_normalise_to_digits_and_point() {
        let d = |digits: &str, point| Decimal { digits: digits.into(), point };
        assert_eq!(decimal_of_literal("4.50"), d("45", 1));
        assert_eq!(decimal_of_literal("-0.00120e3"), d("12", 1));
        assert_eq!(decimal_of_literal("1E30"), d("1", 31));
        assert_eq!(decimal_of_literal("100"), d("1", 3));
        assert_eq!(decimal_of_literal(".5"), d("5", 0));
        assert_eq!(decimal_of_literal("1."), d("1", 1));
        assert_eq!(decimal_of_literal("-0.0e-99999999999999999999999"), d("", 0));
        assert_eq!(decimal_of_literal("1e-99999999999999999999999").point, -(i64::MAX / 4) + 1);
    }

    #[test]
    fn what_is_written_must_be_what_is_hashed() {
        for accepted in [
            "0",
            "-0",
            "-0.0",
            "4.50",
            "1E30",
            "2e-3",
            "0.000000000000000000000000001",
            "9007199254740992",
            "1000000000000000000",
            "100000000000000000000",
            "18446744073709552000",
            "1e21",
            "5e-324",
            "1.7976931348623157e308",
            "0.1",
            "0.30000000000000004",
            "333333333.33333325",
            "123.456e3",
            "0e99999",
        ] {
            assert_eq!(unrepresentable(accepted), None, "{accepted}");
        }
        for (refused, why) in [
            ("9007199254740993", "hashed as 9007199254740992"),
            ("-9007199254740993", "hashed as -9007199254740992"),
            ("18446744073709551616", "hashed as 18446744073709552000"),
            ("18446744073709551617", "hashed as 18446744073709552000"),
            ("1e-400", "too small"),
            ("-2e-324", "too small"),
            ("1e400", "too large"),
            ("-1.8e308", "too large"),
            ("0.30000000000000001", "hashed as 0.3"),
            ("333333333.33333329", "hashed as 333333333.3333333"),
            ("3e-324", "hashed as 5e-324"),
            ("0.1000000000000000055511151231257827", "hashed as 0.1"),
        ] {
            let message = unrepresentable(refused).unwrap_or_else(|| panic!("{refused} was accepted"));
            assert!(message.contains(why), "{refused}: {message}");
        }
        let long = format!("1.{}", "0".repeat(1000) + "1");
        assert!(unrepresentable(&long).unwrap().contains("(1003 characters)"));
    }

    #[test]
    fn literals_are_found_outside_strings_only() {
        let text = br#"{"a-1":[1,-2.5e3,"3 \"4\" \\",0],"b":{"c":1e-7},"d":true,"e":null}"#;
        assert_eq!(literals(text).collect::<Vec<_>>(), ["1", "-2.5e3", "0", "1e-7"]);
        assert_eq!(literals(b"  -0  ").collect::<Vec<_>>(), ["-0"]);
    }
}
