// The projections the live snapshot keeps, per kind: exactly what the engine reads.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { prune } from '../../src/snapshot/prune.js';
import type { Json } from '../../src/core/model/objects.js';

const cases = parse(readFileSync(new URL('../fixtures/snapshot/prune.yaml', import.meta.url), 'utf8')) as {
  name: string;
  in: Json;
  out: Json;
}[];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.same(prune(c.in), c.out);
    t.ok(JSON.stringify(prune(c.in)).length < JSON.stringify(c.in).length, 'smaller than what came in');
  });
}
