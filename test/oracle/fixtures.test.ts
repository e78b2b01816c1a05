// Engine fixtures checked against Istio's control plane too. For each case of the files below that
// the oracle's release can answer (no Istio version of its own), the mesh the case describes (its
// base folder, its added objects and its change applied) is judged by the engine and by the oracle,
// and every (client, service port) pair must agree; `simulate` lines must also be the oracle's codes.
// A case marked `oracle: <class>` shows a documented difference (tools/istio-oracle/differences.ts):
// there the pairs that differ must all be of that class, and some must differ. The oracle replays
// calls to Kubernetes Services only: pairs towards a ServiceEntry host are the engine's alone.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { EngineCase } from '../helpers/engine.js';
import { OracleSession } from '../../tools/istio-oracle/oracle.js';
import { compareWith, describeDiff, engineView, pairKey, withAddresses } from '../../tools/istio-oracle/differential.js';
import { DIFFERENCES } from '../../tools/istio-oracle/differences.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FILES = ['oracle-found.yaml', 'sidecar-scope.yaml', 'capture.yaml'];
const LINE = /^(\S+) to (\S+):(\d+): (\d{3})$/;

/** The manifests of a case as one YAML stream: the base folder's files in order, its own objects, and its change when asked. */
function meshOf(c: EngineCase, withChange: boolean): string {
  const parts: string[] = [];
  if (c.base) {
    const dir = join(ROOT, c.base);
    for (const f of readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort())
      parts.push(readFileSync(join(dir, f), 'utf8'));
  }
  if (c.add) parts.push(c.add);
  if (withChange && c.change && !c.delete) parts.push(c.change);
  return parts.map((p) => p.replace(/^\s*---\s*\n/, '').trimEnd()).join('\n---\n');
}

let session: OracleSession;
t.before(async () => {
  session = await OracleSession.start();
});
t.teardown(async () => {
  await session?.close();
});

for (const file of FILES) {
  const cases = (parse(readFileSync(join(ROOT, 'test', 'fixtures', 'core', file), 'utf8')) as EngineCase[]).filter((c) => !c.version);
  t.test(file, async (t) => {
    t.ok(cases.length > 0, `${cases.length} cases the oracle can answer`);
    for (const [i, c] of cases.entries()) {
      await t.test(c.rule, async (t) => {
        const documented = c.oracle ? DIFFERENCES.find((d) => d.id === c.oracle) : undefined;
        if (c.oracle) t.ok(documented && documented.verdict !== 'engine-bug', `${c.oracle} is a documented difference`);
        // The mesh as the case's `simulate` lines see it, and after its change.
        for (const after of c.change && !c.delete ? [false, true] : [false]) {
          const id = `${file}-${i}${after ? '-after' : ''}`;
          const yaml = meshOf(c, after);
          const report = await session.judge({ id, yaml });
          const engine = engineView(withAddresses(yaml, report.addresses), `${id}.yaml`);
          const entryHosts = new Set(engine.data.serviceEntries.flatMap((se) => se.hosts));
          const all = compareWith(id, yaml, engine, report);
          const diffs = all.diffs.filter((d) => d.oracle || !entryHosts.has(d.engine?.service ?? ''));
          const state = after ? 'after the change' : 'before the change';
          if (documented) {
            t.same(
              diffs.filter((d) => d.cls?.id !== c.oracle).map(describeDiff),
              [],
              `${state}: every pair that differs is of ${c.oracle}`,
            );
          } else {
            t.same(diffs.map(describeDiff), [], `${state}: engine and oracle agree on all ${all.total} pairs`);
          }
          if (after) continue;
          if (documented) t.ok(diffs.length > 0, `the oracle still differs (${c.oracle})`);
          for (const line of c.simulate ?? []) {
            const m = LINE.exec(line);
            if (!m || entryHosts.has(m[2]!)) continue;
            const key = pairKey({ client: m[1]!, service: m[2]!, port: Number(m[3]) });
            const got = report.outcomes.find((o) => pairKey(o) === key);
            if (documented) t.not(got?.code, m[4], `the oracle still differs: ${line}`);
            else t.equal(got?.code, m[4], `oracle: ${line}`, { detail: got?.detail });
          }
        }
      });
    }
  });
}
