// The webhook's HTTP contract through inject(), table-driven from test/fixtures/http/validate.yaml.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import { loadManifests, parseManifests } from '../../src/snapshot/manifests.js';
import { projectSnapshot } from '../../src/snapshot/project.js';
import { trafficFromFile } from '../../src/evidence/file.js';
import { Writable } from 'node:stream';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { NO_EVENTS } from '../../src/admission/events.js';
import { demoIndex, fakeAuthorizer, review, testApp } from '../helpers/app.js';
import { setPath } from '../helpers/fixture-values.js';

interface Case {
  name: string;
  review?: string;
  set?: Record<string, unknown>;
  body?: unknown;
  raw?: string;
  contentType?: string;
  method?: 'GET' | 'POST';
  url?: string;
  extraSnapshot?: string;
  defaultMode?: 'warn';
  clockStep?: number;
  noSnapshot?: boolean;
  notReady?: string[];
  liveLabels?: Record<string, Record<string, string>>;
  /** `user verb namespace` lines the stand-in authorizer allows; `authzFails` makes it unreachable. */
  grants?: string[];
  authzFails?: boolean;
  /** `asked`: the permission checks made, as `user verb namespace`. */
  expect: { status: number; json?: unknown; events?: number; noWarnings?: boolean; asked?: string[] };
  messageHas?: string[];
  /** Lines /metrics shows after the request. */
  metrics?: string[];
}

const base = await demoIndex();
const cases = parse(readFileSync('test/fixtures/http/validate.yaml', 'utf8')) as Case[];
for (const c of cases) {
  t.test(c.name, async (t) => {
    let idx: MeshIndex | null = base;
    if (c.extraSnapshot) {
      const docs = [
        ...(await loadManifests(['examples/mesh-current', 'examples/webhook-demo'])),
        ...parseManifests(c.extraSnapshot, 'extra'),
      ];
      idx = MeshIndex.build(projectSnapshot(docs, { traffic: await trafficFromFile('examples/telemetry/legacy-plaintext.prom') }).data);
    }
    if (c.noSnapshot) idx = null;
    const authorizer = fakeAuthorizer(c.grants ?? [], c.authzFails ?? false);
    const ta = testApp(idx, {
      ...(c.defaultMode ? { defaultMode: c.defaultMode } : {}),
      ...(c.liveLabels ? { liveLabels: c.liveLabels } : {}),
      authorizer,
    });
    if (c.notReady) ta.ready = { ok: false, reasons: c.notReady };
    ta.clock.step = c.clockStep ?? 0;
    let payload: string | undefined;
    if (c.review) {
      const r = review(c.review);
      for (const [k, v] of Object.entries(c.set ?? {})) setPath(r, k, v);
      payload = JSON.stringify(r);
    } else if (c.body !== undefined) payload = JSON.stringify(c.body);
    else if (c.raw !== undefined) payload = c.raw;
    const res = await ta.app.inject({
      method: c.method ?? 'POST',
      url: c.url ?? '/validate',
      ...(payload !== undefined ? { payload, headers: { 'content-type': c.contentType ?? 'application/json' } } : {}),
    });
    t.equal(res.statusCode, c.expect.status, `status ${c.expect.status}`, { body: res.body.slice(0, 1500) });
    const body = res.headers['content-type']?.toString().includes('json') ? res.json() : undefined;
    if (c.expect.json !== undefined) t.match(body, c.expect.json, 'body', { body });
    if (c.expect.noWarnings) t.notOk(body?.response?.warnings, 'no warnings');
    if (c.expect.events !== undefined) t.equal(ta.events.length, c.expect.events, `${c.expect.events} Event(s) recorded`);
    for (const s of c.messageHas ?? [])
      t.ok(String(body?.response?.status?.message).includes(s), `message has: ${s}`, { message: body?.response?.status?.message });
    if (c.expect.asked) t.same(authorizer.asked, c.expect.asked, 'permissions checked');
    if (c.metrics) {
      const m = (await ta.app.inject({ method: 'GET', url: '/metrics' })).body;
      for (const line of c.metrics) t.ok(m.includes(line), `/metrics has ${line}`);
    }
    const warnings: string[] = body?.response?.warnings ?? [];
    for (const w of warnings) {
      t.notMatch(w, /[\r\n]/, 'warnings carry no newlines');
      // Finding lines fit in 120 characters; explanations of why nothing was judged may run longer.
      t.ok(w.length <= (/^MG1/.test(w) ? 120 : 300), `warning length ${w.length}: ${w}`);
    }
    await ta.app.close();
  });
}

