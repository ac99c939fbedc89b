//! The OCI distribution protocol, without I/O: references, authentication challenges and tokens, upload
//! sessions, download resumption, retry decisions and response interpretation. The wasm driver
//! (`interop::registry`) sends the requests over the host's `fetch`; everything it decides, it asks here,
//! with times passed in as milliseconds and randomness passed in as numbers.

pub mod auth;
pub mod challenge;
pub mod download;
pub mod reference;
pub mod response;
pub mod retry;
pub mod scope;
pub mod token;
pub mod upload;
pub mod url;

use crate::oci::{MEDIA_TYPE_INDEX, MEDIA_TYPE_MANIFEST};

pub use reference::{ManifestRef, RegistryRef};

/// The largest manifest read by default; registries must accept at least 4 MiB (distribution spec).
pub const DEFAULT_MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// Manifest types asked for by default. The OCI types must be listed: Distribution 2.8 answers 404 for an
/// OCI manifest when the request does not accept one.
pub const MANIFEST_ACCEPT: [&str; 4] = [
    MEDIA_TYPE_MANIFEST,
    MEDIA_TYPE_INDEX,
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
