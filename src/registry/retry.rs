//! Which failures are worth another try, and how long to wait first: exponential backoff with jitter,
//! unless the registry said when (`Retry-After`, in seconds or as an HTTP date). The host supplies the
//! clock and the randomness, so every decision here is reproducible.

/// Statuses that mean "not now" rather than "no": timeouts, rate limits and server-side failures.
pub const RETRYABLE_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

pub fn is_retryable_status(status: u16) -> bool {
    RETRYABLE_STATUSES.contains(&status)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// The longest `Retry-After` honoured; longer requests are cut to this.
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 5, base_delay_ms: 200, max_delay_ms: 3000, max_retry_after_ms: 60_000 }
    }
}

impl RetryPolicy {
    /// The wait before try `attempt + 1` after try `attempt` (1-based) failed, or `None` when the tries are
    /// used up. `retry_after_ms` is the registry's own wish; `random` is uniform in [0, 1).
    pub fn delay_ms(&self, attempt: u32, retry_after_ms: Option<u64>, random: f64) -> Option<u64> {
        if attempt >= self.max_attempts {
            return None;
        }
        if let Some(wait) = retry_after_ms {
            return Some(wait.min(self.max_retry_after_ms));
        }
        let exponential = self.base_delay_ms.saturating_mul(1u64 << (attempt - 1).min(32)).min(self.max_delay_ms);
        // Half fixed, half random: spreads clients that failed together without ever retrying at once.
        let jitter = (exponential as f64 / 2.0 * random.clamp(0.0, 1.0)) as u64;
        Some(exponential / 2 + jitter)
    }
}

/// `Retry-After` as milliseconds from `now_ms`: delay-seconds or an HTTP date (past dates mean now).
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse::<u64>().unwrap_or(u64::MAX / 1000).saturating_mul(1000));
    }
    let at_ms = parse_http_date(value)?;
    Some(at_ms.saturating_sub(now_ms))
}

/// RFC 9110 §5.6.7 HTTP date in any of its three forms, as ms since the Unix epoch:
/// `Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT`, `Sun Nov  6 08:49:37 1994`.
pub fn parse_http_date(value: &str) -> Option<u64> {
    let words: Vec<&str> = value.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    let (day, month, year, time) = match words.as_slice() {
        [_, day, month, year, time, "GMT"] => (*day, *month, year.parse::<u64>().ok()?, *time),
        [_, date, time, "GMT"] => {
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            let year = year.parse::<u64>().ok()?;
            // RFC 850 two-digit years: read as the nearest century, as RFC 9110 asks (50 years rule).
            (
                day,
                month,
                if year < 50 {
                    2000 + year
                } else if year < 100 {
                    1900 + year
                } else {
                    year
                },
                *time,
            )
        }
        [_, month, day, time, year] => (*day, *month, year.parse::<u64>().ok()?, *time),
        _ => return None,
    };
    let day: u64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let mut clock = time.split(':').map(|p| p.parse::<u64>().ok().filter(|_| p.len() == 2));
    let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
    if clock.next().is_some() || h > 23 || m > 59 || s > 60 || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + h) * 60 + m) * 60_000 + s * 1000)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm), for years ≥ 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_only_transient_statuses() {
        let retryable: Vec<u16> = (100..600).filter(|&s| is_retryable_status(s)).collect();
        assert_eq!(retryable, [408, 429, 500, 502, 503, 504]);
    }

    #[test]
    fn backs_off_exponentially_with_bounded_jitter() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_ms(1, None, 0.0), Some(100));
        assert_eq!(p.delay_ms(1, None, 0.999_999), Some(199));
        assert_eq!(p.delay_ms(2, None, 0.5), Some(300));
        assert_eq!(p.delay_ms(3, None, 0.0), Some(400));
        assert_eq!(p.delay_ms(4, None, 0.999_999), Some(1599));
        assert_eq!(p.delay_ms(5, None, 0.0), None);
        let long = RetryPolicy { max_attempts: 100, ..p };
        assert_eq!(long.delay_ms(5, None, 0.0), Some(1500));
        assert_eq!(long.delay_ms(5, None, 0.999_999), Some(2999));
        assert_eq!(long.delay_ms(80, None, 0.0), Some(1500));
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_ms(1, Some(7_000), 0.9), Some(7_000));
        assert_eq!(p.delay_ms(1, Some(3_600_000), 0.9), Some(60_000));
        assert_eq!(p.delay_ms(5, Some(1_000), 0.9), None);
    }

    #[test]
    fn parses_retry_after_seconds_and_dates() {
        let now = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(now, 784_111_777_000);
        assert_eq!(parse_retry_after("120", now), Some(120_000));
        assert_eq!(parse_retry_after(" 0 ", now), Some(0));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), Some(30_000));
        assert_eq!(parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now), Some(10_000));
        assert_eq!(parse_retry_after("Sun Nov  6 08:49:57 1994", now), Some(20_000));
        assert_eq!(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now), Some(0));
        for bad in [
            "",
            "-5",
            "1.5",
            "soon",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"), Some(1_835_438_400_000));
    }
}
