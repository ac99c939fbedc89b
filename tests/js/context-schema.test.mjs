// The published JSON Schema (schema/context-packet.schema.json, shipped as ctxpack/schema/…) checked with a
// validator nobody here wrote (Ajv, JSON Schema 2020-12): packets ctxpack builds and redacts conform to it, and
// the structural mistakes ctxpack's own validator rejects are rejected by it too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { PACKAGE_DIR, api, tempDir, writeTree } from './helpers.mjs';

const schema = JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, 'schema', 'context-packet.schema.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
const conforms = ajv.compile(schema);

test('a built packet conforms to the published schema', async (t) => {
  const root = tempDir(t);
  const home = tempDir(t);
  writeTree(root, {
    'src/app.py': 'def main(argv):\n    """Entry point."""\n    return run(argv)\n\n\ndef run(argv):\n    return 0\n',
    'src/web.ts': 'export function handler(request: Request): Response {\n  return new Response("ok");\n}\n',
    'README.md': '# App\n',
    '.env': 'TOKEN=x\n',
  });
  const task = { task_id: 'S-1', task_type: 'code.generate', summary: 'Schema check', target_symbol: 'main' };
  const { packet } = await api.buildContext(task, { project: root, home });
  assert.ok(conforms(packet), JSON.stringify(conforms.errors));
  const { packet: trimmed } = await api.budgetPacket(packet, { home, maxItems: 2 });
  assert.ok(conforms(trimmed), JSON.stringify(conforms.errors));
});

test('what ctxpack rejects structurally, the schema rejects too', async () => {
  const valid = {
    header: {
      packet_id: 'p', task_id: 't', task_type: 'refactor', created_at: '2026-11-23T12:00:00Z',
      builder_version: 'x', privacy: 'local_only',
    },
    problem: { summary: 's' },
    scope: { roots: ['.'] },
    constraints: { max_tokens: 1000 },
    context: [{ name: 'n', item_type: 'symbol', source: 'filesystem', path: 'a.py' }],
    policy: { remote_allowed: false },
    provenance: { inputs: {}, packet_hash: '' },
  };
  assert.ok(conforms(valid), JSON.stringify(conforms.errors));
  assert.ok((await api.validatePacket(valid, { audit: false })).valid);
  const broken = [
    (p) => delete p.problem,
    (p) => (p.context[0].item_type = 'widget'),
    (p) => (p.context[0].path = '/etc/passwd'),
    (p) => (p.context[0].path = 'a/../../b'),
    (p) => (p.constraints.max_tokens = 10),
    (p) => (p.header.privacy = 'public'),
    (p) => (p.problem.summary = 'x'.repeat(501)),
    (p) => (p.context[0].colour = 'blue'),
    (p) => (p.provenance.packet_hash = 'md5:abc'),
  ];
  for (const edit of broken) {
    const packet = structuredClone(valid);
    edit(packet);
    assert.equal(conforms(packet), false, `schema accepted: ${edit}`);
    assert.equal((await api.validatePacket(packet, { audit: false })).valid, false, `ctxpack accepted: ${edit}`);
  }
});
