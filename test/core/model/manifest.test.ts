// DestinationRules written back as manifests, row by row: what a printed fix tells the user to apply.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { toManifest } from '../../../src/core/model/manifest.js';
import { reviseRule } from '../../../src/core/rules/remedy.js';
import type { DestinationRule, TlsMode } from '../../../src/core/model/model.js';
import { webRule } from '../../helpers/engine.js';

interface Row {
  name: string;
  spec: Record<string, unknown>;
  revise: TlsMode | null;
  /** Drop what the author wrote, as for a rule the engine builds itself. */
  unwritten?: boolean;
  want: Record<string, unknown>;
}

const rows = parse(readFileSync('test/fixtures/core/units/manifests.yaml', 'utf8')) as Row[];

for (const r of rows) {
  t.test(r.name, async (t) => {
    const read = webRule(r.spec);
    const rule: DestinationRule = r.unwritten ? { ...read, written: undefined } : read;
    const object = r.revise ? (reviseRule(rule, r.revise, '').change as { object: DestinationRule }).object : rule;
    const m = toManifest(object);
    t.same(m['spec'], r.want);
    t.same(m['metadata'], { name: 'web', namespace: 'shop' }, 'metadata');
  });
}
