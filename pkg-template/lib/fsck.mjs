// fsck: check the whole pantry, as `git fsck` checks a repository, and with `repair` fix what is safe to fix.
// Checked: the layout marker; index.json; every index entry's manifest, config and layers (present, regular,
// of their size, hashing to their digest); the signatures beside packs (fsck-signatures.mjs); every other blob's
// content; unpacked copies (indexed, complete, unchanged since unpacking); and what stopped work left
// (leftovers.mjs). Repair drops index entries whose blobs are missing or damaged, and broken signatures, removes
// damaged blobs, damaged or orphaned unpacked copies and leftovers. It
// never removes a blob that a remaining index entry or a live lease names, and it holds the index lock
// throughout (as gc does), so no pack is recorded meanwhile.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import * as core from './core-node.mjs';
import { isCtxpackError } from './errors.mjs';
import { checkSignatures } from './fsck-signatures.mjs';
import { READ_CHUNK_BYTES } from './hash-file.mjs';
import { readLeases } from './lease.mjs';
import { findLeftovers, listPantry, removeLeftover } from './leftovers.mjs';
import { ARTIFACT_TYPES, openPantry, writeFileAtomic } from './pantry.mjs';
import { phaseReporter } from './progress.mjs';
import { openRegularFile } from './regular-file.mjs';
import { copyIsIntact, removeUnpacked, unpackedPaths, unpackedRoot } from './unpacked.mjs';
import { staleLock } from './lock.mjs';

const HEX_NAME = /^[0-9a-f]{64}$/;
const LAYOUT_MARKER = '{"imageLayoutVersion":"1.0.0"}';

/**
 * @typedef {{code: string, path: string, message: string, uri?: string, repaired: boolean}} Problem
 * @typedef {{home: string, ok: boolean, repair: boolean, problems: Problem[],
 *   checked: {entries: number, blobs: number, bytes: number, unpacked: number},
 *   dangling: {blobs: number, bytes: number}}} FsckResult
 */

/**
 * @param {{home?: string, repair?: boolean, lockTimeoutMs?: number, onProgress?: Function}} [options]
 * @returns {Promise<FsckResult>} ok: no problem is left (none found, or all repaired)
 */
export async function fsck(options = {}) {
  const pantry = openPantry(options);
  const repair = Boolean(options.repair);
  const result = { home: pantry.home, ok: true, repair, problems: [], checked: { entries: 0, blobs: 0, bytes: 0, unpacked: 0 }, dangling: { blobs: 0, bytes: 0 } };
  if (!fs.existsSync(pantry.home)) return result;
  const scan = () => new Scan(pantry, result, options).run();
  await (repair ? pantry.withLock('index', scan) : scan());
  result.ok = result.problems.every((problem) => problem.repaired);
  return result;
}

class Scan {
  constructor(pantry, result, { repair = false, onProgress }) {
    this.pantry = pantry;
    this.result = result;
    this.repair = repair;
    this.onProgress = onProgress;
    /** digest → null (intact) or {code, message}: each blob is read once. */
    this.blobs = new Map();
  }

  problem(code, filePath, message, extra = {}) {
    const problem = { code, path: filePath, message, ...extra, repaired: false };
    this.result.problems.push(problem);
    return problem;
  }

  async run() {
    // Listed before the leases are read (see leftovers.mjs).
    const listing = listPantry(this.pantry);
    const leases = readLeases(this.pantry.home);
    const hexBlobs = listing.blobs.filter((name) => HEX_NAME.test(name));
    this.onBytes = phaseReporter(this.onProgress, 'fsck', hexBlobs.reduce((sum, name) => sum + fileSize(path.join(this.pantry.blobsDir, name)), 0));
    this.checkLayout(listing);
    const entries = this.checkIndex();
    const checked = entries === null ? null : this.checkEntries(entries);
    const signatureBlobs = checked === null ? [] : checkSignatures(this, checked.indexed);
    this.checkBlobs(hexBlobs, checked?.indexed ?? null, leases, signatureBlobs);
    if (checked !== null) await this.checkUnpacked(listing.unpacked, checked);
    for (const leftover of findLeftovers(this.pantry, listing, leases, { indexLocked: this.repair })) {
      const problem = this.problem(leftover.code, leftover.path, leftover.message);
      if (this.repair) {
        removeLeftover(leftover);
        problem.repaired = true;
      }
    }
  }

