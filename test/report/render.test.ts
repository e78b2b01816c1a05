// The report's HTML: cells by the table in test/fixtures/report/cells.yaml, escaping, the
// self-contained page (nothing fetched, the Content-Security-Policy matches the inline style and
// script), the namespace pair's words, and the readiness and plan sections.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import type { OutcomeCode } from '../../src/core/model/model.js';
import { esc, jsonForScript } from '../../src/report/escape.js';
import type { CellOutcome } from '../../src/report/matrix.js';
import type { FindingView, ReadinessView } from '../../src/report/model.js';
import { contentSecurityPolicy, renderReport } from '../../src/report/page.js';
import { renderFinding, renderPlan, renderReadiness } from '../../src/report/render-findings.js';
import { cellView, pairText } from '../../src/report/render-matrix.js';
import { SCRIPT } from '../../src/report/script.js';
import { STYLE } from '../../src/report/style.js';
import { buildIndex } from '../helpers/engine.js';
import { makePlan } from '../../src/core/plan/plan.js';
import { buildReport } from '../../src/report/build.js';

type Raw = [OutcomeCode, number | null, string] | null;
interface CellCase {
  rule: string;
  withChange: boolean;
  before: Raw;
  after?: Raw;
  text: string;
  cls: string;
  title?: string;
}

const outcome = (r: Raw | undefined): CellOutcome | undefined =>
  r ? { code: r[0], ...(r[1] !== null ? { exit: r[1] } : {}), reason: r[2] } : undefined;

for (const c of parse(readFileSync('test/fixtures/report/cells.yaml', 'utf8')) as CellCase[]) {
  t.test(`cell: ${c.rule}`, async (t) => {
    const before = outcome(c.before);
    const v = cellView(before, c.withChange ? outcome(c.after) : before, c.withChange);
    t.equal(v.text, c.text, 'text');
    t.equal(v.cls, c.cls, 'class');
    if (c.title !== undefined) t.equal(v.title, c.title, 'title');
    t.match(v.text, /^(200|503|000|–)( → (200|503|000|–))?$/, 'the text alone says the outcome');
  });
}

