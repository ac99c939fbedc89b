//! Signed packs: who vouches for a pack, checked offline wherever the core runs.
//!
//! A pack's URI proves its bytes match its recipe, not who ran the recipe. A signature is a DSSE envelope
//! ([`dsse`]) over an in-toto Statement ([`statement`]) whose subject is the pack's OCI image manifest, signed
//! with Ed25519 ([`key`]); [`verify`] says which trusted keys signed a pack, [`policy`] which keys a scope
//! trusts and whether it requires a signature. Keys, times and envelopes come from the host; nothing here reads
//! a file or a clock. How a signature is stored next to its pack is the OCI mapping's (`oci::signature`).

pub mod dsse;
pub mod inspect;
pub mod key;
pub mod policy;
pub mod signer;
pub mod statement;
pub mod verify;

pub use dsse::{pae, Envelope, EnvelopeSignature};
pub use inspect::{inspect_envelope, SignatureReport, SignatureStatus};
pub use key::{PublicKey, SecretKey};
pub use policy::{KeyRef, TrustDecision, TrustPolicy, TrustRule};
pub use signer::{sign_pack, sign_statement, Signed};
pub use statement::{Statement, PAYLOAD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE};
pub use verify::{verify_envelope, verify_signatures, Signer};
