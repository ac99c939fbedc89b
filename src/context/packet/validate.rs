//! Validation of a ContextPackage document (owned by the packet helper; see docs/context.md).
