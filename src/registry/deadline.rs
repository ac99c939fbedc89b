//! Every wait has a deadline. Each request gets a connect and a response-head timeout, each body read an idle
//! timeout (no byte received); an operation that makes no progress across its retries and resumes for
//! `stall_ms` ends with `CTX_REGISTRY_TIMEOUT`. Progress (a response, a byte) restarts the stall clock, so a
//! large blob on a slow but live connection is never cut off.

use super::transport::{TimeoutKind, Wait};
use crate::error::{Error, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect_ms: u64,
    pub response_ms: u64,
    pub idle_ms: u64,
    /// No progress for this long across retries and resumes ends the operation.
    pub stall_ms: u64,
}

impl Default for Timeouts {
    /// 10 s to connect, 30 s for an answer or the next byte, two minutes without progress in all.
    fn default() -> Self {
        Timeouts::from_seconds(30)
    }
}

impl Timeouts {
    /// The one knob users turn (`--timeout`, `CTXPACK_TIMEOUT`): `seconds` to wait for an answer or the next
    /// byte; connecting gets at most 10 s of it, an operation gives up after four such waits without progress.
    pub fn from_seconds(seconds: u64) -> Timeouts {
        let ms = seconds.max(1).saturating_mul(1000);
        Timeouts { connect_ms: ms.min(10_000), response_ms: ms, idle_ms: ms, stall_ms: ms.saturating_mul(4) }
    }

    /// The wait for a request whose body has `body_bytes`: a transport that cannot tell when its body was sent
    /// (`fetch`) counts the upload in the response wait, so it gets time for the body at a slow 256 KiB/s.
    pub fn wait(&self, body_bytes: u64) -> Wait {
        let upload_ms = body_bytes.saturating_mul(1000) / (256 * 1024);
        Wait { connect_ms: self.connect_ms, response_ms: self.response_ms.saturating_add(upload_ms) }
    }
}

/// The clock of one operation's progress.
#[derive(Debug, Clone, Copy)]
pub struct Stall {
    last_progress_ms: u64,
    limit_ms: u64,
}

impl Stall {
    pub fn start(now_ms: u64, timeouts: &Timeouts) -> Stall {
        Stall { last_progress_ms: now_ms, limit_ms: timeouts.stall_ms }
    }

    pub fn progressed(&mut self, now_ms: u64) {
        self.last_progress_ms = self.last_progress_ms.max(now_ms);
    }

    /// Whether waiting `delay_ms` more would pass the limit.
    pub fn exceeded(&self, now_ms: u64, delay_ms: u64) -> bool {
        now_ms.saturating_add(delay_ms).saturating_sub(self.last_progress_ms) > self.limit_ms
    }

    pub fn stalled_for_s(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.last_progress_ms) / 1000
    }
}

/// The error for an operation that ran out of time.
pub fn timeout_error(host: &str, kind: TimeoutKind, stalled_s: u64, what: &str) -> Error {
    Error::new(ErrorCode::RegistryTimeout, format!("{host} gave {} for {stalled_s} s; gave up", kind.describe()))
        .at(what)
        .hint("the registry or the network is stalled; try again later, or allow longer waits (timeout option)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_end_a_silent_registry_in_about_two_minutes() {
        let t = Timeouts::default();
        assert_eq!((t.connect_ms, t.response_ms, t.idle_ms, t.stall_ms), (10_000, 30_000, 30_000, 120_000));
        let short = Timeouts::from_seconds(2);
        assert_eq!((short.connect_ms, short.response_ms, short.stall_ms), (2000, 2000, 8000));
        assert_eq!(Timeouts::from_seconds(0).response_ms, 1000);
    }

    #[test]
    fn uploads_get_time_for_their_body() {
        let t = Timeouts::default();
        assert_eq!(t.wait(0).response_ms, 30_000);
        assert_eq!(t.wait(8 * 1024 * 1024).response_ms, 30_000 + 32_000);
    }

    #[test]
    fn progress_restarts_the_stall_clock() {
        let mut stall = Stall::start(1_000, &Timeouts::from_seconds(10));
        assert!(!stall.exceeded(30_000, 10_000));
        assert!(stall.exceeded(35_000, 7_000));
        stall.progressed(35_000);
        assert!(!stall.exceeded(60_000, 10_000));
        assert_eq!(stall.stalled_for_s(60_000), 25);
        let error = timeout_error("r.example.com", TimeoutKind::Idle, 40, "blob sha256:ab");
        assert_eq!(error.code, ErrorCode::RegistryTimeout);
        assert_eq!(error.message, "blob sha256:ab: r.example.com gave no data for 40 s; gave up");
    }
}
