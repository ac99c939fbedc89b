//! Context packets for JavaScript (issue 5; the contract table in docs/context.md, "The wasm contract").
//! `text.rs`: detectors on plain text, token estimates and globs; `packet.rs`: the `ContextPolicy` class and the
//! packet functions; `redact_text.rs`: `contextRedactText`, a packet redacted from text to text; `redact_stream.rs`:
//! `contextRedactStream`, a packet redacted as it streams. A policy's own detectors (user rules, gitleaks imports, PII switches) are reached through
//! its methods `detect` and `redactText`; the free functions use the built-in set.

mod packet;
mod redact_stream;
mod redact_text;
mod text;