t.test('GET /metrics exposes requests, latency from 0.5 ms, findings, snapshot age and certificate expiry', async (t) => {
  const ta = testApp(base);
  for (const name of ['strict-denied', 'allowed', 'strict-warn-namespace']) {
    await ta.app.inject({ method: 'POST', url: '/validate', payload: review(name) });
  }
  const res = await ta.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /text\/plain/);
  for (const line of [
    'mtls_guard_admission_requests_total{operation="CREATE",kind="PeerAuthentication",decision="deny",mode="enforce"} 1',
    'mtls_guard_admission_requests_total{operation="CREATE",kind="DestinationRule",decision="allow",mode="warn"} 1',
    'mtls_guard_admission_requests_total{operation="CREATE",kind="PeerAuthentication",decision="warn",mode="warn"} 1',
    'mtls_guard_admission_duration_seconds_bucket{le="0.0005",operation="CREATE"}',
    'mtls_guard_findings_total{code="MG101"}',
    'mtls_guard_snapshot_age_seconds 12',
    'mtls_guard_certificate_expiry_seconds 86400',
  ])
    t.ok(res.body.includes(line), line);
  await ta.app.close();
});

t.test('the server options the API server needs', async (t) => {
  const ta = testApp(base);
  t.ok(ta.app.initialConfig.bodyLimit! >= 8 * 1024 * 1024, 'bodyLimit ≥ 8 MiB');
  t.ok(ta.app.initialConfig.keepAliveTimeout! > 90_000, 'keepAliveTimeout above 90 s');
  t.ok((ta.app.initialConfig as { requestTimeout?: number }).requestTimeout! > 0, 'requestTimeout set');
  const big = review('allowed');
  big.request.object.metadata.annotations = { filler: 'x'.repeat(6 * 1024 * 1024) };
  const res = await ta.app.inject({
    method: 'POST',
    url: '/validate',
    payload: JSON.stringify(big),
    headers: { 'content-type': 'application/json' },
  });
  t.equal(res.statusCode, 200, 'a 6 MiB review is accepted');
  await ta.app.close();
});

t.test('log lines stay short whatever a request carries, and refused bodies are logged at warn', async (t) => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const app = buildApp({
    snapshot: () => base,
    ready: () => ({ ok: true, reasons: [] }),
    options: { defaultMode: 'enforce', denyOn: 'declared', authorizer: fakeAuthorizer(), rolePrefix: 'mtls-guard' },
    metrics: createMetrics({ snapshotAgeSeconds: () => 0, certNotAfterMs: () => null, nowMs: () => 0 }),
    events: NO_EVENTS,
    clock: () => 0,
    logger: { level: 'info', stream },
  });
  const r = review('strict-denied');
  r.request.uid = 'u'.repeat(128);
  r.request.namespace = 'n'.repeat(100_000);
  r.request.name = 'm'.repeat(100_000);
  r.request.kind.kind = 'K'.repeat(100_000);
  r.request.userInfo = { username: 'a'.repeat(1024), groups: ['g'.repeat(1000)] };
  for (let i = 0; i < 20; i++) await app.inject({ method: 'POST', url: `/validate?${'q'.repeat(8000)}=1`, payload: r });
  await app.inject({ method: 'POST', url: '/validate', payload: 'not json', headers: { 'content-type': 'application/json' } });
  await app.close();
  t.equal(lines.filter((l) => l.includes('admission decision')).length, 20, 'one decision line per request');
  const longest = Math.max(...lines.map((l) => l.length));
  t.ok(longest < 2048, `the longest line has ${longest} characters`);
  const refused = lines
    .map((l) => JSON.parse(l) as { level: number; msg: string; status?: number })
    .filter((l) => l.msg === 'request refused');
  t.same(
    refused.map((l) => [l.level, l.status]),
    [[40, 415]],
    'the 415 is logged once, at warn',
  );
});
