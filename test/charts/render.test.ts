// The chart as `helm template` renders it, for the default values, each certificate mode and the
// values users change most; plus `helm lint --strict` and the schema's refusals.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { helmPath } from '../../tools/cluster/controlplane.js';
import { createMetrics } from '../../src/telemetry/metrics.js';

interface Expect {
  kind: string;
  name?: string;
  path: string;
  equals?: unknown;
  includes?: unknown;
  absent?: boolean;
}
interface Case {
  name: string;
  set: string[];
  kinds?: Record<string, number>;
  expect?: Expect[];
  error?: string;
}
type Obj = Record<string, unknown>;

const CHART = 'charts/mtls-guard';
const helm = helmPath();
const cases = parse(readFileSync(new URL('../fixtures/charts/render.yaml', import.meta.url), 'utf8')) as Case[];

function render(set: string[]): { code: number; objects: Obj[]; stderr: string } {
  const r = spawnSync(helm, ['template', 'mtls-guard', CHART, '-n', 'guard', ...set.flatMap((s) => ['--set', s])], { encoding: 'utf8' });
  const objects =
    r.status === 0
      ? parseAllDocuments(r.stdout)
          .map((d) => d.toJS() as Obj)
          .filter(Boolean)
      : [];
  return { code: r.status ?? -1, objects, stderr: r.stderr };
}

/** Dot path; `\.` escapes a dot inside a key (annotation names). */
function at(o: unknown, path: string): unknown {
  const keys = path.split(/(?<!\\)\./).map((k) => k.replace(/\\\./g, '.'));
  return keys.reduce<unknown>((v, k) => (v === undefined || v === null ? undefined : (v as Record<string, unknown>)[k]), o);
}

t.test('helm lint --strict is clean', async (t) => {
  const r = spawnSync(helm, ['lint', '--strict', CHART], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.notMatch(r.stdout, /\[(WARNING|ERROR)\]/);
});

for (const c of cases) {
  t.test(c.name, async (t) => {
    const r = render(c.set);
    if (c.error) {
      t.not(r.code, 0, 'refused');
      t.match(r.stderr, c.error);
      return;
    }
    t.equal(r.code, 0, r.stderr);
    for (const [kind, n] of Object.entries(c.kinds ?? {})) t.equal(r.objects.filter((o) => o['kind'] === kind).length, n, `${n} ${kind}`);
    for (const e of c.expect ?? []) {
      const objs = r.objects.filter((o) => o['kind'] === e.kind && (!e.name || at(o, 'metadata.name') === e.name));
      const label = `${e.kind}${e.name ? ` ${e.name}` : ''} ${e.path}`;
      if (objs.length !== 1) {
        t.fail(`${label}: expected one ${e.kind}, found ${objs.length}`);
        continue;
      }
      const v = at(objs[0], e.path);
      if (e.absent) t.equal(v, undefined, `${label} is absent`);
      else if ('includes' in e)
        t.ok(
          Array.isArray(v) && v.some((x) => JSON.stringify(x) === JSON.stringify(e.includes)),
          `${label} includes ${JSON.stringify(e.includes)}`,
        );
      else t.same(v, e.equals, label);
    }
    for (const o of r.objects) {
      t.ok(
        at(o, 'metadata.labels.app\\.kubernetes\\.io/instance') === 'mtls-guard' || o['kind'] === undefined,
        `${String(o['kind'])} ${String(at(o, 'metadata.name'))} carries the release labels`,
      );
    }
  });
}

t.test('the Grafana dashboard parses and names only metrics the webhook exports, readiness and admission alike', async (t) => {
  const r = render(['grafana.dashboard.enabled=true']);
  t.equal(r.code, 0, r.stderr);
  const cm = r.objects.find((o) => o['kind'] === 'ConfigMap' && at(o, 'metadata.name') === 'mtls-guard-dashboard');
  t.ok(cm, 'the ConfigMap is rendered');
  const text = at(cm, 'data.mtls-guard\\.json');
  t.type(text, 'string');
  const dashboard = JSON.parse(String(text)) as {
    title: string;
    uid: string;
    panels: { targets?: { expr: string }[] }[];
    templating: unknown;
  };
  t.equal(dashboard.uid, 'mtls-guard');
  const exprs = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr)), JSON.stringify(dashboard.templating)];
  const named = new Set(exprs.flatMap((e) => e.match(/mtls_guard_[a-z_]+/g) ?? []));
  // What the webhook registers, with the series a histogram adds.
  const m = createMetrics({ snapshotAgeSeconds: () => null, certNotAfterMs: () => null, nowMs: () => 0 });
  const exported = new Set<string>();
  for (const x of await m.registry.getMetricsAsJSON()) {
    exported.add(x.name);
    if (String(x.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(x.name + s);
  }
  for (const name of named) t.ok(exported.has(name), `${name} is exported`);
  for (const name of [
    'mtls_guard_strict_ready',
    'mtls_guard_strict_blocking_connections',
    'mtls_guard_broken_connections',
    'mtls_guard_mesh_strict_ready',
    'mtls_guard_admission_requests_total',
    'mtls_guard_admission_duration_seconds_bucket',
    'mtls_guard_findings_total',
  ])
    t.ok(named.has(name), `the dashboard shows ${name}`);
});
