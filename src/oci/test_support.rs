//! Fixtures shared by the OCI mapping's tests.

use super::*;

pub(super) const CREATED: &str = "2026-01-15T10:30:05Z";

pub(super) fn uri(seed: &str) -> CtxUri {
    CtxUri::from_digest(Digest::of(seed.as_bytes()))
}

pub(super) fn config() -> Descriptor {
    Descriptor::for_blob(MEDIA_TYPE_PACK_CONFIG, br#"{"ctxpack":"pack/v1"}"#)
}

pub(super) fn layer() -> Descriptor {
    Descriptor::for_blob(MEDIA_TYPE_LAYER, b"pack bytes")
}

pub(super) fn manifest_value() -> Value {
    let bytes = pack_manifest(&config(), &[layer()], &uri("a"), CREATED).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub(super) fn parse_value(value: &Value) -> Result<PackOciManifest> {
    parse_pack_manifest(value.to_string().as_bytes())
}

pub(super) fn manifest_descriptor(seed: &str) -> Descriptor {
    Descriptor::for_blob(MEDIA_TYPE_MANIFEST, seed.as_bytes())
}

/// The execution manifest blob and the URI it is the preimage of.
pub(super) fn execution_config(seed: &str) -> (Descriptor, CtxUri) {
    let config = Descriptor::for_blob(MEDIA_TYPE_EXECUTION_CONFIG, format!(r#"{{"seed":"{seed}"}}"#).as_bytes());
    let uri = CtxUri::from_digest(config.digest);
    (config, uri)
}

pub(super) fn blobs(n: usize) -> Vec<Descriptor> {
    (0..n).map(|i| Descriptor::for_blob(MEDIA_TYPE_BLOB, format!("blob {i}").as_bytes())).collect()
}

pub(super) fn execution_value() -> Value {
    let (config, uri) = execution_config("x");
    serde_json::from_slice(&execution_pack_manifest(&config, &blobs(2), &uri, CREATED).unwrap()).unwrap()
}

pub(super) fn parse_execution_value(value: &Value) -> Result<ExecutionPackOciManifest> {
    parse_execution_pack_manifest(value.to_string().as_bytes())
}
