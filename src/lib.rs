//! ctxpack core: contract identity, deterministic packs, verification and the OCI mapping.
//!
//! The core is pure: it never touches a file system, a clock or a network. Hosts (Node, browsers, edge
//! runtimes) pass bytes, streams and times in; `interop` is the only place that knows about JavaScript.
//! Without the `packs` feature it is identity alone (contracts, trees, digests, JCS, URIs): Cargo.toml.

#[cfg(feature = "packs")]
pub mod archive;
#[cfg(feature = "context")]
pub mod context;
pub mod contract;
pub mod digest;
pub mod error;
#[cfg(feature = "packs")]
pub mod execution;
pub mod jcs;
#[cfg(feature = "packs")]
pub mod manifest;
#[cfg(feature = "packs")]
pub mod oci;
pub mod path;
#[cfg(feature = "packs")]
pub mod pull;
#[cfg(feature = "packs")]
pub mod registry;
#[cfg(feature = "packs")]
pub mod sign;
pub mod tree;
pub mod uri;

#[cfg(target_arch = "wasm32")]
mod interop;

pub use digest::Digest;
pub use error::{Error, ErrorCode, Result};
pub use uri::CtxUri;

/// The version of this core, recorded in pack provenance.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
