// Declared callers from outside the mesh: into which Service ports, which pods they scrape, and
// whether their plaintext gets through, row by row (src/core/verdict/callers.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { callerDetail, callerPods, declaredCallersInto, plaintextAccepted, podTargets } from '../../../src/core/verdict/callers.js';
import { buildIndex, portAt } from '../../helpers/engine.js';

const fx = parse(readFileSync('test/fixtures/core/units/callers.yaml', 'utf8')) as {
  add: string;
  into: Record<string, string[]>;
  pods: Record<string, boolean>;
};

t.test('declared callers', async (t) => {
  const idx = await buildIndex({ rule: 'callers', base: 'examples/mesh-current', add: fx.add });
  for (const [at, want] of Object.entries(fx.into)) {
    const { svc, port } = portAt(idx, at);
    t.same(
      declaredCallersInto(idx, svc, port).map((c) => c.client),
      want,
      at,
    );
  }
  const targets = podTargets(idx);
  t.same(
    targets.map((p) => `${p.workload.namespace}/${p.workload.name}:${p.containerPort}`).sort(),
    Object.keys(fx.pods).sort(),
    'podTargets',
  );
  for (const p of targets) {
    const at = `${p.workload.namespace}/${p.workload.name}:${p.containerPort}`;
    t.equal(plaintextAccepted(idx, p.workload, p.containerPort), fx.pods[at], `${at}: plaintext accepted`);
  }
  const h = portAt(idx, 'hooks/hook:443');
  const hook = declaredCallersInto(idx, h.svc, h.port)[0]!;
  t.equal(callerDetail(hook, 'hook.hooks', 443), `${hook.declaredBy} → hook.hooks:443${hook.note ? ` (${hook.note})` : ''}`);
  t.match(callerDetail({ ...hook, note: 'a note' }, 'x', 1), / → x:1 \(a note\)$/);
});

t.test("a caller's pods, as the snapshot has them: a pod it no longer has is passed over", async (t) => {
  const idx = await buildIndex({ rule: 'pods', base: 'examples/mesh-current' });
  const caller = { pods: ['sleep.legacy', 'gone.legacy', 'httpbin.foo'] } as unknown as Parameters<typeof callerPods>[1];
  t.same(
    callerPods(idx, caller).map((w) => `${w.name}.${w.namespace}`),
    ['sleep.legacy', 'httpbin.foo'],
  );
  t.same(callerPods(idx, {} as Parameters<typeof callerPods>[1]), [], 'a caller without pods');
});

t.test('a snapshot without declared callers has none anywhere', async (t) => {
  const idx = await buildIndex({ rule: 'none', base: 'examples/mesh-current' });
  const { svc, port } = portAt(idx, 'foo/httpbin:8000');
  t.same(declaredCallersInto(idx, svc, port), []);
  t.same(podTargets(idx), []);
});
