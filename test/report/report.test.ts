// Reports over YAML cases (test/fixtures/report/reports.yaml): the cells and namespace pairs a
// report shows, its findings, readiness and plan, escaping of hostile names, and for every case
// that each cell before and after the change is exactly what `simulate` gives.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { makePlan } from '../../src/core/plan/plan.js';
import { parseIstioObject } from '../../src/core/model/objects.js';
import { parseManifests } from '../../src/snapshot/manifests.js';
import { judge } from '../../src/cli/check.js';
import { buildReport } from '../../src/report/build.js';
import { cellAt, connectionTotals } from '../../src/report/matrix.js';
import { cellView, pairText } from '../../src/report/render-matrix.js';
import { renderReport } from '../../src/report/page.js';
import { buildIndex, type EngineCase } from '../helpers/engine.js';
import { sameAsSimulate } from '../helpers/report.js';

interface ReportCase extends EngineCase {
  cells?: string[];
  pairs?: string[];
  totals?: { before?: number; changed?: number; broken?: number };
  html?: string[];
  absentHtml?: string[];
  hostile?: string[];
}

const cases = parse(readFileSync('test/fixtures/report/reports.yaml', 'utf8')) as ReportCase[];

for (const c of cases) {
  t.test(c.rule, async (t) => {
    const idx = await buildIndex(c);
    const denyOn = c.denyOn ?? 'declared';
    const objects = c.change ? parseManifests(c.change, 'change').map((d) => parseIstioObject(d.obj)) : [];
    const judged = objects.length ? judge(idx, objects, { delete: false, denyOn }) : [];
    const after = judged.at(-1)?.after;
    const data = buildReport({
      sources: { snapshot: [c.base ?? '(none)'], changes: c.change ? ['change.yaml'] : [], notes: [] },
      denyOn,
      before: idx,
      ...(after ? { change: { after, judged } } : {}),
      plan: makePlan(idx, { denyOn }),
    });
    const m = data.matrix;
    sameAsSimulate(t, m, m.before, idx, 'before');
    if (after) sameAsSimulate(t, m, m.after!, after, 'after the change');

    for (const want of c.cells ?? []) {
      const [, client, target, text] = /^(.*) -> (.*): (.*)$/.exec(want)!;
      const i = m.clients.findIndex((x) => x.id === client);
      const j = m.columns.findIndex((x) => `${x.service}:${x.port}` === target);
      t.ok(i >= 0 && j >= 0, `the matrix has ${client} and ${target}`);
      if (i < 0 || j < 0) continue;
      const before = cellAt(m, m.before, i, j);
      const v = cellView(before, m.after ? cellAt(m, m.after, i, j) : before, m.after !== undefined);
      t.equal(v.text, text, want);
    }
    for (const want of c.pairs ?? []) {
      const [, from, to, text] = /^(.*) -> (.*?): (.*)$/.exec(want)!;
      const i = data.namespaces.clientNamespaces.indexOf(from!);
      const j = data.namespaces.serviceNamespaces.indexOf(to!);
      t.ok(i >= 0 && j >= 0, `the namespace matrix has ${from} and ${to}`);
      if (i >= 0 && j >= 0)
        t.equal(
          pairText(data.namespaces.pairs[i]![j]!, m.after !== undefined)
            .split('\n')
            .join(' | '),
          text,
          want,
        );
    }
    if (c.totals) {
      const totals = connectionTotals(m);
      if (c.totals.before !== undefined) t.equal(totals.before.total, c.totals.before, 'connections before');
      if (c.totals.changed !== undefined) t.equal(totals.changed, c.totals.changed, 'connections the change alters');
      if (c.totals.broken !== undefined) t.equal(totals.broken, c.totals.broken, 'connections the change breaks');
    }

    const html = renderReport(data);
    for (const s of c.html ?? []) t.ok(html.includes(s), `the page has: ${s}`);
    for (const s of c.absentHtml ?? []) t.notOk(html.includes(s), `the page has no: ${s}`);
    // Only the page's two script elements open or close a script, whatever the names say.
    t.equal(html.split('<script').length - 1, 2, 'two script elements');
    t.equal(html.split('</script').length - 1, 2, 'two script end tags');
    if (c.hostile?.length) {
      const embedded = /<script type="application\/json" id="mg-data">([^<]*)<\/script>/.exec(html);
      t.ok(embedded, 'the data block holds no < at all');
      const text = JSON.stringify(JSON.parse(embedded?.[1] ?? 'null'));
      for (const s of c.hostile) {
        t.notOk(html.includes(s), `never raw in the page: ${s}`);
        t.ok(text.includes(JSON.stringify(s).slice(1, -1)), `intact in the script's data: ${s}`);
      }
    }
  });
}
