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
/// jwt.io's example token (its payload `{"sub":"1234567890","name":"John Doe","iat":1516239022}`) is in countless
/// tutorials and tests, and never a live credential.
pub fn looks_like_placeholder(value: &str) -> bool {
    const PLACEHOLDER_WORDS: [&str; 3] = ["example", "xxxxx", "placeholder"];
    const JWT_IO_PAYLOAD: &str = "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ";
    let lowered = value.to_ascii_lowercase();
    PLACEHOLDER_WORDS.iter().any(|word| lowered.contains(word)) || value.contains(JWT_IO_PAYLOAD)
}

/// False for values that are names, references or addresses rather than secrets, even when long enough to pass
/// an entropy floor:
/// - one letter case plus `._-/` (`db-credentials`, `DB_PASSWORD`, `app.secret`, `/run/secrets/api_token`,
///   `prod/api/credentials`);
/// - a canonical UUID (record and request ids are assigned to `*_token_id`-like names far more often than UUID
///   credentials);
/// - a URL (`token_uri: https://oauth2.googleapis.com/token`), or a credential inside one
///   (`token:ghp_…@github.com/…`: the specific rule, or the connection-string rule, reports the credential);
/// - a dotted reference to a variable (`process.env.DB_PASSWORD`, `settings.API_KEY`): segments of letters
///   with at most trailing digits, never the digit-sprinkled segments of a random value;
/// - text that is mostly non-ASCII (a translated message assigned to a `token` key).
pub fn is_secret_shaped(value: &str) -> bool {
    let is_punctuation = |byte: u8| matches!(byte, b'.' | b'_' | b'-' | b'/');
    let lowercase = value.bytes().all(|byte| byte.is_ascii_lowercase() || is_punctuation(byte));
    let uppercase = value.bytes().all(|byte| byte.is_ascii_uppercase() || is_punctuation(byte));
    let uuid = value.len() == 36
        && value.bytes().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        });
    let url = value.contains("://");
    let in_url = value.rsplit_once('@').is_some_and(|(_, rest)| looks_like_host(rest));
    let characters = value.chars().count();
    let non_ascii = value.chars().filter(|c| !c.is_ascii()).count() * 4 > characters;
    !(lowercase
        || uppercase
        || uuid
        || url
        || in_url
        || is_dotted_reference(value)
        || non_ascii
        || is_template(value)
        || is_prose(value))
}

/// A quoted value that a template or the shell fills in, not a secret: `${DB_PASSWORD}`, `$(cat /run/secret)`,
/// `{{ .Values.password }}`, `#{ENV['X']}`, `%(password)s`, `<your-password>`, or a SOPS-encrypted `ENC[…]`.
fn is_template(value: &str) -> bool {
    // `$(` and `%(` only at the start: Django's key alphabet has `$`, `%` and `(`, but no `{`.
    const OPENERS: [&str; 4] = ["${", "{{", "#{", "<%"];
    OPENERS.iter().any(|opener| value.contains(opener))
        || value.starts_with("$(")
        || value.starts_with("%(")
        || (value.starts_with('<') && value.ends_with('>'))
        || value.starts_with("ENC[")
}

/// A quoted message rather than a value (`"Enter your password (8+ characters)"`): words separated by
/// whitespace, each, without its surrounding punctuation, all letters or all digits.
fn is_prose(value: &str) -> bool {
    value.contains(char::is_whitespace)
        && value.split_whitespace().all(|word| {
            let word = word.trim_matches(|c: char| c.is_ascii_punctuation());
            word.chars().all(char::is_alphabetic) || word.chars().all(|c| c.is_ascii_digit())
        })
}

/// `Basic <base64>`: decodes to printable `user:password` with a password that is not a documented default
/// (`user:password`, `admin:changeme`).
pub fn is_basic_credentials(value: &str) -> bool {
    let Some(decoded) = decode_base64(value) else { return false };
    let Ok(text) = std::str::from_utf8(&decoded) else { return false };
    if !text.chars().all(|c| !c.is_control()) {
        return false;
    }
    text.split_once(':').is_some_and(|(_, password)| !password.is_empty() && is_connection_password(password))
}

