// The Store interface: an OCI image layout (layout-store.mjs: the pantry, spool and export/import directories),
// a registry repository (remote-store.mjs) and a verifying wrapper around a layout (verifying-store.mjs) all
// stand behind it, so push, pull, copy, export and import are one graph copy between two stores (copy.mjs).
// The idea is oras-go's content.Storage (Fetch / Push / Exists) + Resolver + Tagger. It is symmetric: fetch
// gives a stream and push takes one, so a copy between any two stores streams, registry to registry included.
//
// Every store implements:
//   describe(): string                                   e.g. "pantry /home/me/.cache/ctxpack", "registry localhost:5000/packs"
//   resolve(uri): Descriptor | null | Promise<…>          the image manifest tagged ctx-<hex> (either kind), null when absent
//   exists(descriptor): boolean | Promise<boolean>        the blob is there with that size
//   fetch(descriptor, {onBytes}?): BlobStream             the blob's bytes, started on the first read (a stream
//       nobody reads costs nothing); its size and digest are checked before the stream ends, which throws otherwise
//   push(descriptor, stream, {mountFrom}?): Promise<{uploaded: boolean, mounted?: boolean}>
//       store a blob from a stream (a BlobStream, any async iterable of Uint8Array, or one Uint8Array); reads
//       nothing when the blob is already there (or a registry mounts it); the bytes must match the descriptor
//   fetchBytes(descriptor): Uint8Array | Promise<Uint8Array>   a small blob (manifest, config) read whole, verified
//   pushManifest(uri, descriptor, bytes, {artifactType, blobs}?): Promise<{descriptor: Descriptor, fallback: boolean}>
//       store the image manifest and tag it ctx-<hex>, last, once every blob it names is present. `descriptor`
//       is what was stored: a registry that refuses ctxpack's config type gets the fallback form (empty config,
//       the pack manifest as the first layer; packs only), which has another digest, and `fallback` is true.
//       artifactType and blobs: what the caller parsed (ociParseManifest), so the store need not parse again.
//
// Optional:
//   prepare({uri, descriptor, bytes, parsed}): called by copy before the first blob moves, with the root it
//       copies (a verifying store gets ready to verify its blobs as they stream in); may answer {first}: blobs
//       it needs before it can take the others, which copy then pushes first, one at a time
//   withLease(command, fn): run a copy into it under a lease (lease.mjs); a failed copy removes what it added
//   protect(descriptors): lease blobs already there before checking for them, so gc keeps them meanwhile
//   reader(descriptor, {onBytes}?): a BlobSource over a local blob ({read(offset, length), close()}), which an
//       upload reads in place: no stream, no chunk allocated per read (a layout's file)
//   acceptsReader: true when push also takes such a reader instead of a stream (a registry, whose client
//       uploads by offset); copy then gives it the source's reader when the source has one
//
// A BlobStream is an async iterable of Uint8Array whose chunks belong to the consumer (it may keep them or
// transfer them to a worker). `verified` is true when the source checks every byte it gives against the
// descriptor (a registry download, a layout's file) and is still true when the stream ends: a local target
// then need not hash the bytes again. A download that restarted midway re-sends only what was not given yet,
// and says `verified: false` from then on.

/** @typedef {{mediaType: string, digest: string, size: number, annotations?: Record<string, string>}} Descriptor */
/** @typedef {AsyncIterable<Uint8Array> & {verified?: boolean}} BlobStream */

export {};
