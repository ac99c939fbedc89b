//! YAML and JSON reading and writing of context documents (owned by the packet helper; see docs/context.md).