  checkLayout(listing) {
    if (!listing.home.includes('index.json') && !listing.home.includes('blobs')) return;
    const markerPath = path.join(this.pantry.home, 'oci-layout');
    let valid = false;
    try {
      valid = JSON.parse(fs.readFileSync(markerPath, 'utf8'))?.imageLayoutVersion === '1.0.0';
    } catch {
      // Missing or unreadable: reported below.
    }
    if (valid) return;
    const problem = this.problem('layout-invalid', markerPath, 'the OCI layout marker is missing or not {"imageLayoutVersion":"1.0.0"}');
    if (this.repair) {
      writeFileAtomic(markerPath, Buffer.from(LAYOUT_MARKER));
      problem.repaired = true;
    }
  }

  /** @returns {Array<object> | null} the entries, or null when index.json cannot be read (nothing is repaired then) */
  checkIndex() {
    try {
      return this.pantry.entries();
    } catch (error) {
      if (!isCtxpackError(error)) throw error;
      this.problem('index-invalid', this.pantry.indexPath, `${error.code}: ${error.message}; restore it from a backup, or move it away to start an empty pantry`);
      return null;
    }
  }

  /**
   * Every entry's blobs; entries with a missing or damaged one are dropped with `repair`.
   * @returns {{intact: object[], indexed: Array<{entry: object, blobs: string[]}>}} the intact entries, and
   *   those still in index.json with the digests they reach
   */
  checkEntries(entries) {
    const kept = [];
    const broken = [];
    for (const entry of entries) {
      this.result.checked.entries += 1;
      const manifest = { digest: entry.digest, size: entry.size };
      const found = [];
      const blobs = [entry.digest];
      const check = (descriptor, role) => {
        const issue = this.checkBlob(descriptor);
        if (issue) found.push(this.problem(issue.code, this.pantry.blobPath(descriptor.digest), `${role} ${descriptor.digest} of ${entry.uri}: ${issue.message}`, { uri: entry.uri }));
        return issue === null;
      };
      if (check(manifest, 'the manifest')) {
        try {
          const parsed = core.ociParseManifest(this.pantry.fetchBytes(manifest));
          if (parsed.uri !== entry.uri) throw new Error(`it describes ${parsed.uri}`);
          if (parsed.artifactType !== entry.artifactType) throw new Error(`it is a ${parsed.artifactType} manifest, indexed as a ${entry.artifactType}`);
          for (const [blob, role] of [[parsed.config, 'the config'], ...parsed.layers.map((layer) => [layer, 'the layer'])]) {
            blobs.push(blob.digest);
            check(blob, role);
          }
        } catch (error) {
          found.push(this.problem('manifest-invalid', this.pantry.blobPath(entry.digest), `the manifest of ${entry.uri} is not a valid one: ${error.message}`, { uri: entry.uri }));
        }
      }
      if (found.length === 0) kept.push({ entry, blobs });
      else broken.push({ entry, blobs, found });
    }
    if (this.repair && broken.length > 0) {
      let index = this.pantry.readIndex();
      for (const { entry } of broken) index = core.ociIndexRemove(index, entry.uri);
      writeFileAtomic(this.pantry.indexPath, index);
      for (const { entry, found } of broken) {
        for (const problem of found) problem.repaired = true;
        this.problem('entry-dropped', this.pantry.indexPath, `dropped ${entry.uri} from index.json: its blobs are missing or damaged; seed, pull or import it again`, { uri: entry.uri }).repaired = true;
      }
    }
    return { intact: kept.map(({ entry }) => entry), indexed: this.repair ? kept : [...kept, ...broken] };
  }

  /**
   * Blobs no entry reached: damaged ones are problems (removed with `repair`), intact ones are dangling (gc's work).
   * @param {Array<{blobs: string[]}> | null} indexed the entries in index.json (null: it could not be read)
   * @param {string[]} signatureBlobs what the intact signatures reach
   */
  checkBlobs(hexBlobs, indexed, leases, signatureBlobs) {
    const referenced = new Set([...(indexed?.flatMap(({ blobs }) => blobs) ?? []), ...signatureBlobs]);
    const leased = new Set([...leases.live.values()].flatMap((lease) => lease.digests));
    for (const name of hexBlobs) {
      const digest = `sha256:${name}`;
      const blobPath = path.join(this.pantry.blobsDir, name);
      const issue = this.checkBlob({ digest, size: fileSize(blobPath) });
      if (issue === null) {
        if (!referenced.has(digest) && !leased.has(digest)) {
          this.result.dangling.blobs += 1;
          this.result.dangling.bytes += fileSize(blobPath);
        }
        continue;
      }
      const reported = this.result.problems.find((problem) => problem.path === blobPath);
      const problem = reported ?? this.problem(issue.code, blobPath, `${digest}: ${issue.message}`);
      // Kept while an index entry (index.json unreadable: any) or a live lease may need it.
      const removable = indexed !== null && !referenced.has(digest) && !leased.has(digest);
      if (this.repair && removable && issue.code === 'blob-corrupt') {
        fs.rmSync(blobPath, { recursive: true, force: true });
        problem.repaired = true;
      }
    }
  }

