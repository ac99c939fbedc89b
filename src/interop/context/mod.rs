//! Context packets for JavaScript (issue 5; the contract table in docs/context.md, "The wasm contract").

mod packet;
