//! Identity checks of a stored or copied artifact, in one place for every host: an image manifest is parsed
//! once, with its config, and everything it claims about who it is is checked before a host tags it.
//!
//! The union of the checks the Node host used to make in five places (copy, the pantry store, the pull's
//! verifier, the pantry's loader, the execution pack verifier and `trace verify`):
//!
//! Packs ([`verify_pack`]):
//! 1. the image manifest is a pack's, in the normal or the fallback form (`CTX_OCI_INVALID`);
//! 2. its `dev.ctxpack.uri` annotation is the URI asked for (`CTX_URI_MISMATCH`);
//! 3. `manifest.json` is within the manifest size limit (`CTX_LIMIT_EXCEEDED`), and its bytes have the size
//!    and digest of the descriptor the image manifest gives (`CTX_SIZE_MISMATCH` / `CTX_DIGEST_MISMATCH`);
//! 4. `manifest.json` verifies: pack/v1 shape, its URI re-derived from its contract, its tree digest
//!    re-derived from its entries (`CTX_MANIFEST_INVALID` / `CTX_URI_MISMATCH` / `CTX_DIGEST_MISMATCH`);
//! 5. the annotation and `manifest.json` name the same URI (`CTX_URI_MISMATCH`);
//! 6. the declared outputs are within the limits (`CTX_LIMIT_EXCEEDED`);
//! 7. the image manifest has as many pack layers as `manifest.json` lays out (spec §7.3), and a layer titled
//!    `pack.<k>.tar.gz` sits at position k (`CTX_OCI_INVALID`).
//!
//! What each layer holds (exactly its group, every file's size and digest) is the archive reader's work,
//! layer by layer against the groups returned here.
//!
//! Execution packs ([`verify_execution_pack`]):
//! 1. the image manifest is an execution pack's, and its config digest is its URI (`CTX_OCI_INVALID` /
//!    `CTX_URI_MISMATCH`);
//! 2. the URI is the one asked for (`CTX_URI_MISMATCH`);
//! 3. the config bytes have the descriptor's size and digest, so they hash to the URI (`CTX_SIZE_MISMATCH`
//!    / `CTX_DIGEST_MISMATCH`);
//! 4. the config is an execution manifest in canonical form (`CTX_MANIFEST_INVALID`);
//! 5. every blob it names is a layer of the same size, and no layer is anything else (`CTX_OCI_INVALID`).
//!
//! Each blob's own digest is checked by whoever moves its bytes.

use super::*;
use crate::archive::{partition, LayerGroup, Limits};
use crate::execution::{BlobRef, ExecutionManifest};
use crate::manifest::PackManifest;

/// A pack whose image manifest and `manifest.json` agree on one identity.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedPack {
    pub oci: PackOciManifest,
    pub manifest: PackManifest,
    /// The layout: group k is what `oci.pack_layers[k]` must hold.
    pub groups: Vec<LayerGroup>,
}

/// An execution pack whose image manifest and execution manifest agree on one identity.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedExecutionPack {
    pub oci: ExecutionPackOciManifest,
    pub manifest: ExecutionManifest,
    /// The blobs the execution manifest names, in order of first use (each one a layer of the same size).
    pub blobs: Vec<BlobRef>,
}

/// Checks a pack's image manifest against its `manifest.json` (see the module documentation for the list).
pub fn verify_pack(
    oci_manifest: &[u8],
    manifest_json: &[u8],
    expect_uri: Option<&CtxUri>,
    limits: &Limits,
) -> Result<VerifiedPack> {
    let oci = parse_pack_manifest(oci_manifest)?;
    check_expected(&oci.uri, expect_uri, "pack")?;
    limits.check_manifest_size(manifest_json.len() as u64)?;
    check_blob(&oci.manifest_json, manifest_json, "manifest.json")?;
    let manifest = PackManifest::parse(manifest_json)?;
    if manifest.uri != oci.uri {
        return Err(Error::new(
            ErrorCode::UriMismatch,
            format!("the image manifest is annotated {} but its manifest.json is the pack {}", oci.uri, manifest.uri),
        )
        .at(format!("annotations.{ANNOTATION_URI}")));
    }
    limits.check_outputs(manifest.outputs.entries())?;
    let groups = partition(manifest.outputs.entries());
    if groups.len() != oci.pack_layers.len() {
        return Err(invalid(format!(
            "{} has {} layer(s), its manifest.json lays out {}",
            oci.uri,
            oci.pack_layers.len(),
            groups.len()
        ))
        .at("layers")
        .hint("the image manifest does not describe this pack; fetch or seed it again"));
    }
    check_layer_titles(&oci)?;
    Ok(VerifiedPack { oci, manifest, groups })
}

