// The verdict on a change under a mode and a deny threshold, row by row (src/core/verdict/decision.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import type { Code } from '../../../src/core/model/codes.js';
import type { RawFinding } from '../../../src/core/model/findings.js';
import type { Evidence, Mode } from '../../../src/core/model/model.js';
import { decide } from '../../../src/core/verdict/decision.js';

interface Row {
  name: string;
  findings: [Code, Evidence][];
  mode: Mode;
  denyOn: Evidence;
  allowed: boolean;
  severities: string[];
}
const rows = parse(readFileSync('test/fixtures/core/units/decision.yaml', 'utf8')) as Row[];

for (const r of rows) {
  t.test(r.name, async (t) => {
    const raw: RawFinding[] = r.findings.map(([code, evidence], i) => ({
      code,
      evidence,
      client: `c${i}`,
      service: 's',
      port: 80,
      before: '200',
      after: '000',
      message: `finding ${i}`,
      reason: 'r',
      fix: 'f',
    }));
    const v = decide(raw, r.mode, r.denyOn);
    t.equal(v.allowed, r.allowed, 'allowed');
    t.equal(v.mode, r.mode, 'mode');
    t.same(
      v.findings.map((f) => f.severity),
      r.severities,
      'severities',
    );
    t.same(
      v.findings.map((f) => f.message),
      raw.map((f) => f.message),
      'every finding kept, in order',
    );
    t.same(
      v.wouldDeny.map((f) => f.message),
      v.findings.filter((f) => f.severity === 'deny').map((f) => f.message),
      'wouldDeny holds the denying ones',
    );
  });
}
