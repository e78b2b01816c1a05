// Engine fixtures checked against Istio's control plane too. Every case of test/fixtures/core that
// the oracle's release can answer (no Istio version or auto-mTLS override of its own, a base mesh
// whose Istio release has the oracle's features, no ambient workload) is judged by the engine and by
// the oracle: the mesh it describes (base folder, added objects) and, for a change, the mesh after
// it. Every (client, service port) pair must agree; `simulate` lines must also be the oracle's codes.
// A case marked `oracle: <class>` shows a class of tools/istio-oracle/differences.ts (a documented
// difference, or a known engine bug kept in view until it is fixed): there the pairs that differ
// must all be of that class, and some must differ. The oracle replays calls from Kubernetes
// workloads to Services and ServiceEntry hosts; known-callers.yaml (the API server, ingress
// controllers and scrapers as callers) is left out.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { EngineCase } from '../helpers/engine.js';
import { OracleSession } from '../../tools/istio-oracle/oracle.js';
import { compareWith, describeDiff, engineView, pairKey, withAddresses } from '../../tools/istio-oracle/differential.js';
import { DIFFERENCES } from '../../tools/istio-oracle/differences.js';
import { ISTIOD_IMAGE } from '../../tools/istio-oracle/generate.js';
import { features, parseVersion } from '../../src/core/mesh/version.js';
import { parseManifests } from '../../src/snapshot/manifests.js';
import { projectSnapshot } from '../../src/snapshot/project.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'core');
const FILES = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.yaml') && f !== 'known-callers.yaml')
  .sort();
const ORACLE_FEATURES = JSON.stringify(features(parseVersion(ISTIOD_IMAGE.slice(ISTIOD_IMAGE.lastIndexOf(':') + 1))!));
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

/** Whether the oracle's release answers for a case: no override, the same features, no ambient workload. */
function oracleAnswers(c: EngineCase): boolean {
  if (c.version || c.autoMtls) return false;
  // The snapshot alone: the engine's outcomes are not needed to decide.
  const { data } = projectSnapshot(parseManifests(meshOf(c, false), 'case.yaml'));
  return JSON.stringify(features(data.version)) === ORACLE_FEATURES && !data.workloads.some((w) => w.mesh === 'ambient');
}

let session: OracleSession;
let answered = 0;
t.before(async () => {
  session = await OracleSession.start();
});
t.teardown(async () => {
  await session?.close();
});

for (const file of FILES) {
  const cases = parse(readFileSync(join(FIXTURES, file), 'utf8')) as EngineCase[];
  t.test(file, async (t) => {
    for (const [i, c] of cases.entries()) {
      if (!oracleAnswers(c)) continue;
      answered++;
      await t.test(c.rule, async (t) => {
        const documented = c.oracle ? DIFFERENCES.find((d) => d.id === c.oracle) : undefined;
        if (c.oracle) t.ok(documented, `${c.oracle} is a class of disagreement`);
        // The mesh as the case's `simulate` lines see it, and after its change.
        for (const after of c.change && !c.delete ? [false, true] : [false]) {
          const id = `${file}-${i}${after ? '-after' : ''}`;
          const yaml = meshOf(c, after);
          const report = await session.judge({ id, yaml });
          const engine = engineView(withAddresses(yaml, report.addresses), `${id}.yaml`);
          const all = compareWith(id, yaml, engine, report);
          const { diffs } = all;
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
            if (!m) continue;
            const key = pairKey({ client: m[1]!, service: m[2]!, port: Number(m[3]) });
            const got = report.outcomes.find((o) => pairKey(o) === key);
            // A line about a pair of the marked class is the engine's side of the difference.
            if (documented && diffs.some((d) => d.key === key)) t.not(got?.code, m[4], `the oracle differs (${c.oracle}): ${line}`);
            else t.equal(got?.code, m[4], `oracle: ${line}`, { detail: got?.detail });
          }
        }
      });
    }
  });
}

t.test('the oracle answered for most fixture cases', async (t) => {
  t.ok(answered >= 80, `${answered} cases judged by both sides`);
});
