//! Reading response bodies the engine keeps whole (manifests, token answers, error bodies), each read under
//! the idle deadline.

use super::client::Client;
use super::transport::{TimeoutKind, Transport, TransportError};

/// Why reading a body stopped early.
pub(super) enum ReadFailure {
    /// The connection broke or went silent.
    Transport(TransportError),
    /// The body is longer than the caller's limit.
    TooLarge,
}

impl ReadFailure {
    pub fn describe(&self) -> String {
        match self {
            ReadFailure::Transport(TransportError::Timeout(kind)) => kind.describe().to_string(),
            ReadFailure::Transport(TransportError::Network(text) | TransportError::Blocked(text)) => text.clone(),
            ReadFailure::Transport(TransportError::Tls { message, .. }) => message.clone(),
            ReadFailure::TooLarge => "too large".into(),
        }
    }

    pub fn timeout(&self) -> Option<TimeoutKind> {
        match self {
            ReadFailure::Transport(TransportError::Timeout(kind)) => Some(*kind),
            _ => None,
        }
    }
}

impl<H: Transport> Client<H> {
    /// The whole body, up to `limit` bytes.
    pub(super) async fn read_limited(&self, mut body: H::Stream, limit: u64) -> Result<Vec<u8>, ReadFailure> {
        let mut out = Vec::new();
        loop {
            match self.host.read(&mut body, self.timeouts.idle_ms).await {
                Ok(None) => return Ok(out),
                Ok(Some(chunk)) => {
                    if out.len() as u64 + H::chunk_len(&chunk) > limit {
                        self.host.discard(body).await;
                        return Err(ReadFailure::TooLarge);
                    }
                    H::chunk_bytes(&chunk, &mut out);
                }
                Err(failure) => {
                    self.host.discard(body).await;
                    return Err(ReadFailure::Transport(failure));
                }
            }
        }
    }

    /// At most `limit` bytes of a failure's body (for its message); a read problem gives what was read.
    pub(super) async fn read_error_body(&self, mut body: H::Stream, limit: u64) -> Vec<u8> {
        let mut out = Vec::new();
        while let Ok(Some(chunk)) = self.host.read(&mut body, self.timeouts.idle_ms).await {
            H::chunk_bytes(&chunk, &mut out);
            if out.len() as u64 >= limit {
                out.truncate(limit as usize);
                break;
            }
        }
        self.host.discard(body).await;
        out
    }
}
