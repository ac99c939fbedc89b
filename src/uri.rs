//! `ctx://sha256:<hex>` identities and the OCI tag derived from them.

use crate::digest::Digest;
use crate::error::{Error, ErrorCode, Result};
use std::fmt;

/// The identity of a pack: `ctx://sha256:<64 lowercase hex>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CtxUri(Digest);

impl CtxUri {
    pub const SCHEME: &'static str = "ctx://";
    /// Prefix of the OCI tag (and OCI layout ref name) that stores a pack.
    pub const TAG_PREFIX: &'static str = "ctx-";

    pub fn from_digest(digest: Digest) -> Self {
        CtxUri(digest)
    }

    pub fn digest(&self) -> Digest {
        self.0
    }

    /// Parses the full form only; anything else is rejected with a clear error.
    pub fn parse(s: &str) -> Result<Self> {
        let rest = s
            .strip_prefix(Self::SCHEME)
            .ok_or_else(|| Error::new(ErrorCode::UriInvalid, format!("{s:?} is not a ctx:// URI")))?;
        Digest::parse(rest)
            .map(CtxUri)
            .map_err(|e| Error::new(ErrorCode::UriInvalid, format!("{s:?} is not a valid ctx:// URI: {}", e.message)))
    }

    /// `ctx-<64 hex>`: the tag in a registry and the `org.opencontainers.image.ref.name` in an OCI layout.
    pub fn tag(&self) -> String {
        format!("{}{}", Self::TAG_PREFIX, self.0.hex())
    }

    /// Parses a tag made by [`CtxUri::tag`].
    pub fn from_tag(tag: &str) -> Result<Self> {
        let hex = tag.strip_prefix(Self::TAG_PREFIX).ok_or_else(|| {
            Error::new(ErrorCode::UriInvalid, format!("tag {tag:?} does not start with {:?}", Self::TAG_PREFIX))
        })?;
        Digest::from_hex(hex).map(CtxUri)
    }
}

impl fmt::Display for CtxUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::SCHEME, self.0)
    }
}

impl fmt::Debug for CtxUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "854346c6e66e556c04faf02c2a78725f1ea8bb4989c40538a092e06d9f69fec8";

    #[test]
    fn full_form_round_trips() {
        let s = format!("ctx://sha256:{HEX}");
        let uri = CtxUri::parse(&s).unwrap();
        assert_eq!(uri.to_string(), s);
        assert_eq!(uri.tag(), format!("ctx-{HEX}"));
        assert_eq!(CtxUri::from_tag(&uri.tag()).unwrap(), uri);
    }

    #[test]
    fn everything_else_is_rejected() {
        for bad in [
            HEX.to_string(),
            format!("sha256:{HEX}"),
            format!("ctx://{HEX}"),
            format!("ctx://sha256:{}", &HEX[..12]),
            format!("ctx://sha256:{}", HEX.to_uppercase()),
            format!("ctx://sha512:{HEX}"),
            format!("CTX://sha256:{HEX}"),
            format!("ctx://sha256:{HEX} "),
            String::new(),
        ] {
            let e = CtxUri::parse(&bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::UriInvalid, "{bad:?}");
        }
    }
}
