//! Context packets (issue 5): the policy applied to everything sent to an LLM — forbidden paths, secret and
//! PII redaction, token budgets — in the core, so every host enforces the same rules.

pub mod audit;
pub mod budget;
pub mod build;
pub mod call_finder;
pub mod collect;
pub mod detect;
pub mod glob;
pub mod hash;
pub mod o200k;
pub mod packet;
pub mod policy;
pub mod redact;
pub mod redact_items;
mod redact_source;
pub mod redact_stream;
pub mod symbols;
pub mod task;
pub mod tokens;
pub mod violation;
