// The Prometheus client: the queries it sends, how it reads answers, and how failures are named.
import t from 'tap';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parse } from 'yaml';
import { promQuery, queries, queryTraffic, formatWindow, type Getter } from '../../src/evidence/prometheus.js';

interface Case {
  name: string;
  status: number;
  answer: string;
  edges?: [string, string, string, boolean, number][];
  error?: string;
}
const cases = parse(readFileSync(new URL('../fixtures/evidence/prometheus.yaml', import.meta.url), 'utf8')) as Case[];
const OPTS = { url: 'http://prom:9090', windowMs: 3_600_000, timeoutMs: 1000 };

t.test('the queries of DESIGN.md §3', async (t) => {
  t.equal(
    promQuery('istio_requests_total', 'reporter="source"', 3_600_000),
    'sum by (reporter,source_workload,source_workload_namespace,destination_workload,destination_workload_namespace,destination_service,connection_security_policy) (rate(istio_requests_total{reporter="source"}[3600s]))',
  );
  const q = queries(3_600_000).map((x) => x.query);
  t.equal(q.length, 4, 'two metrics, two selectors');
  t.ok(
    q.some((x) => x.includes('istio_tcp_connections_opened_total{reporter="destination",connection_security_policy!="mutual_tls"}')),
    "plaintext as the server saw it, ambient's unknown included",
  );
  t.ok(
    q.some((x) => x.includes('istio_requests_total{reporter="source"}')),
    'who calls whom',
  );
  t.same([formatWindow(3_600_000), formatWindow(1_800_000), formatWindow(90_000), formatWindow(45_000)], ['1h', '30m', '90s', '45s']);
});

for (const c of cases) {
  t.test(c.name, async (t) => {
    const seen: URL[] = [];
    const get: Getter = async (url) => {
      seen.push(url);
      return { status: c.status, body: c.answer };
    };
    if (c.error) {
      await t.rejects(queryTraffic(OPTS, get), { code: 'E_EVIDENCE', message: c.error });
      return;
    }
    const tr = await queryTraffic(OPTS, get);
    t.equal(seen.length, 4, 'four queries');
    t.ok(
      seen.every((u) => u.pathname === '/api/v1/query' && u.searchParams.get('query')?.startsWith('sum by')),
      'instant queries',
    );
    t.equal(tr.source, 'Prometheus http://prom:9090 (rate over 1h)');
    t.equal(tr.perSecond, true, 'values are rates');
    const once = tr.edges.slice(0, tr.edges.length / 4);
    t.same(
      once.map((e) => [e.reporter, `${e.sourceWorkload}.${e.sourceNamespace}`, e.destinationService, e.plaintext, e.value]),
      c.edges,
    );
  });
}

t.test('a bearer token file is sent, and re-read on every round', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-prom-'));
  const file = join(dir, 'token');
  writeFileSync(file, 'one\n');
  const auth: string[] = [];
  const get: Getter = async (_u, headers) => {
    auth.push(headers['authorization'] ?? '');
    return { status: 200, body: '{"status":"success","data":{"resultType":"vector","result":[]}}' };
  };
  await queryTraffic({ ...OPTS, bearerTokenFile: file }, get);
  writeFileSync(file, 'two');
  await queryTraffic({ ...OPTS, bearerTokenFile: file }, get);
  t.same([...new Set(auth)], ['Bearer one', 'Bearer two']);
  await t.rejects(queryTraffic({ ...OPTS, bearerTokenFile: join(dir, 'missing') }, get), {
    code: 'E_EVIDENCE',
    message: /cannot read .*missing/,
  });
  await t.rejects(queryTraffic({ ...OPTS, caFile: join(dir, 'no-ca.pem') }, get), {
    code: 'E_EVIDENCE',
    message: /cannot read .*no-ca\.pem/,
  });
});

t.test('a network failure names the URL and the cause', async (t) => {
  const get: Getter = async () => {
    throw Object.assign(new Error('fetch failed'), { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
  };
  await t.rejects(queryTraffic(OPTS, get), { code: 'E_EVIDENCE', message: 'fetch failed (connect ECONNREFUSED 127.0.0.1:9)' });
});
