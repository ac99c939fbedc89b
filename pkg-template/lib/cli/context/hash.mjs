import { hashPacket } from '../../context/operations.mjs';
import { readContextDocument } from '../../context/documents.mjs';

export default {
  name: 'context hash',
  synopsis: 'context hash <packet> [--check]',
  summary: "print a packet's content hash (packet_id and created_at excluded)",
  details: `The hash is SHA-256 over the RFC 8785 canonical JSON of the packet without header.packet_id,
header.created_at, provenance.packet_hash and provenance.build_stats.duration_ms: the same content always
has the same hash. With --check, exit 1 unless provenance.packet_hash equals it.`,
  options: { check: { type: 'boolean' } },
  optionLines: ['  --check  compare with provenance.packet_hash (exit 1 when they differ)'],
  positionals: [1, 1],
  async run({ values, positionals }) {
    const packet = readContextDocument(positionals[0]);
    const hash = hashPacket(packet);
    if (!values.check) return { text: hash, json: { packet_hash: hash } };
    const recorded = packet?.provenance?.packet_hash ?? null;
    const ok = recorded === hash;
    return {
      text: ok ? `ok: ${hash}` : `mismatch: recorded ${recorded ?? '(none)'}, content hashes to ${hash}`,
      json: { packet_hash: hash, recorded, ok },
      exitCode: ok ? 0 : 1,
    };
  },
};
