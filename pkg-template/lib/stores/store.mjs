// The Store interface: the pantry, an OCI image layout directory and a remote registry all stand behind it,
// so push, pull, copy, export and import are one graph copy between two stores (copy.mjs), for packs and
// execution packs alike. The idea is oras-go's content.Storage + Resolver + Tagger.
//
// Every store implements:
//   describe(): string                                   e.g. "pantry /home/me/.cache/ctxpack", "registry localhost:5000/packs"
//   resolve(uri): Promise<Descriptor | null>              the image manifest tagged ctx-<hex> (either kind), null when absent
//   fetchBytes(descriptor): Promise<Uint8Array>           a small blob (manifest, config), size and digest verified
//   exists(descriptor): Promise<boolean>                  the blob is there with that size
//   fetchBlob(descriptor, sink, {onBytes}?): Promise<void>             stream a blob into a sink, verified
//   pushBlob(descriptor, source, {mountFrom, onBytes}?): Promise<{uploaded: boolean, mounted?: boolean}>
//   pushManifest(uri, descriptor, bytes, {verifiedLayers}?): Promise<{descriptor: Descriptor, fallback: boolean}>
//       store the manifest and tag it ctx-<hex>, last, once every blob it names is present. `descriptor` is
//       what was stored: a registry that refuses ctxpack's config type gets the fallback form (empty config,
//       the pack manifest as the first layer; packs only), which has another digest, and `fallback` is true.
//       A store that verifies (the pantry) verifies the pack or execution pack before tagging it.
//
//   hashesFetchedBlobs?: boolean   fetchBlob hashes every byte and rejects a mismatch itself (a registry)
//
// Local stores (files on this machine) also implement, so copies between stores need no spooling:
//   openSink(descriptor, {hashed}?): {write(chunk), reset(), commit(), abort()}   commit checks size and
//       digest; hashed: false trusts the descriptor's digest (the source verified every byte)
//   openSource(descriptor, {reuseBuffer?}): {read(offset, length): Uint8Array, close()}
// A store that verifies packs before tagging them (the pantry: verifiesPacks) also implements
//   openVerifyingSink(descriptor, {hashed, manifest, layer, expectUri}): a sink that verifies the layer
//       while it is written; its commit(): Promise<layer result> throws (leaving no blob) if it failed.
//       pushManifest then gets {verifiedLayers: Map<layer index, {digest, ...result}>} and reads only the rest.
// A sink's write() may keep the chunk (transfer it to a worker): the caller must not use it afterwards.
// A store that gc sweeps (the pantry) also implements
//   withLease(command, fn): run a copy into it under a lease (lease.mjs); a failed copy removes what it added
//   protect(descriptors): lease blobs already there before checking for them, so gc keeps them meanwhile
//
// Sinks and sources are the wasm RegistryClient's BlobSink and BlobSource (docs/architecture.md).

/** @typedef {{mediaType: string, digest: string, size: number, annotations?: Record<string, string>}} Descriptor */
/** @typedef {{write(chunk: Uint8Array): void | Promise<void>, reset(): void | Promise<void>}} BlobSink */
/** @typedef {Uint8Array | {read(offset: number, length: number): Uint8Array | Promise<Uint8Array>}} BlobSource */
/** @typedef {BlobSink & {commit(): Promise<Descriptor>, abort(): void}} LocalSink */
/** @typedef {BlobSink & {commit(): Promise<{uri: string, files: number, bytes: number, compressedBytes: number}>, abort(): void}} VerifyingSink */
/** @typedef {{read(offset: number, length: number): Uint8Array, close(): void}} LocalSource */

export {};
