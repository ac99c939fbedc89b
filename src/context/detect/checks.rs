//! Value checks applied to a candidate secret after its pattern matched: entropy, placeholders, checksums.

/// Shannon entropy of `value` in bits per byte. Random base62 tokens score about 5, hex about 4, words about 2.5–3.
pub fn shannon_entropy(value: &str) -> f64 {
    if value.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for byte in value.bytes() {
        counts[usize::from(byte)] += 1;
    }
    let length = value.len() as f64;
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let probability = count as f64 / length;
            -probability * probability.log2()
        })
        .sum()
}

/// Documentation and sample configs use these words in place of real credentials; a value containing one is
/// never a live secret, and flagging it would teach users to ignore findings.
pub fn looks_like_placeholder(value: &str) -> bool {
    const PLACEHOLDER_WORDS: [&str; 3] = ["example", "xxxxx", "placeholder"];
    let lowered = value.to_ascii_lowercase();
    PLACEHOLDER_WORDS.iter().any(|word| lowered.contains(word))
}

/// False for values that are names or identifiers rather than secrets, even when long enough to pass an
/// entropy floor: one letter case plus `._-` (`db-credentials`, `DB_PASSWORD`, `app.secret`), or a canonical
/// UUID (record and request ids are assigned to `*_token_id`-like names far more often than UUID credentials).
pub fn is_secret_shaped(value: &str) -> bool {
    let is_punctuation = |byte: u8| matches!(byte, b'.' | b'_' | b'-');
    let lowercase = value.bytes().all(|byte| byte.is_ascii_lowercase() || is_punctuation(byte));
    let uppercase = value.bytes().all(|byte| byte.is_ascii_uppercase() || is_punctuation(byte));
    let uuid = value.len() == 36
        && value.bytes().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        });
    !(lowercase || uppercase || uuid)
}

/// A payment card number: 13–19 digits (spaces and dashes ignored) with a valid Luhn check digit and an issuer
/// prefix that a card network actually assigns (Visa, Mastercard, Amex, Discover, JCB, Diners). The prefix test
/// keeps timestamps and other long numbers, a tenth of which pass Luhn by chance, out.
pub fn is_payment_card(value: &str) -> bool {
    let digits: Vec<u8> = value.bytes().filter(u8::is_ascii_digit).map(|byte| byte - b'0').collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let prefix = |length: usize| digits[..length].iter().fold(0u32, |number, &digit| number * 10 + u32::from(digit));
    let issued = match digits[0] {
        4 => true,
        5 => (51..=55).contains(&prefix(2)),
        2 => (2221..=2720).contains(&prefix(4)),
        3 => matches!(prefix(2), 34 | 37 | 35 | 36 | 38 | 39 | 30),
        6 => prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3)),
        _ => false,
    };
    issued && luhn_valid(&digits)
}

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            let digit = u32::from(digit);
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum % 10 == 0
}

/// An IBAN (ISO 13616): country code, two check digits, then the account; valid when the rearranged number,
/// letters as 10–35, is 1 modulo 97.
pub fn is_iban(value: &str) -> bool {
    let compact: Vec<u8> = value.bytes().filter(|byte| *byte != b' ').collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, account) = compact.split_at(4);
    let mut remainder = 0u32;
    for &byte in account.iter().chain(head) {
        let value = match byte {
            b'0'..=b'9' => u32::from(byte - b'0'),
            b'A'..=b'Z' => u32::from(byte - b'A') + 10,
            _ => return false,
        };
        remainder = if value >= 10 { (remainder * 100 + value) % 97 } else { (remainder * 10 + value) % 97 };
    }
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_orders_random_above_repetitive() {
        assert_eq!(shannon_entropy(""), 0.0);
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
        assert!(shannon_entropy("changeme") < 3.0);
        assert!(shannon_entropy("q8Zr2LmV0xWcT5kPbN7d") > 4.0);
    }

    #[test]
    fn placeholders_are_recognised() {
        assert!(looks_like_placeholder("AKIAIOSFODNN7EXAMPLE"));
        assert!(looks_like_placeholder("sk-xxxxxxxxxxxx"));
        assert!(!looks_like_placeholder("q8Zr2LmV0xWcT5kPbN7d"));
    }

    #[test]
    fn names_and_uuids_are_not_secret_shaped() {
        assert!(!is_secret_shaped("db-credentials"));
        assert!(!is_secret_shaped("DB_PASSWORD"));
        assert!(!is_secret_shaped("123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_secret_shaped("Tr0ub4dor&3x"));
    }

    #[test]
    fn payment_cards_need_luhn_and_an_issuer_prefix() {
        assert!(is_payment_card("4111 1111 1111 1111"));
        assert!(is_payment_card("5500-0000-0000-0004"));
        assert!(is_payment_card("378282246310005"));
        assert!(!is_payment_card("4111 1111 1111 1112"), "Luhn fails");
        assert!(!is_payment_card("1000000000009"), "no issuer starts with 1");
        assert!(!is_payment_card("411111111111"), "too short");
    }

    #[test]
    fn iban_checksum_is_mod_97() {
        assert!(is_iban("GB82WEST12345698765432"));
        assert!(is_iban("DE89 3704 0044 0532 0130 00"));
        assert!(!is_iban("GB82WEST12345698765433"));
        assert!(!is_iban("GB82"));
    }
}
