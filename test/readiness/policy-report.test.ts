// PolicyReports and gauges from a readiness round, over YAML cases (test/fixtures/readiness/).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { buildIndex, type EngineCase } from '../helpers/engine.js';
import { prepare } from '../../src/core/evaluate.js';
import { runRound, MAX_SIMULATED_CONNECTIONS, targetNamespace } from '../../src/readiness/round.js';
import { DEFAULT_LIMITS, policyReports, type PolicyReport } from '../../src/readiness/policy-report.js';
import { readinessGauges } from '../../src/readiness/metrics-view.js';
import type { TapTest } from '../helpers/tap.js';

interface ReportCase extends EngineCase {
  /** Overrides of the report limits. */
  limits?: Partial<typeof DEFAULT_LIMITS>;
  maxConnections?: number;
  maxNamespaces?: number;
  /** The namespaces that get a report, exactly. */
  namespaces: string[];
  /** Per namespace: the summary (exact) and results, each matched field by field by a result, in this order. */
  reports?: Record<string, { summary?: Record<string, number>; count?: number; results?: Record<string, unknown>[] }>;
  /** Results that must be in no report. */
  absentResults?: Record<string, unknown>[];
  /** The gauges, matched field by field. */
  gauges?: Record<string, unknown>;
}

const DIR = process.env['READINESS_FIXTURES'] ?? 'test/fixtures/readiness';
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

/** True when `actual` has every field of `want`: strings as substrings, objects recursively, the rest equal. */
function matches(actual: unknown, want: unknown): boolean {
  if (typeof want === 'string') return typeof actual === 'string' && actual.includes(want);
  if (want && typeof want === 'object' && !Array.isArray(want))
    return (
      !!actual && typeof actual === 'object' && Object.entries(want).every(([k, v]) => matches((actual as Record<string, unknown>)[k], v))
    );
  if (Array.isArray(want)) return Array.isArray(actual) && want.length === actual.length && want.every((w, i) => matches(actual[i], w));
  return actual === want;
}

for (const file of files) {
  const cases = parse(readFileSync(join(DIR, file), 'utf8')) as ReportCase[];
  for (const c of cases) {
    t.test(`${file}: ${c.rule}`, async (t) => {
      const idx = prepare(await buildIndex(c));
      const round = runRound(idx, {
        denyOn: c.denyOn ?? 'declared',
        // Every fix is tried, so that the reports do not depend on the machine's speed.
        fixBudget: () => () => false,
        maxConnections: c.maxConnections ?? MAX_SIMULATED_CONNECTIONS,
      });
      const reports = policyReports(round, { ...DEFAULT_LIMITS, ...c.limits });
      if (process.env['READINESS_DUMP']) console.error(JSON.stringify([...reports.values()], null, 1));
      t.same([...reports.keys()], c.namespaces, 'the namespaces with a report');
      for (const [ns, want] of Object.entries(c.reports ?? {})) {
        const r = reports.get(ns);
        if (!r) {
          t.fail(`no report for ${ns}`);
          continue;
        }
        t.match(r.metadata, { name: 'mtls-guard', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'mtls-guard' } });
        if (want.summary) t.same(r.summary, { pass: 0, error: 0, fail: 0, warn: 0, skip: 0, ...want.summary }, `${ns} summary`);
        if (want.count !== undefined) t.equal(r.results.length, want.count, `${ns}: ${want.count} results listed`);
        let from = 0;
        for (const w of want.results ?? []) {
          const at = r.results.findIndex((x, i) => i >= from && matches(x, w));
          t.ok(at >= 0, `${ns} has ${JSON.stringify(w)} (in order)`, {
            results: r.results.map((x) => `${x.rule} ${x.result} ${x.message}`),
          });
          if (at >= 0) from = at + 1;
        }
      }
      for (const w of c.absentResults ?? [])
        t.notOk(
          [...reports.values()].some((r) => r.results.some((x) => matches(x, w))),
          `no result ${JSON.stringify(w)}`,
        );
      for (const r of reports.values()) checkShape(t, r);
      t.same(
        JSON.stringify([...policyReports(round, { ...DEFAULT_LIMITS, ...c.limits })]),
        JSON.stringify([...reports]),
        'the same round gives the same reports',
      );
      if (c.gauges) t.match(readinessGauges(round, c.maxNamespaces), c.gauges, 'gauges');
    });
  }
}

/** What every report must be, whatever the case: a valid v1alpha2 shape, string properties, a summary that adds up. */
function checkShape(t: TapTest, r: PolicyReport): void {
  t.equal(r.apiVersion, 'wgpolicyk8s.io/v1alpha2');
  t.equal(r.kind, 'PolicyReport');
  for (const x of r.results) {
    t.ok(['fail', 'warn', 'skip'].includes(x.result), `${x.rule}: result ${x.result}`);
    t.equal(x.policy, 'mtls-guard');
    t.ok(
      Object.values(x.properties).every((v) => typeof v === 'string' && v.length <= DEFAULT_LIMITS.maxText),
      'properties are bounded strings',
    );
  }
  const listed = r.results.filter((x) => x.result !== 'skip');
  t.ok(r.summary.fail + r.summary.warn >= listed.length, 'the summary counts at least the listed results');
  t.ok(r.results.length >= 1, 'a report has results');
}

t.test('targetNamespace: the namespace of a simulate target', async (t) => {
  t.equal(targetNamespace('httpbin.foo'), 'foo');
  t.equal(targetNamespace('prometheus-0.monitoring (pod)'), 'monitoring');
});
