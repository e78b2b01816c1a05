// The evidence that a client calls a Service, and the callers found by reverse lookup, row by row
// (src/core/verdict/evidence.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import type { MeshIndex } from '../../../src/core/mesh/mesh-index.js';
import { callersOf, evidenceFor, prepareCallers, unknownPlaintextInto } from '../../../src/core/verdict/evidence.js';
import { buildIndex, workloadAt } from '../../helpers/engine.js';

const fx = parse(readFileSync('test/fixtures/core/units/evidence.yaml', 'utf8')) as {
  add: string;
  telemetry: string;
  evidence: [string, string, string, string | null][];
  callers: Record<string, string[]>;
  unknown: Record<string, string | null>;
};

const service = (idx: MeshIndex, ref: string) => idx.allServices().find((s) => `${s.namespace}/${s.name}` === ref)!;

t.test('evidenceFor', async (t) => {
  const idx = await buildIndex({ rule: 'evidence', base: 'examples/mesh-current', add: fx.add, telemetry: fx.telemetry });
  for (const [client, svc, level, detail] of fx.evidence) {
    const e = evidenceFor(idx, workloadAt(idx, client), service(idx, svc));
    t.equal(e.level, level, `${client} to ${svc}`);
    if (detail === null) t.equal(e.detail, undefined, `${client} to ${svc}: no detail`);
    else t.match(e.detail, detail, `${client} to ${svc}: says what it rests on`);
  }
});

t.test('callersOf, before and after the reverse lookups are prepared', async (t) => {
  for (const prepared of [false, true]) {
    const idx = await buildIndex({ rule: 'callers', base: 'examples/mesh-current', add: fx.add, telemetry: fx.telemetry });
    if (prepared) prepareCallers(idx);
    for (const [svc, want] of Object.entries(fx.callers)) {
      const got = callersOf(idx, service(idx, svc))
        .map((w) => `${w.namespace}/${w.name}`)
        .sort();
      t.same(got, want, `${svc}${prepared ? ' (prepared)' : ''}`);
    }
  }
});

t.test('unknownPlaintextInto', async (t) => {
  const idx = await buildIndex({ rule: 'unknown', base: 'examples/mesh-current', add: fx.add, telemetry: fx.telemetry });
  for (const [svc, detail] of Object.entries(fx.unknown)) {
    const e = unknownPlaintextInto(idx, service(idx, svc));
    if (detail === null) t.equal(e, undefined, svc);
    else t.match(e, { level: 'observed', detail }, svc);
  }
});

t.test('degraded telemetry observes nothing', async (t) => {
  const idx = await buildIndex({
    rule: 'degraded',
    base: 'examples/mesh-current',
    add: fx.add,
    telemetry: fx.telemetry,
    degraded: 'Prometheus is down',
  });
  t.equal(evidenceFor(idx, workloadAt(idx, 'legacy/sleep'), service(idx, 'foo/httpbin')).level, 'possible');
  t.equal(unknownPlaintextInto(idx, service(idx, 'bar/httpbin')), undefined);
});
