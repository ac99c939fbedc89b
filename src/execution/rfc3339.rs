//! RFC 3339 date-time check for step timestamps. Timestamps are kept as written; this only rejects text that
//! is not a time, so that logs stay comparable.

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with real calendar dates and a leap second allowed.
pub(crate) fn is_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let at = |i: usize, c: u8| b.get(i).is_some_and(|x| x.eq_ignore_ascii_case(&c));
    let (Some(year), Some(month), Some(day)) = (digits(0, 4), digits(5, 2), digits(8, 2)) else { return false };
    let (Some(hour), Some(minute), Some(second)) = (digits(11, 2), digits(14, 2), digits(17, 2)) else { return false };
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return false;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return false;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut i = 19;
    if at(i, b'.') {
        let fraction = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    }
    if at(i, b'Z') {
        return b.len() == i + 1;
    }
    let (Some(offset_hour), Some(offset_minute)) = (digits(i + 1, 2), digits(i + 4, 2)) else { return false };
    (at(i, b'+') || at(i, b'-')) && at(i + 3, b':') && b.len() == i + 6 && offset_hour <= 23 && offset_minute <= 59
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_rfc3339_date_times() {
        for ok in [
            "2025-03-14T09:26:53Z",
            "2025-03-14t09:26:53.123456z",
            "2024-02-29T23:59:60+05:30",
            "2025-12-31T00:00:00-00:00",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for bad in [
            "",
            "2025-03-14",
            "2025-03-14 09:26:53Z",
            "2025-03-14T09:26:53",
            "2025-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-03-14T24:00:00Z",
            "2025-03-14T09:26:53.Z",
            "2025-03-14T09:26:53+0530",
            "2025-03-14T09:26:53Zx",
            "１０２５-03-14T09:26:53Z",
        ] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }
}
