// `mtls-guard report` in a real headless Chromium (Debian's, driven by playwright-core): the page
// renders and runs its script under its own Content-Security-Policy, a break shows where expected
// as text, hostile names stay text, and a generated 10,000-pod mesh stays usable: the element count
// stays bounded, the namespace matrix agrees with the drill-down into one pair, and opening pairs
// replaces rather than adds. Every assertion counts; none is timed. Screenshots go to .artifacts/browser/.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEFAULT_SIZE, generateMesh } from '../../bench/engine/generate.js';
import { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import type { PeerAuthentication } from '../../src/core/model/model.js';
import { makePlan } from '../../src/core/plan/plan.js';
import { judge } from '../../src/cli/check.js';
import { buildReport } from '../../src/report/build.js';
import { renderReport } from '../../src/report/page.js';
import { chromiumPath } from '../helpers/chromium.js';
import { runCli } from '../helpers/cli.js';

const ARTIFACTS = resolve('.artifacts/browser');
mkdirSync(ARTIFACTS, { recursive: true });

const found = chromiumPath();
if ('missing' in found) {
  t.test('the report in a real Chromium', { skip: `no Chromium for the browser tests: ${found.missing}` }, async () => {});
} else {
  let browser: Browser;
  t.before(async () => {
    browser = await chromium.launch({ executablePath: found.path, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });
  t.teardown(async () => {
    await browser?.close();
  });

  /** Opens a page and records every script error and console error, and any dialog a script opens. */
  async function open(file: string, viewport = { width: 1280, height: 900 }): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('dialog', (d) => {
      errors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 120_000 });
    return { page, errors };
  }

  /** The text, class and title of the cell at (row header, column header) of a table. */
  const CELL = `(([id, row, col]) => {
    const table = document.getElementById(id);
    const cols = [...table.tHead.rows[0].cells].map((c) => c.dataset.id);
    const tr = [...table.tBodies[0].rows].find((r) => r.cells[0].dataset.id === row);
    const j = cols.indexOf(col);
    if (!tr || j < 0) return null;
    const td = tr.cells[j];
    return { text: td.innerText, cls: td.className, title: td.title };
  })`;
  const cell = (page: Page, table: string, row: string, col: string) =>
    page.evaluate(`${CELL}(${JSON.stringify([table, row, col])})`) as Promise<{ text: string; cls: string; title: string } | null>;
  const count = (page: Page, selector = '*'): Promise<number> =>
    page.evaluate(`document.querySelectorAll(${JSON.stringify(selector)}).length`) as Promise<number>;
  const OUTCOME_TEXT = /^(200|503|000|–)( → (200|503|000|–))?$/;

  t.test('the demo mesh with STRICT for foo: the break sleep.legacy → httpbin.foo:8000 shows 200 → 000, in text', async (t) => {
    const file = join(ARTIFACTS, 'report-demo.html');
    const r = await runCli([
      'report',
      '-f',
      'examples/mesh-current',
      '--change',
      'examples/changes/strict-foo.yaml',
      '--telemetry',
      'examples/telemetry/legacy-plaintext.prom',
      '--out',
      file,
    ]);
    t.equal(r.code, 0, 'report writes the page', { stderr: r.err });
    const { page, errors } = await open(file, { width: 1280, height: 1000 });

    const broken = await cell(page, 'full-matrix', 'sleep.legacy', 'httpbin.foo:8000');
    t.equal(broken?.text, '200 → 000', 'the cell says before → after in text');
    t.match(broken?.cls ?? '', /\bchanged\b/, 'and is marked as changed');
    t.match(broken?.title ?? '', /after: 000 \(curl exit 56\): .*refuses plaintext/, 'its title gives the reason');
    t.ok(await page.locator('#full-matrix td.changed').first().isVisible(), 'the break is visible on the page');
    const kept = await cell(page, 'full-matrix', 'sleep.foo', 'httpbin.foo:8000');
    t.equal(kept?.text, '200', 'a sidecar client keeps 200');

    const texts = (await page.evaluate(`[...document.querySelectorAll('#full-matrix td')].map((td) => td.innerText)`)) as string[];
    t.equal(texts.length, 6 * 7, 'one cell per client and service port');
    t.same(
      texts.filter((s) => !OUTCOME_TEXT.test(s)),
      [],
      'every cell says its outcome in text, not by colour alone',
    );
    t.equal(texts.filter((s) => s.includes('→')).length, 4, 'the four connections the change breaks are marked');

    await page.locator('#full-matrix tr:has(th[data-id="sleep.legacy"]) td.changed').first().click();
    t.match(
      await page.locator('#cell-detail').textContent(),
      /^sleep\.legacy → httpbin\.foo:8000: 200 → 000\nbefore: 200/,
      'selecting a cell shows why',
    );

    // The traffic section with the break selected: the screenshot docs/report.png is taken from.
    const shot = join(ARTIFACTS, 'report-demo.png');
    await page.locator('#traffic').screenshot({ path: shot });
    t.ok(statSync(shot).size > 10_000, `a screenshot is saved: ${shot}`);

    // The script runs under the page's own policy: a namespace cell opens its pair.
    const nsCell = page.locator('#ns-matrix tr[data-ns="legacy"] td.changed');
    t.equal(await nsCell.count(), 1, 'one namespace pair changes: legacy → foo');
    t.match(await nsCell.textContent(), /200 → 000\n4\/4\n4 changed/, 'it says so in text');
    await nsCell.click();
    t.equal(await count(page, '#pair-matrix tbody tr'), 2, 'the pair lists the two clients in legacy');
    t.equal((await cell(page, 'pair-matrix', 'sleep.legacy', 'httpbin.foo:8000'))?.text, '200 → 000', 'with the same break');

    t.ok(await page.locator('text=CREATE PeerAuthentication foo/default (STRICT)').isVisible(), "the change's verdict is shown");
    t.ok(await page.locator('#readiness td.blocked').first().isVisible(), 'readiness shows blocked scopes');
    t.ok((await count(page, '#plan ol.steps > li')) >= 3, 'the plan lists its steps');
    t.ok((await count(page, '#plan pre')) >= 3, 'with their manifests');

    t.same(errors, [], 'no script error, console error or dialog');
    await page.close();
  });

  t.test('hostile names from manifests show as text and never run', async (t) => {
    const file = join(ARTIFACTS, 'report-hostile.html');
    const r = await runCli([
      'report',
      '-f',
      'examples/mesh-current',
      '-f',
      'test/fixtures/report/hostile-mesh.yaml',
      '--change',
      'examples/changes/strict-foo.yaml',
      '--out',
      file,
    ]);
    t.equal(r.code, 0, 'report writes the page', { stderr: r.err });
    const { page, errors } = await open(file);
    const ns = 'ns<img src=x onerror=window.__pwned=4>';
    const client = `evil<script>window.__pwned=1</script>.${ns}`;
    const svc = 'svc</script><script>window.__pwned=3</script>.foo:8000';
    t.equal((await cell(page, 'full-matrix', client, svc))?.text, '200 → 000', 'the hostile row and column are found by their text');
    t.ok(
      await page.evaluate(
        `[...document.querySelectorAll('#full-matrix tbody th')].some((th) => th.firstChild.textContent === ${JSON.stringify(client)})`,
      ),
      'the workload name is a text node, not markup',
    );
    t.equal(await count(page, 'script'), 2, "only the page's two script elements");
    t.equal(await count(page, 'img'), 0, 'no element made from a name');
    await page.selectOption('#pair-client', ns);
    await page.selectOption('#pair-service', 'foo');
    await page.locator('#pair-form button').click();
    t.equal((await cell(page, 'pair-matrix', client, svc))?.text, '200 → 000', 'the drill-down draws hostile names as text too');
    t.equal(await count(page, 'img'), 0, 'still no element made from a name');
    t.equal(await page.evaluate('window.__pwned'), undefined, 'nothing in a name ran');
    t.same(errors, [], 'no script error, console error or dialog');
    await page.close();
  });

  t.test('a generated 10,000-pod mesh: bounded elements, namespace grouping, and drilling into one pair', async (t) => {
    const idx = MeshIndex.build(generateMesh(1, DEFAULT_SIZE));
    const strict: PeerAuthentication = {
      kind: 'PeerAuthentication',
      apiVersion: 'security.istio.io/v1',
      name: 'default',
      namespace: 'ns-4',
      annotations: {},
      created: '2024-06-01T00:00:00Z',
      selector: null,
      mode: 'STRICT',
      portLevel: {},
    };
    const judged = judge(idx, [strict], { delete: false, denyOn: 'declared' });
    const data = buildReport({
      sources: { snapshot: ['generateMesh(1, DEFAULT_SIZE)'], changes: ['PeerAuthentication ns-4/default STRICT'], notes: [] },
      denyOn: 'declared',
      before: idx,
      change: { after: judged[0]!.after, judged },
      plan: makePlan(idx, { denyOn: 'declared' }),
    });
    const file = join(ARTIFACTS, 'report-10k.html');
    writeFileSync(file, renderReport(data));
    const pods = idx.allWorkloads().reduce((n, w) => n + w.pods, 0);
    t.ok(pods >= 10_000, `the mesh has ${pods.toLocaleString('en')} pods`);
    const cells = data.matrix.clients.length * data.matrix.columns.length;

    const { page, errors } = await open(file);
    const rows = data.namespaces.clientNamespaces.length;
    const cols = data.namespaces.serviceNamespaces.length;
    const start = await count(page);
    // The page grows with namespaces², never with clients × service ports.
    const bound = (rows + 1) * (cols + 1) + 20_000;
    t.ok(start <= bound, `${start} elements, at most (${rows}+1)×(${cols}+1) + 20,000 = ${bound}`);
    t.ok(start < cells / 100, `less than 1% of the ${cells.toLocaleString('en')} cells a full matrix would need`);
    t.equal(await count(page, '#full-matrix'), 0, 'no full matrix');
    t.equal(await count(page, '#ns-matrix tbody tr'), rows, 'one row per client namespace');
    t.equal(await count(page, '#ns-matrix thead th'), cols + 1, 'one column per service namespace');

    // STRICT for ns-4 changes connections into ns-4 only.
    const changedColumns = (await page.evaluate(
      `[...document.querySelectorAll('#ns-matrix td.changed')].map((td) => document.querySelector('#ns-matrix thead tr').cells[td.cellIndex].dataset.ns)`,
    )) as string[];
    t.ok(changedColumns.length > 0, `${changedColumns.length} namespace pairs change`);
    t.same([...new Set(changedColumns)], ['ns-4'], 'all of them into ns-4');

    const nsCell = page.locator('#ns-matrix td.changed').first();
    const nsText = (await nsCell.textContent()) ?? '';
    const changed = Number(/(\d+) changed/.exec(nsText)?.[1]);
    const [failing, total] = (/\n(\d+)\/(\d+)/.exec(nsText) ?? []).slice(1).map(Number);
    await nsCell.scrollIntoViewIfNeeded();
    await nsCell.click();
    const pairRows = await count(page, '#pair-matrix tbody tr');
    const pairCols = await count(page, '#pair-matrix thead th');
    const pairTexts = (await page.evaluate(`[...document.querySelectorAll('#pair-matrix td')].map((td) => td.innerText)`)) as string[];
    t.ok(pairRows > 0, `drilling in draws the pair: ${pairRows} clients`);
    t.equal(pairTexts.length, pairRows * (pairCols - 1), 'a cell per client and service port of the pair');
    t.equal(pairTexts.length, total, "as many cells as the namespace cell's total");
    t.equal(pairTexts.filter((s) => s.includes('→')).length, changed, "as many marked changes as the namespace cell's count");
    t.equal(pairTexts.filter((s) => /(503|000)$/.test(s)).length, failing, "as many failing cells as the namespace cell's count");
    t.same(
      pairTexts.filter((s) => !OUTCOME_TEXT.test(s)),
      [],
      'every cell says its outcome in text',
    );
    const opened = await count(page);
    // Each row is a tr, its header th and the th's small; the header row has its th cells; then the table's own few.
    t.ok(
      opened - start <= pairTexts.length + 3 * pairRows + pairCols + 1 + 10,
      `one pair adds only its own cells (${opened - start} elements for ${pairTexts.length} cells)`,
    );

    await page.locator('#pair-matrix td.changed').first().click();
    t.match(await page.locator('#cell-detail').textContent(), /before: 200.*\nafter: 000/, 'a changed cell explains itself');

    // Open another pair: it replaces the first, the page does not grow with each one opened.
    await page.selectOption('#pair-client', 'ns-7');
    await page.selectOption('#pair-service', 'ns-9');
    await page.locator('#pair-form button').click();
    t.match(
      await page.locator('#pair h3').textContent(),
      /^ns-7 → ns-9: \d+ client\(s\), \d+ service port\(s\)$/,
      'the other pair is drawn',
    );
    t.equal(await count(page, '#pair-matrix'), 1, 'one pair at a time');
    const again = await count(page);
    t.ok(again - start <= (await count(page, '#pair-matrix *')) + 20, `still bounded after a second pair (${again} elements)`);

    await page.locator('#ns-matrix').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'report-10k.png') });
    t.same(errors, [], 'no script error, console error or dialog');
    await page.close();
  });
}