/// Standard base64 with optional `=` padding; `None` when `value` is not.
fn decode_base64(value: &str) -> Option<Vec<u8>> {
    let body = value.trim_end_matches('=');
    if value.len() - body.len() > 2 || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in body.bytes() {
        let sextet = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = buffer << 6 | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// `github.com/acme/docs.git`, `db.internal:5432`: a host name with a dot and an alphabetic last label, then
/// optionally a port or a path.
fn looks_like_host(text: &str) -> bool {
    let host = text.split(['/', ':']).next().unwrap_or_default();
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// `process.env.DB_PASSWORD`: two or more segments, each letters, `_` or `$`, optionally ending in digits.
pub(super) fn is_dotted_reference(value: &str) -> bool {
    let segment = |part: &str| {
        let body = part.trim_end_matches(|c: char| c.is_ascii_digit());
        !body.is_empty() && body.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'$')
    };
    value.contains('.') && value.split('.').all(segment)
}

/// False for the password of a connection string that is a placeholder or a documented default rather than a
/// secret: `<password>`, `${DB_PASSWORD}`, `$PASS`, `%(password)s`, `***`, or a word that documentation puts
/// there (`password`, `pass`, `secret`, `changeme`, RabbitMQ's `guest`).
pub fn is_connection_password(value: &str) -> bool {
    const DOCUMENTED: [&str; 8] = ["password", "passwd", "pass", "pwd", "secret", "changeme", "guest", "***"];
    let templated = value.starts_with(['<', '$', '{', '%', '*']);
    !(templated || DOCUMENTED.contains(&value.to_ascii_lowercase().as_str()))
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
    // Lengths per network: Visa 13, 16 or 19; Mastercard 16; Amex 15; Discover and JCB 16–19; Diners 14–19.
    // A 17- or 18-digit order id that starts with 4 and passes Luhn by chance is no Visa card.
    let length = digits.len();
    let issued = match digits[0] {
        4 => matches!(length, 13 | 16 | 19),
        5 => (51..=55).contains(&prefix(2)) && length == 16,
        2 => (2221..=2720).contains(&prefix(4)) && length == 16,
        3 => match prefix(2) {
            34 | 37 => length == 15,
            35 => length >= 16,
            30 | 36 | 38 | 39 => length >= 14,
            _ => false,
        },
        6 => (prefix(4) == 6011 || prefix(2) == 65 || (644..=649).contains(&prefix(3))) && length >= 16,
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
    fn paths_urls_references_and_prose_are_not_secret_shaped() {
        for value in [
            "/run/secrets/api_token",
            "prod/api/credentials",
            "https://oauth2.googleapis.com/token",
            "github_pat_11ABCDEFGHIJ0123456789_abcdefXYZ0123@github.com/acme/docs.git",
            "process.env.DB_PASSWORD",
            "settings.API_KEY2",
            "テスト用トークン（削除予定）",
        ] {
            assert!(!is_secret_shaped(value), "{value}");
        }
        for value in [
            "q8Zr2LmV0xWcT5kPbN7d",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
            "Xk9mL2#qP@ssw0rd",
            "v3ry.S3cr3t.Pa55",
        ] {
            assert!(is_secret_shaped(value), "{value}");
        }
    }

    #[test]
    fn templates_and_messages_are_not_secret_shaped() {
        for value in [
            "${DB_PASSWORD}",
            "{{ .Values.db.password }}",
            "$(cat /run/secrets/db)",
            "<your-password>",
            "ENC[AES256_GCM,data:q8Zr2Lm,type:str]",
            "Enter your password (8+ characters)",
        ] {
            assert!(!is_secret_shaped(value), "{value}");
        }
        assert!(is_secret_shaped("k9#x(2)q8Zr2L mV0x"));
        assert!(is_secret_shaped("k9#x$(2)q8%(Zr2LmV0x"), "a Django key may hold `$(` and `%(`");
    }

    #[test]
    fn basic_credentials_decode_to_user_and_password() {
        assert!(is_basic_credentials("ZGVwbG95OnE4WnIyTG1WMHhXYw=="), "deploy:q8Zr2LmV0xWc");
        assert!(!is_basic_credentials("dXNlcjpwYXNzd29yZA=="), "user:password");
        assert!(!is_basic_credentials("YXV0aGVudGljYXRpb24="), "authentication: no colon");
        assert!(!is_basic_credentials("not base64!"));
    }

    #[test]
    fn connection_passwords_exclude_placeholders_and_documented_defaults() {
        for value in ["<password>", "${DB_PASSWORD}", "$PGPASSWORD", "%(password)s", "***", "guest", "Password"] {
            assert!(!is_connection_password(value), "{value}");
        }
        assert!(is_connection_password("q8Zr2LmV0xWc"));
        assert!(is_connection_password("hunter2"));
    }

    #[test]
    fn payment_cards_need_luhn_and_an_issuer_prefix() {
        assert!(is_payment_card("4111 1111 1111 1111"));
        assert!(is_payment_card("5500-0000-0000-0004"));
        assert!(is_payment_card("378282246310005"));
        assert!(!is_payment_card("4111 1111 1111 1112"), "Luhn fails");
        assert!(!is_payment_card("1000000000009"), "no issuer starts with 1");
        assert!(!is_payment_card("411111111111"), "too short");
        assert!(is_payment_card("4222222222222"), "13-digit Visa");
        assert!(!is_payment_card("49993502327905098"), "17 digits: no Visa has 17");
        assert!(!is_payment_card("5500 0000 0000 0004 1"), "Mastercard has 16 digits");
    }

    #[test]
    fn iban_checksum_is_mod_97() {
        assert!(is_iban("GB82WEST12345698765432"));
        assert!(is_iban("DE89 3704 0044 0532 0130 00"));
        assert!(!is_iban("GB82WEST12345698765433"));
        assert!(!is_iban("GB82"));
    }
}
