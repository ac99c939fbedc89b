//! The OCI distribution protocol and the registry client every host uses, without I/O of its own: the engine
//! (`client.rs`: one request path with authorization, redirects, retries and deadlines; `manifests.rs`,
//! `blob_pull.rs`, `blob_push.rs`: the operations; `session.rs`: authentication) runs over a host's
//! `Transport` (`transport.rs`). The decisions it makes sit in small files beside it: references,
//! challenges and tokens, scopes, upload sessions, download resumption, retry and deadline rules, response
//! interpretation. The wasm host implements the transport over `fetch` (`interop::registry`).

pub mod auth;
mod blob_pull;
mod blob_push;
mod body;
pub mod challenge;
mod client;
pub mod deadline;
pub mod download;
mod manifests;
pub mod reference;
mod referrers;
pub mod response;
pub mod retry;
pub mod scope;
mod session;
#[cfg(test)]
pub(crate) mod testing;
pub mod token;
pub mod transport;
pub mod upload;
pub mod url;

pub use blob_pull::{DigestCheck, Ranged};
pub use blob_push::Pushed;
pub use client::{Client, ClientConfig};
pub use manifests::{Manifest, ManifestHead};
pub use referrers::{FetchedSignature, ReferrerPushed};

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
