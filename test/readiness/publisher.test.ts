// The publisher: a round after each new index, gauges from the last round, reports handed to the
// sink, failed syncs retried when the sink says so, and nothing after stop.
import t from 'tap';
import { buildIndex } from '../helpers/engine.js';
import { prepare } from '../../src/core/evaluate.js';
import type { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import { ReadinessPublisher } from '../../src/readiness/publisher.js';
import type { PolicyReport } from '../../src/readiness/policy-report.js';
import type { ReportSink, SyncResult } from '../../src/readiness/writer.js';

const TELEMETRY =
  'istio_requests_total{reporter="destination",source_workload="sleep",source_workload_namespace="legacy",destination_workload="httpbin",destination_workload_namespace="foo",destination_service="httpbin.foo.svc.cluster.local",connection_security_policy="none"} 12\n';
const ISTIO_MUTUAL_LEGACY =
  'apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: httpbin-mtls, namespace: legacy}\nspec: {host: httpbin.legacy.svc.cluster.local, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}\n';

/** A sink that records what it is asked to write, and fails while told to. */
class FakeSink implements ReportSink {
  syncs: Map<string, PolicyReport>[] = [];
  failing = false;
  retryDue = false;
  async sync(desired: ReadonlyMap<string, PolicyReport>): Promise<SyncResult> {
    this.syncs.push(new Map(desired));
    this.retryDue = this.failing;
    return { served: true, applied: [...desired.keys()], deleted: [], failed: [] };
  }
  due(): boolean {
    return this.retryDue;
  }
}

const wait = async (cond: () => boolean, ms = 10_000): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
};

t.test('judges each new index once, publishes gauges and reports, retries a sync the sink asks for, stops', async (t) => {
  let idx: MeshIndex | null = null;
  const sink = new FakeSink();
  const logs: string[] = [];
  const p = new ReadinessPublisher({
    index: () => idx,
    denyOn: 'declared',
    sink,
    log: (_l, m) => logs.push(m),
    pollMs: 5,
    minIntervalMs: 0,
  });
  p.start();
  await new Promise((r) => setTimeout(r, 50));
  t.equal(p.view(), null, 'no round before there is an index');
  t.equal(sink.syncs.length, 0);

  idx = prepare(await buildIndex({ rule: 'a', base: 'examples/mesh-current', telemetry: TELEMETRY }));
  t.ok(await p.current(), 'the first index is judged');
  t.match(p.view()!.gauges, { mesh: { ready: 0, blocking: 1 }, ready: 2, blocked: 1 });
  t.same([...sink.syncs.at(-1)!.keys()], ['bar', 'foo'], 'the reports go to the sink');
  const syncs = sink.syncs.length;
  await new Promise((r) => setTimeout(r, 100));
  t.equal(sink.syncs.length, syncs, 'the same index is not judged again');

  sink.failing = true;
  idx = prepare(await buildIndex({ rule: 'b', base: 'examples/mesh-current', add: ISTIO_MUTUAL_LEGACY }));
  t.ok(await p.current(), 'a new index is judged');
  t.match(p.view()!.gauges, { mesh: { ready: 1, broken: 4 } });
  t.same([...sink.syncs.at(-1)!.keys()], ['bar', 'foo', 'legacy'], 'the reports change with it');
  const before = sink.syncs.length;
  t.ok(await wait(() => sink.syncs.length > before + 1), 'a sync the sink wants again is retried without a new index');
  sink.failing = false;
  t.same([...sink.syncs.at(-1)!.keys()], ['bar', 'foo', 'legacy'], 'with the same reports');

  await p.stop();
  const after = sink.syncs.length;
  idx = prepare(await buildIndex({ rule: 'c', base: 'examples/mesh-current' }));
  await new Promise((r) => setTimeout(r, 100));
  t.equal(sink.syncs.length, after, 'nothing after stop');
  t.same(logs, [], 'nothing to log on a small mesh');
});

t.test('a mesh above maxConnections: readiness only, said once in the log', async (t) => {
  let idx: MeshIndex | null = prepare(await buildIndex({ rule: 'a', base: 'examples/mesh-current', add: ISTIO_MUTUAL_LEGACY }));
  const logs: string[] = [];
  const p = new ReadinessPublisher({
    index: () => idx,
    denyOn: 'declared',
    log: (_l, m) => logs.push(m),
    pollMs: 5,
    minIntervalMs: 0,
    maxConnections: 10,
  });
  p.start();
  t.ok(await p.current());
  t.equal(p.view()!.gauges.mesh.broken, null, 'no connections failing now are computed');
  idx = prepare(await buildIndex({ rule: 'b', base: 'examples/mesh-current' }));
  t.ok(await p.current());
  await p.stop();
  t.equal(logs.length, 1, 'said once');
  t.match(logs[0], /the mesh has \d+ \(client, service port\) pairs, more than 10/);
  t.same([...p.reports().keys()], [], 'without a sink, no reports are kept');
});

t.test('rounds are spaced by minIntervalMs', async (t) => {
  let idx: MeshIndex | null = prepare(await buildIndex({ rule: 'a', base: 'examples/mesh-current' }));
  const next = prepare(await buildIndex({ rule: 'b', base: 'examples/mesh-current', add: ISTIO_MUTUAL_LEGACY }));
  const p = new ReadinessPublisher({ index: () => idx, denyOn: 'declared', log: () => {}, pollMs: 5, minIntervalMs: 400 });
  p.start();
  t.ok(await p.current());
  const first = p.view()!.atMs;
  idx = next;
  t.ok(await p.current(), 'judged in the end');
  t.ok(p.view()!.atMs - first >= 380, `not before the interval (${p.view()!.atMs - first} ms)`);
  await p.stop();
});
