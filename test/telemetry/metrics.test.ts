// The readiness gauges on /metrics: -1 before the first round, one series per namespace after it,
// and a namespace that is gone loses its series at the next scrape.
import t from 'tap';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { PublishedReadiness } from '../../src/readiness/publisher.js';

t.test('readiness gauges follow the last round', async (t) => {
  let r: PublishedReadiness | null = null;
  const m = createMetrics({ snapshotAgeSeconds: () => 1, certNotAfterMs: () => null, nowMs: () => 10_000, readiness: () => r });
  let text = await m.registry.metrics();
  t.match(text, /^mtls_guard_mesh_strict_ready -1$/m, 'the mesh gauge says -1 before the first round');
  t.match(text, /^mtls_guard_readiness_age_seconds -1$/m);
  t.notMatch(text, /mtls_guard_strict_ready\{/, 'no namespace series yet');

  r = {
    atMs: 8_000,
    busyMs: 1234,
    gauges: {
      namespaces: [
        { namespace: 'bar', ready: 1, blocking: 0, broken: 0 },
        { namespace: 'foo', ready: 0, blocking: 2, broken: 3 },
        { namespace: '_other', ready: 1, blocking: 0 },
      ],
      mesh: { ready: 0, blocking: 2, broken: 3 },
      ready: 5,
      blocked: 1,
    },
  };
  text = await m.registry.metrics();
  for (const line of [
    'mtls_guard_strict_ready{namespace="bar"} 1',
    'mtls_guard_strict_ready{namespace="foo"} 0',
    'mtls_guard_strict_ready{namespace="_other"} 1',
    'mtls_guard_strict_blocking_connections{namespace="foo"} 2',
    'mtls_guard_broken_connections{namespace="foo"} 3',
    'mtls_guard_mesh_strict_ready 0',
    'mtls_guard_mesh_strict_blocking_connections 2',
    'mtls_guard_mesh_broken_connections 3',
    'mtls_guard_strict_namespaces{ready="true"} 5',
    'mtls_guard_strict_namespaces{ready="false"} 1',
    'mtls_guard_readiness_age_seconds 2',
    'mtls_guard_readiness_duration_seconds 1.234',
  ])
    t.ok(text.split('\n').includes(line), line);
  t.notMatch(text, /mtls_guard_broken_connections\{namespace="_other"\}/, 'a value not judged has no series');

  r = {
    ...r,
    gauges: {
      ...r.gauges,
      namespaces: [{ namespace: 'bar', ready: 1, blocking: 0, broken: 0 }],
      mesh: { ready: 1, blocking: 0, broken: null },
    },
  };
  text = await m.registry.metrics();
  t.notMatch(text, /namespace="foo"/, 'a namespace that is gone has no series left');
  t.match(text, /^mtls_guard_mesh_broken_connections -1$/m, 'connections not computed read -1');
});

t.test('PolicyReport writes are counted by operation and outcome', async (t) => {
  const m = createMetrics({ snapshotAgeSeconds: () => 1, certNotAfterMs: () => null, nowMs: () => 0 });
  m.policyReportWrites.inc({ operation: 'apply', outcome: 'ok' });
  t.match(await m.registry.metrics(), 'mtls_guard_policy_report_writes_total{operation="apply",outcome="ok"} 1');
});
