/**
 * The report page: one self-contained HTML document. Its stylesheet and script are inline and
 * allowed by their hashes in a Content-Security-Policy that forbids everything else (no network,
 * no other script), so even a name that escaped escaping could not run.
 */
import { createHash } from 'node:crypto';
import { esc, jsonForScript } from './escape.js';
import type { ReportData } from './model.js';
import { connectionTotals, type Counts } from './matrix.js';
import {
  countWords,
  drillData,
  MAX_FULL_CELLS,
  renderDrillForm,
  renderFullMatrix,
  renderLegend,
  renderNamespaceMatrix,
} from './render-matrix.js';
import { renderChange, renderPlan, renderReadiness } from './render-findings.js';
import { SCRIPT } from './script.js';
import { STYLE } from './style.js';

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** The Content-Security-Policy of the page: only its own inline style and script, by hash. */
export function contentSecurityPolicy(): string {
  return `default-src 'none'; style-src ${sha256(STYLE)}; script-src ${sha256(SCRIPT)}; img-src 'none'; base-uri 'none'; form-action 'none'`;
}

/** A count with thousands separators, the same on every machine. */
function num(n: number): string {
  return n.toLocaleString('en');
}

function metaList(d: ReportData): string {
  const m = d.meta;
  const rows: [string, string][] = [
    ['snapshot', m.snapshot.join(', ')],
    ...(m.changes.length ? [['change', m.changes.join(', ')] as [string, string]] : []),
    ['Istio', `${m.istioVersion} (${m.versionSource === 'default' ? 'assumed: no istiod Deployment found' : `from ${m.versionSource}`})`],
    ['auto mTLS', m.autoMtls ? 'on' : 'off'],
    ['telemetry', m.telemetry === null ? 'none (findings can only be possible or declared)' : m.telemetry],
    ...(m.degraded ? [['telemetry degraded', m.degraded] as [string, string]] : []),
    ['deny on', m.denyOn],
  ];
  const notes = m.notes.map((n) => `<li>${esc(n)}</li>`).join('');
  return `<dl class="meta">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>${
    notes ? `<details><summary>${m.notes.length} note(s) from loading the snapshot</summary><ul>${notes}</ul></details>` : ''
  }`;
}

function totalsTable(d: ReportData): string {
  const m = d.matrix;
  const t = connectionTotals(m);
  const row = (label: string, c: Counts): string =>
    `<tr><th scope="row">${esc(label)}</th>${[c.total, c.counts['200'], c.counts['503'], c.counts['000']].map((n) => `<td>${num(n)}</td>`).join('')}</tr>`;
  const changed = t.after
    ? `<p>The change alters <b>${num(t.changed)}</b> connection(s); <b>${num(t.broken)}</b> go from working to failing.</p>`
    : '';
  return `<p>${num(m.clients.length)} client(s), ${num(m.columns.length)} service port(s).</p>
<table class="totals"><thead><tr><th scope="col"></th><th scope="col">connections</th><th scope="col">200</th><th scope="col">503</th><th scope="col">000</th></tr></thead>
<tbody>${row(t.after ? 'before the change' : 'now', t.before)}${t.after ? row('after the change', t.after) : ''}</tbody></table>
${changed}`;
}

function trafficSection(d: ReportData): string {
  const m = d.matrix;
  const withChange = m.after !== undefined;
  const cells = m.clients.length * m.columns.length;
  const full =
    cells <= MAX_FULL_CELLS
      ? renderFullMatrix(m)
      : `<p class="note">${num(m.clients.length)} clients × ${num(m.columns.length)} service ports is ${num(cells)} cells, more than one page shows (${num(MAX_FULL_CELLS)}): the namespace matrix below sums them, and each of its cells opens its connections.</p>`;
  return `<section id="traffic"><h2>Traffic matrix${withChange ? ' after the change' : ''}</h2>
${renderLegend(withChange)}
${full}
<h3 id="by-namespace">By namespace</h3>
${renderNamespaceMatrix(d.namespaces, withChange)}
${renderDrillForm(m)}
<div id="cell-detail" aria-live="polite">Select a cell to see its outcome and the reason.</div>
</section>`;
}

/** Renders the whole report as one HTML document. */
export function renderReport(d: ReportData): string {
  const withChange = d.change !== undefined;
  const nav = [
    ['summary', 'Summary'],
    ['traffic', 'Traffic matrix'],
    ...(withChange ? [['change', 'The change']] : []),
    ['readiness', 'Readiness'],
    ['plan', 'Plan'],
  ]
    .map(([id, label]) => `<a href="#${id}">${label}</a>`)
    .join('');
  const change = d.change
    ? `<section id="change"><h2>The change, as mtls-guard check judges it</h2>\n${renderChange(d.change, d.meta.denyOn)}\n</section>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy())}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mtls-guard report</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>mtls-guard report</h1>
${metaList(d)}
<nav>${nav}</nav>
</header>
<main>
<section id="summary"><h2>Summary</h2>
${totalsTable(d)}
</section>
${trafficSection(d)}
${change}
<section id="readiness"><h2>Readiness for STRICT</h2>
${renderReadiness(d.readiness.namespaces, d.readiness.mesh, d.meta.denyOn)}
</section>
<section id="plan"><h2>Plan</h2>
${renderPlan(d.plan)}
</section>
</main>
<script type="application/json" id="mg-data">${jsonForScript(drillData(d.matrix))}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** Counts of the page's parts, for a command's one-line summary. */
export function reportSummary(d: ReportData): string {
  const t = connectionTotals(d.matrix);
  const now = `${t.before.total} connection(s) (${countWords(t.before.counts) || 'none'})`;
  return t.after ? `${now}; after the change ${countWords(t.after.counts) || 'none'}, ${t.broken} broken` : now;
}
