// The config rules (MG2xx), each asked directly, row by row: what each says, and when it says
// nothing (src/core/rules/mg2*.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import type { Change } from '../../../src/core/model/model.js';
import { CONFIG_RULES } from '../../../src/core/rules/registry.js';
import { buildIndex, changeObjects } from '../../helpers/engine.js';

interface Row {
  code: string;
  name: string;
  version?: string;
  add?: string;
  change: string;
  delete?: boolean;
  /** Each finding: a part of its message, or its whole message, subject and fix. */
  want: (string | { message: string; subject: string; fix: string })[];
}
const rows = parse(readFileSync('test/fixtures/core/units/config-rules.yaml', 'utf8')) as Row[];

for (const r of rows) {
  t.test(`${r.code}: ${r.name}`, async (t) => {
    const before = await buildIndex({
      rule: r.name,
      base: 'examples/mesh-current',
      ...(r.add ? { add: r.add } : {}),
      ...(r.version ? { version: r.version } : {}),
    });
    const [object] = changeObjects({ rule: r.name, change: r.change });
    const change: Change = { operation: r.delete ? 'DELETE' : before.find(object!) ? 'UPDATE' : 'CREATE', object: object! };
    const rule = CONFIG_RULES.find((x) => x.code === r.code)!;
    const got = rule.check(before, before.apply(change), change);
    t.equal(got.length, r.want.length, `${got.length} finding(s)`, { got: got.map((f) => f.message) });
    r.want.forEach((w, i) => {
      if (typeof w !== 'string') {
        t.equal(got[i]?.message, w.message, `finding ${i + 1}`);
        t.equal(got[i]?.service, w.subject, `finding ${i + 1}: what it is about`);
        t.equal(got[i]?.fix, w.fix, `finding ${i + 1}: its fix`);
      } else t.match(got[i]?.message, w, `finding ${i + 1}`);
      t.equal(got[i]?.code, r.code, `finding ${i + 1}: its code`);
    });
  });
}