t.test('escaping: HTML text and attributes, and JSON inside a script element', async (t) => {
  t.equal(esc(`<script>alert("x")</script> & 'y'`), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;');
  t.equal(esc(8000), '8000');
  const hostile = { name: '</script><script>alert(1)</script><!--', line: 'a\u2028b\u2029c', amp: 'a&b>' };
  const json = jsonForScript(hostile);
  t.notMatch(json, /[<>&\u2028\u2029]/, 'no character that could end the script element or a line');
  t.same(JSON.parse(json), hostile, 'JSON.parse gives the value back');
});

t.test('a namespace pair: worst outcome, failing/total, how many change', async (t) => {
  const pair = (counts: Record<OutcomeCode, number>, worst: OutcomeCode | null, worstBefore: OutcomeCode | null, changed: number) => ({
    total: counts['200'] + counts['503'] + counts['000'],
    counts,
    worst,
    worstBefore,
    changed,
    broken: changed,
  });
  t.equal(pairText(pair({ '200': 4, '503': 0, '000': 0 }, '200', '200', 0), false), '200\n0/4');
  t.equal(pairText(pair({ '200': 1, '503': 2, '000': 1 }, '000', '000', 0), false), '000\n3/4');
  t.equal(pairText(pair({ '200': 0, '503': 0, '000': 4 }, '000', '200', 4), true), '200 → 000\n4/4\n4 changed');
  t.equal(pairText(pair({ '200': 0, '503': 0, '000': 0 }, null, null, 0), true), '–');
});

const finding = (over: Partial<FindingView> = {}): FindingView => ({
  severity: 'deny',
  code: 'MG101',
  evidence: 'observed',
  message: 'sleep.legacy -> httpbin.foo:8000 (200 → 000, curl exit 56)',
  before: '200',
  after: '000',
  reason: 'httpbin.foo port 80 is STRICT',
  clients: [],
  evidenceDetail: 'istio_requests_total = 1342',
  fix: 'inject a sidecar into legacy/sleep',
  ...over,
});

t.test("a finding has check's parts: severity, code, evidence, message, why, evidence, fix", async (t) => {
  const html = renderFinding(finding({ clients: Array.from({ length: 12 }, (_, i) => `c${i}.legacy`) }));
  for (const s of ['deny', '<code>MG101</code>', 'observed', 'sleep.legacy -&gt; httpbin.foo:8000 (200 → 000, curl exit 56)'])
    t.ok(html.includes(s), s);
  for (const s of ['<dt>why</dt><dd>httpbin.foo port 80 is STRICT', '<dt>evidence</dt><dd>istio_requests_total = 1342', '<dt>fix</dt>'])
    t.ok(html.includes(s), s);
  t.ok(html.includes('c9.legacy, and 2 more'), 'ten clients, then how many more');
  t.notOk(renderFinding(finding({ reason: null, evidenceDetail: null })).includes('<dt>why</dt>'), 'no why for a config finding');
});

t.test('readiness: ready, already STRICT or blocked by N connections, with the first blocking ones', async (t) => {
  const r = (scope: string, ready: boolean, already: boolean, n: number): ReadinessView => ({
    scope,
    ready,
    already,
    blocking: Array.from({ length: n }, (_, i) => finding({ message: `c${i}.legacy -> httpbin.foo:8000` })),
  });
  const html = renderReadiness(
    [r('bar', true, false, 0), r('foo', false, false, 7), r('done', true, true, 0)],
    r('mesh', false, false, 1),
    'declared',
  );
  t.ok(html.includes('<th scope="row">bar</th><td class="ready">ready</td>'));
  t.ok(html.includes('<th scope="row">foo</th><td class="blocked">blocked by 7 connection(s)</td>'));
  t.ok(html.includes('<th scope="row">done</th><td class="ready">already STRICT</td>'));
  t.ok(html.includes('<th scope="row">mesh</th><td class="blocked">blocked by 1 connection(s)</td>'));
  t.ok(html.includes('c4.legacy') && !html.includes('c5.legacy'), 'the first five blocking connections');
  t.ok(html.includes('and 2 more'), 'then how many more');
});

t.test('the plan: steps in order with their manifests, person steps with verification', async (t) => {
  const html = renderPlan({
    complete: true,
    steps: [
      {
        kind: 'prepare',
        scope: 'foo',
        says: 'create PeerAuthentication foo/x',
        verified: null,
        manifest: '{"kind": "PeerAuthentication"}',
      },
      { kind: 'strict', scope: 'mesh', says: 'create PeerAuthentication istio-system/default', verified: null, manifest: '{}' },
      {
        kind: 'person',
        scope: 'foo',
        says: 'inject sidecars into legacy, then delete PeerAuthentication foo/x',
        verified: true,
        manifest: null,
      },
    ],
    blocked: [],
  });
  t.match(html, /\[prepare\][\s\S]*\[strict\][\s\S]*\[person\]/, 'in order');
  t.ok(html.includes('<pre>{&quot;kind&quot;: &quot;PeerAuthentication&quot;}</pre>'), 'the manifest, escaped');
  t.ok(html.includes('foo/x (verified)'), 'a verified deletion says so');
  t.ok(html.startsWith('<p>Plan to mesh-wide STRICT'), 'a complete plan says where it ends');
});

t.test('the page is self-contained: nothing fetched, only its own style and script run', async (t) => {
  const idx = await buildIndex({ rule: 'demo', base: 'examples/mesh-current' });
  const html = renderReport(
    buildReport({
      sources: { snapshot: ['examples/mesh-current'], changes: [], notes: [] },
      denyOn: 'declared',
      before: idx,
      plan: makePlan(idx, { denyOn: 'declared' }),
    }),
  );
  const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
  const csp = contentSecurityPolicy();
  t.ok(html.includes(`<style>${STYLE}</style>`) && csp.includes(`style-src ${hash(STYLE)}`), 'the inline style is allowed by its hash');
  t.ok(
    html.includes(`<script>${SCRIPT}</script>`) && csp.includes(`script-src ${hash(SCRIPT)}`),
    'the inline script is allowed by its hash',
  );
  t.match(csp, /default-src 'none'/, 'everything else is refused');
  t.notMatch(html, /\ssrc=|<link|@import|url\(|https?:\/\//, 'no external script, stylesheet, font, image or link');
  t.match(html, /^<!doctype html>\n<html lang="en">/, 'a complete document');
});