/// Checks an execution pack's image manifest against its config (see the module documentation).
pub fn verify_execution_pack(
    oci_manifest: &[u8],
    config: &[u8],
    expect_uri: Option<&CtxUri>,
) -> Result<VerifiedExecutionPack> {
    let oci = parse_execution_pack_manifest(oci_manifest)?;
    check_expected(&oci.uri, expect_uri, "execution pack")?;
    check_blob(&oci.config, config, "config")?;
    let manifest = ExecutionManifest::parse(config)?;
    let blobs = manifest.blob_refs();
    let named: BTreeMap<Digest, u64> = blobs.iter().map(|blob| (blob.digest, blob.size)).collect();
    let mut carried: BTreeMap<Digest, u64> = BTreeMap::new();
    for (i, layer) in oci.blobs.iter().enumerate() {
        let at = format!("layers[{i}]");
        if carried.insert(layer.digest, layer.size).is_some() {
            return Err(
                invalid(format!("the image manifest of {} carries blob {} twice", oci.uri, layer.digest)).at(at)
            );
        }
        match named.get(&layer.digest) {
            None => {
                return Err(invalid(format!(
                    "the image manifest of {} carries blob {} that its execution manifest does not name",
                    oci.uri, layer.digest
                ))
                .at(at)
                .hint(REPACK_HINT))
            }
            Some(size) if *size != layer.size => {
                return Err(invalid(format!(
                    "the image manifest of {} gives blob {} {} bytes, its execution manifest {size}",
                    oci.uri, layer.digest, layer.size
                ))
                .at(format!("{at}.size"))
                .hint(REPACK_HINT))
            }
            Some(_) => {}
        }
    }
    let absent: Vec<String> =
        blobs.iter().filter(|blob| !carried.contains_key(&blob.digest)).map(|blob| blob.digest.to_string()).collect();
    if !absent.is_empty() {
        return Err(invalid(format!(
            "the image manifest of {} lacks {} blob(s) its execution manifest names: {}",
            oci.uri,
            absent.len(),
            absent.join(", ")
        ))
        .at("layers")
        .hint(REPACK_HINT));
    }
    Ok(VerifiedExecutionPack { oci, manifest, blobs })
}

const REPACK_HINT: &str = "the execution pack was assembled wrongly; pack the log again with `ctxpack trace pack`";

fn check_expected(uri: &CtxUri, expect_uri: Option<&CtxUri>, what: &str) -> Result<()> {
    match expect_uri {
        Some(expected) if expected != uri => {
            Err(Error::new(ErrorCode::UriMismatch, format!("the {what} stored as {expected} is annotated {uri}"))
                .at(format!("annotations.{ANNOTATION_URI}"))
                .hint("the source holds other content under this tag; do not trust it, and push the right one again"))
        }
        _ => Ok(()),
    }
}

/// The bytes are the blob the descriptor names.
fn check_blob(descriptor: &Descriptor, bytes: &[u8], what: &str) -> Result<()> {
    if bytes.len() as u64 != descriptor.size {
        return Err(Error::new(
            ErrorCode::SizeMismatch,
            format!("{what} holds {} bytes, its descriptor {}", bytes.len(), descriptor.size),
        )
        .at(what));
    }
    let digest = Digest::of(bytes);
    if digest != descriptor.digest {
        return Err(Error::new(
            ErrorCode::DigestMismatch,
            format!("{what} hashes to {digest}, its descriptor names {}", descriptor.digest),
        )
        .at(what));
    }
    Ok(())
}

/// Layer order cannot be seen without reading the layers, but a ctxpack title says where a layer belongs.
fn check_layer_titles(oci: &PackOciManifest) -> Result<()> {
    let count = oci.pack_layers.len();
    let first = usize::from(oci.fallback);
    for (index, layer) in oci.pack_layers.iter().enumerate() {
        let Some(title) = layer.annotations.get(ANNOTATION_TITLE) else { continue };
        let claimed = if count == 1 && title == LAYER_TITLE { Some(0) } else { title_index(title) };
        if claimed.is_some_and(|claimed| claimed != index) {
            return Err(invalid(format!("layer {title} of {} is at position {index} of {count}", oci.uri))
                .at(format!("layers[{}]", index + first))
                .hint("the layers are out of order; fetch or seed the pack again"));
        }
    }
    Ok(())
}

/// k of `pack.<k>.tar.gz`.
fn title_index(title: &str) -> Option<usize> {
    let digits = title.strip_prefix("pack.")?.strip_suffix(".tar.gz")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
