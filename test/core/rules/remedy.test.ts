// Remedies as the rules propose them, row by row (src/core/rules/remedy.ts).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import t from 'tap';
import { parse } from 'yaml';
import type { MeshIndex } from '../../../src/core/mesh/mesh-index.js';
import type { DestinationRule, Workload } from '../../../src/core/model/model.js';
import { destinationRules, injectClients, keepPortPermissive, reviseRule, rfc3339 } from '../../../src/core/rules/remedy.js';
import type { BreakContext } from '../../../src/core/rules/rule.js';
import { buildIndex, webRule } from '../../helpers/engine.js';

const fx = parse(readFileSync('test/fixtures/core/units/remedy.yaml', 'utf8')) as {
  add: string;
  permissive: { name: string; base: string; want: { name: string; created: string } }[];
  places: { name: string; service: string; members: string[]; want: string[] }[];
  inject: { members: string[]; says: string | null }[];
};

const index = () => buildIndex({ rule: 'remedy', base: 'examples/mesh-current', add: fx.add });
const workloads = (idx: MeshIndex, refs: readonly string[]): Workload[] =>
  refs.map((r) => idx.allWorkloads().find((w) => `${w.name}.${w.namespace}` === r)!);

/** A break context with what these remedies read: the mesh after, the Service and the clients. */
function context(idx: MeshIndex, service: string, members: readonly string[]): BreakContext {
  const svc = idx.allServices().find((s) => `${s.namespace}/${s.name}` === service)!;
  return {
    after: idx,
    service: svc,
    port: svc.ports[0]!,
    members: workloads(idx, members),
    client: 'some clients',
  } as unknown as BreakContext;
}

t.test('rfc3339 is the UTC time of the instant, to the second, without reading a clock', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_000 }), (ms) => {
      const want = new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
      return rfc3339(ms) === want;
    }),
    { numRuns: 2000 },
  );
  for (const [ms, want] of [
    [0, '1970-01-01T00:00:00Z'],
    [951_782_400_000, '2000-02-29T00:00:00Z'],
    [-1000, '1969-12-31T23:59:59Z'],
  ] as const)
    t.equal(rfc3339(ms), want);
});

t.test('keepPortPermissive: a fresh name and a time after every object', async (t) => {
  const idx = await index();
  for (const r of fx.permissive) {
    const [remedy] = keepPortPermissive(idx, 'foo', r.base, { app: 'sleep' }, 80, 'port 80 of sleep.foo');
    const o = remedy!.change.kind === 'object' ? remedy!.change.object : undefined;
    t.same({ name: o?.name, created: o?.created }, r.want, r.name);
  }
  t.same(keepPortPermissive(idx, 'foo', 'x', {}, 80, 'port 80'), [], 'no remedy without labels to select by');
});

t.test('destinationRules: where a rule for the host is proposed', async (t) => {
  const idx = await index();
  for (const r of fx.places) {
    const got = destinationRules(context(idx, r.service, r.members), 'ISTIO_MUTUAL').map((x) => {
      const dr = (x.change as { object: DestinationRule }).object;
      t.equal(dr.host, idx.fqdn(context(idx, r.service, []).service), `${r.name}: for the Service's host`);
      return dr.exportTo ? `${dr.namespace} [${dr.exportTo.join(',')}]` : dr.namespace;
    });
    t.same(got, r.want, r.name);
  }
});

t.test('injectClients: who is enrolled, in words', async (t) => {
  const idx = await index();
  for (const r of fx.inject) {
    const got = injectClients(context(idx, 'foo/httpbin', r.members));
    t.equal(got[0]?.says ?? null, r.says, r.members.join(', ') || '(no members)');
    if (got[0]?.change.kind === 'enrol')
      t.ok(
        got[0].change.workloads.every((w) => w.mesh === 'none'),
        'only workloads without a proxy',
      );
  }
});

t.test('reviseRule sets the mode at the top and in every port entry that sets TLS', async (t) => {
  const rule = webRule({
    trafficPolicy: {
      tls: { mode: 'DISABLE' },
      portLevelSettings: [
        { port: { number: 80 }, tls: { mode: 'SIMPLE' } },
        { port: { number: 81 }, loadBalancer: { simple: 'RANDOM' } },
      ],
    },
  });
  const r = reviseRule(rule, 'ISTIO_MUTUAL', 'words');
  const o = (r.change as { object: DestinationRule }).object;
  t.same(r.says, 'words');
  t.same(r.change.kind === 'object' && r.change.operation, 'UPDATE');
  t.same(o.trafficPolicy, {
    tls: { mode: 'ISTIO_MUTUAL' },
    portLevel: [
      { port: 80, tls: { mode: 'ISTIO_MUTUAL' } },
      { port: 81, tls: null },
    ],
  });
  const bare = webRule();
  t.same((reviseRule(bare, 'DISABLE', '').change as { object: DestinationRule }).object.trafficPolicy, {
    tls: { mode: 'DISABLE' },
    portLevel: [],
  });
});
