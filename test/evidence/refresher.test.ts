// The background refresher on an injected clock: what evaluations see as answers come and go, and
// when the index is rebuilt.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Traffic } from '../../src/core/model/model.js';
import { EvidenceRefresher } from '../../src/evidence/refresher.js';

interface Row {
  at: number;
  answer?: string;
  view: string;
  changed: boolean;
  why: string;
}
const fx = parse(readFileSync(new URL('../fixtures/evidence/refresher.yaml', import.meta.url), 'utf8')) as {
  maxAgeSeconds: number;
  rows: Row[];
};

t.test('evidence over time', async (t) => {
  let now = 0;
  let next: string | undefined;
  const answer: Traffic = { edges: [], source: 'Prometheus http://p:9090 (rate over 1h)', perSecond: true };
  const changes: Traffic[] = [];
  const rounds: (Error | null)[] = [];
  const r = new EvidenceRefresher(
    async () => {
      if (next === 'ok') return { ...answer };
      throw new Error(next);
    },
    'Prometheus http://p:9090',
    { intervalMs: 30_000, maxAgeMs: fx.maxAgeSeconds * 1000 },
    () => now,
    { onChange: (v) => changes.push(v), onRound: (_s, e) => rounds.push(e) },
  );
  for (const row of fx.rows) {
    now = row.at * 1000;
    const before = changes.length;
    if (row.answer) {
      next = row.answer;
      await r.refresh();
    } else r.notify();
    const v = r.view();
    if (row.view === 'good') t.equal(v.degraded, undefined, `${row.at}s: good (${row.why})`);
    else t.match(`degraded: ${v.degraded}`, row.view, `${row.at}s: ${row.view} (${row.why})`);
    t.equal(changes.length > before, row.changed, `${row.at}s: ${row.changed ? '' : 'no '}rebuild (${row.why})`);
  }
  t.equal(rounds.filter((e) => e).length, 3, 'failed rounds are reported to the metrics hook');
});

t.test('a round still running is not doubled', async (t) => {
  let calls = 0;
  let release!: () => void;
  const r = new EvidenceRefresher(
    () => {
      calls++;
      return new Promise<Traffic>((res) => {
        release = () => res({ edges: [], source: 's' });
      });
    },
    's',
    { intervalMs: 1000, maxAgeMs: 5000 },
    () => 0,
  );
  const a = r.refresh();
  const b = r.refresh();
  t.equal(a, b, 'the same round');
  release();
  await a;
  t.equal(calls, 1);
  t.equal(r.ageSeconds(), 0);
});
