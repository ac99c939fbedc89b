//! `execution/v1`: an agent's execution log as an immutable, content-addressed record.
//!
//! A log is validated as a whole ([`log`]), every content (system prompt, prompts, inputs, step outputs,
//! outputs) is moved into blobs, and what remains is the execution manifest ([`manifest`]), whose JCS digest
//! is the pack's identity. Exporting a manifest with its blobs gives back the log exactly. Two manifests
//! compare step by step with [`diff`].

pub(crate) mod base64;
pub mod diff;
pub mod log;
pub mod manifest;
mod problem;
pub(crate) mod rfc3339;
mod schema;

pub use log::{ExecutionLog, LogOptions};
pub use manifest::{Blob, BlobRef, ExecutionManifest, ExecutionPlan};
pub use problem::Problem;

/// The `ctxpack` field of every execution manifest.
pub const EXECUTION_V1: &str = "execution/v1";
