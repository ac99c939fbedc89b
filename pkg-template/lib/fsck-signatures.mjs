// fsck's part for signatures: each referrers index the pantry keeps (index.json's `sha256-<hex>` entries) and each
// signature artifact it lists — blobs present and hashing to their digests, the artifact manifest and the DSSE
// envelope parsing, the subject being the manifest the index is kept for, and that manifest being a pack the
// pantry holds. Repair rewrites the referrers index without the broken signatures (other tools' referrers are
// kept) and drops it when nothing is left or its pack is gone; the blobs left unreferenced are then dangling, or
// removed as damaged by the blob check.
import * as core from './core-node.mjs';
import { isCtxpackError } from './errors.mjs';
import { SIGNATURE_TYPE } from './sign/store.mjs';
import { writeFileAtomic } from './stores/blob-writer.mjs';

const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';

/**
 * @param {object} scan fsck's Scan: `pantry`, `repair`, `problem(code, path, message)`, `checkBlob(descriptor)`
 * @param {Array<{entry: {digest: string}}>} indexed the entries index.json keeps
 * @returns {string[]} the digests the intact signatures reach (kept, not dangling)
 */
export function checkSignatures(scan, indexed) {
  const { pantry } = scan;
  const manifests = new Set(indexed.map(({ entry }) => entry.digest));
  const kept = [];
  let index = pantry.readIndex();
  if (index === null) return kept;
  for (const { subject, descriptor } of core.ociIndexReferrers(index)) {
    const where = pantry.blobPath(descriptor.digest);
    const problems = [];
    let rebuilt = null;
    let referrers = [];
    const issue = scan.checkBlob(descriptor);
    if (issue) problems.push(scan.problem(issue.code, where, `the referrers index of ${subject}: ${issue.message}`));
    else {
      try {
        referrers = core.referrersList(pantry.fetchBytes(descriptor));
      } catch (error) {
        if (!isCtxpackError(error)) throw error;
        problems.push(scan.problem('signature-invalid', where, `the referrers index of ${subject} is not one: ${error.message}`));
      }
    }
    if (!manifests.has(subject)) {
      problems.push(scan.problem('signature-orphaned', where, `signatures of ${subject}, a manifest the pantry does not hold`));
      referrers = [];
    }
    for (const referrer of referrers) {
      const reached = checkReferrer(scan, subject, referrer, problems);
      if (reached === null) continue;
      kept.push(...reached);
      rebuilt = core.referrersIndexAdd(rebuilt, referrer.descriptor, referrer.artifactType ?? SIGNATURE_TYPE);
    }
    if (problems.length === 0) {
      kept.push(descriptor.digest);
      continue;
    }
    if (!scan.repair) continue;
    if (rebuilt === null) index = core.ociIndexRemoveReferrers(index, subject);
    else {
      const digest = core.sha256(rebuilt);
      writeFileAtomic(pantry.blobPath(digest), rebuilt);
      index = core.ociIndexSetReferrers(index, { mediaType: INDEX_TYPE, digest, size: rebuilt.length }, subject);
      kept.push(digest);
    }
    writeFileAtomic(pantry.indexPath, index);
    for (const problem of problems) problem.repaired = true;
  }
  return kept;
}

/** One referrer of `subject`: the digests it reaches when intact, else null (its problem recorded). */
function checkReferrer(scan, subject, { descriptor, artifactType }, problems) {
  const { pantry } = scan;
  const where = pantry.blobPath(descriptor.digest);
  const fail = (code, message, at = where) => {
    problems.push(scan.problem(code, at, `signature ${descriptor.digest} of ${subject}: ${message}`));
    return null;
  };
  const issue = scan.checkBlob(descriptor);
  if (issue) return fail(issue.code, issue.message);
  // Another tool's referrer: its manifest is kept as it is, unread.
  if (artifactType !== undefined && artifactType !== SIGNATURE_TYPE) return [descriptor.digest];
  let parsed;
  try {
    parsed = core.parseSignatureManifest(pantry.fetchBytes(descriptor));
  } catch (error) {
    if (!isCtxpackError(error)) throw error;
    return fail('signature-invalid', `not a signature manifest: ${error.message}`);
  }
  if (parsed.subject.digest !== subject) return fail('signature-invalid', `it signs ${parsed.subject.digest}, not ${subject}`);
  const empty = core.ociEmptyConfig().descriptor;
  for (const blob of [parsed.envelope, empty]) {
    const blobIssue = scan.checkBlob(blob);
    if (blobIssue) return fail(blobIssue.code, `blob ${blob.digest}: ${blobIssue.message}`, pantry.blobPath(blob.digest));
  }
  try {
    const claims = core.envelopeClaims(pantry.fetchBytes(parsed.envelope));
    if (claims.manifestDigest !== subject) return fail('signature-invalid', `its envelope signs ${claims.manifestDigest}`);
  } catch (error) {
    if (!isCtxpackError(error)) throw error;
    return fail('signature-invalid', `its envelope does not parse: ${error.code} ${error.message}`);
  }
  return [descriptor.digest, parsed.envelope.digest, empty.digest];
}
