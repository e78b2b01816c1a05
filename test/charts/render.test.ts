// The chart as `helm template` renders it, for the default values, each certificate mode and the
// values users change most; plus `helm lint --strict` and the schema's refusals.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { helmPath } from '../../tools/cluster/controlplane.js';

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
