import { formatBytes, plural } from '../format.mjs';
import { fsck } from '../fsck.mjs';

const synopsis = 'fsck [--repair]';
const summary = 'check the whole pantry (blobs, index, unpacked copies, leftovers, stale locks); --repair fixes what is safe';
const details = `Every index entry's manifest, config and layers must be present and hash to their digests; every
other blob must hash to its name; unpacked copies must belong to a pack and be unchanged; files left by a
command that was interrupted or killed (.ingest-*, staging folders, temp files, leases and locks of processes
that are gone) are reported. Work still running (a live lease or lock) is left alone.
With --repair: drops index entries whose blobs are missing or damaged (seed, pull or import them again),
removes damaged blobs, orphaned or damaged unpacked copies and leftovers, holding the index lock. It never
removes a blob that a remaining index entry or a running command needs. Unreferenced intact blobs are
"dangling": \`ctxpack gc\` removes them.
Each problem is printed as "<code> <path>: <message>". Exit status 1 when a problem remains.`;

export default {
  name: 'fsck',
  synopsis,
  summary,
  details,
  options: { repair: { type: 'boolean' } },
  optionLines: ['  --repair  fix what is safe to fix (see above)'],
  positionals: [0, 0],
  async run({ values, home, onProgress }) {
    const result = await fsck({ home, repair: values.repair, onProgress });
    const lines = result.problems.map((problem) => `${problem.code} ${problem.path}: ${problem.message}${problem.repaired ? ' (repaired)' : ''}`);
    const left = result.problems.filter((problem) => !problem.repaired).length;
    const { entries, blobs, bytes, unpacked } = result.checked;
    const checked = `checked ${plural(entries, 'index entry', 'index entries')}, ${plural(blobs, 'blob')} (${formatBytes(bytes)}), ${plural(unpacked, 'unpacked copy', 'unpacked copies')}`;
    const found = result.problems.length === 0 ? 'no problems' : `${plural(result.problems.length, 'problem')}, ${left === 0 ? 'all repaired' : `${left} left${result.repair ? '' : ' (run `ctxpack fsck --repair`)'}`}`;
    const dangling = result.dangling.blobs > 0 ? `; ${plural(result.dangling.blobs, 'dangling blob')} (${formatBytes(result.dangling.bytes)}) for \`ctxpack gc\`` : '';
    return { text: lines.join('\n'), note: `${checked}: ${found}${dangling}`, json: result, exitCode: result.ok ? 0 : 1 };
  },
};