  /** @returns {{code: string, message: string} | null} null when the blob is there, regular, and hashes to its name */
  checkBlob(descriptor) {
    if (this.blobs.has(descriptor.digest)) return sizeIssue(this.blobs.get(descriptor.digest), descriptor);
    const blobPath = this.pantry.blobPath(descriptor.digest);
    let state;
    try {
      state = hashBlob(blobPath, this.onBytes);
      this.result.checked.blobs += 1;
      this.result.checked.bytes += state.size;
    } catch (error) {
      if (error.code === 'ENOENT') state = { issue: { code: 'blob-missing', message: 'missing' } };
      else if (isCtxpackError(error)) state = { issue: { code: 'blob-corrupt', message: error.message } };
      else throw error;
    }
    if (!state.issue && state.digest !== descriptor.digest) {
      state = { issue: { code: 'blob-corrupt', message: `its content hashes to ${state.digest}` } };
    }
    this.blobs.set(descriptor.digest, state);
    return sizeIssue(state, descriptor);
  }

  async checkUnpacked(names, { intact, indexed }) {
    const hexOf = (entry) => core.uriTag(entry.uri).slice('ctx-'.length);
    const packs = new Map(intact.filter((entry) => entry.artifactType === ARTIFACT_TYPES.pack).map((entry) => [hexOf(entry), entry]));
    // A damaged entry that stays in index.json (no repair) is reported already; its copy is not judged.
    const damaged = new Set(indexed.map(({ entry }) => hexOf(entry)).filter((hex) => !packs.has(hex)));
    const root = unpackedRoot(this.pantry);
    for (const name of names) {
      const stampOnly = /^([0-9a-f]{64})\.stamp\.json$/.exec(name)?.[1];
      const hex = stampOnly ?? (HEX_NAME.test(name) ? name : undefined);
      if (hex === undefined || damaged.has(hex)) continue;
      // An unpack of this pack is running: its copy is not finished, whatever it looks like.
      if (this.lockHeld(`unpack-ctx-${hex}`)) continue;
      const uri = `ctx://sha256:${hex}`;
      const paths = unpackedPaths(this.pantry, uri);
      const entry = packs.get(hex);
      let issue;
      if (stampOnly !== undefined) {
        if (!entry || fs.existsSync(paths.dir)) continue;
        issue = ['unpacked-incomplete', paths.stampPath, `the stamp of ${uri}'s unpacked copy, without the copy`];
      } else {
        this.result.checked.unpacked += 1;
        issue = await this.unpackedIssue(entry, uri, paths);
      }
      if (issue === null) continue;
      const problem = this.problem(issue[0], issue[1] ?? path.join(root, name), issue[2], { uri });
      if (this.repair) {
        await this.pantry.withLock(`unpack-ctx-${hex}`, () => removeUnpacked(this.pantry, uri));
        problem.repaired = true;
      }
    }
  }

  async unpackedIssue(entry, uri, paths) {
    if (!entry) return ['unpacked-orphan', paths.dir, `an unpacked copy of ${uri}, which is not in the pantry`];
    if (!fs.existsSync(paths.stampPath)) return ['unpacked-incomplete', paths.dir, `the unpacked copy of ${uri} has no stamp: it was never finished`];
    const manifest = core.parseManifest(this.pantry.fetchBytes(this.pantry.loadPack(uri).config));
    if (await copyIsIntact(paths, manifest, {})) return null;
    return ['unpacked-damaged', paths.dir, `the unpacked copy of ${uri} was changed after it was unpacked`];
  }

  lockHeld(name) {
    const lockPath = path.join(this.pantry.home, 'locks', `${name}.lock`);
    return fs.existsSync(lockPath) && staleLock(lockPath) === null;
  }
}

/** A blob that was read (or not) checked against a descriptor's size. */
function sizeIssue(state, descriptor) {
  if (state.issue) return state.issue;
  if (state.size !== descriptor.size) return { code: 'blob-corrupt', message: `it holds ${state.size} bytes, not ${descriptor.size}` };
  return null;
}

function hashBlob(blobPath, onBytes) {
  const fd = openRegularFile(blobPath);
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    const hash = createHash('sha256');
    let size = 0;
    for (let read = fs.readSync(fd, buffer); read > 0; read = fs.readSync(fd, buffer)) {
      hash.update(buffer.subarray(0, read));
      size += read;
      onBytes?.(read);
    }
    return { digest: `sha256:${hash.digest('hex')}`, size, issue: null };
  } finally {
    fs.closeSync(fd);
  }
}

function fileSize(filePath) {
  try {
    return fs.lstatSync(filePath).size;
  } catch {
    return 0;
  }
}
