// The Store interface: the pantry, an OCI image layout directory and a remote registry all stand behind it,
// so push, pull, copy, export and import are one graph copy between two stores (copy.mjs). The idea is
// oras-go's content.Storage + Resolver + Tagger.
//
// Every store implements:
//   describe(): string                                   e.g. "pantry /home/me/.cache/ctxpack", "registry localhost:5000/packs"
//   resolve(uri): Promise<Descriptor | null>              the image manifest tagged ctx-<hex>, null when absent
//   fetchBytes(descriptor): Promise<Uint8Array>           a small blob (manifest, config), size and digest verified
//   exists(descriptor): Promise<boolean>                  the blob is there with that size
//   fetchBlob(descriptor, sink, {onBytes}?): Promise<void>             stream a blob into a sink, verified
//   pushBlob(descriptor, source, {mountFrom, onBytes}?): Promise<{uploaded: boolean, mounted?: boolean}>
//   pushManifest(uri, descriptor, bytes): Promise<{descriptor: Descriptor, fallback: boolean}>
//       store the manifest and tag it ctx-<hex>, last, once every blob it names is present. `descriptor` is
//       what was stored: a registry that refuses ctxpack's config type gets the fallback form (empty config,
//       the pack manifest as the first layer), which has another digest, and `fallback` is true.
//
// Local stores (files on this machine) also implement, so copies between stores need no spooling:
//   openSink(descriptor): {write(chunk), reset(), commit(), abort()}   commit checks size and digest
//   openSource(descriptor): {read(offset, length): Uint8Array, close()}
//
// Sinks and sources are the wasm RegistryClient's BlobSink and BlobSource (docs/architecture.md).

/** @typedef {{mediaType: string, digest: string, size: number, annotations?: Record<string, string>}} Descriptor */
/** @typedef {{write(chunk: Uint8Array): void | Promise<void>, reset(): void | Promise<void>}} BlobSink */
/** @typedef {Uint8Array | {read(offset: number, length: number): Uint8Array | Promise<Uint8Array>}} BlobSource */
/** @typedef {BlobSink & {commit(): Descriptor, abort(): void}} LocalSink */
/** @typedef {{read(offset: number, length: number): Uint8Array, close(): void}} LocalSource */

export {};
