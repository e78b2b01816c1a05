/**
 * The traffic matrix as HTML: the full client × service port table when it is small, the
 * namespace × namespace table always, the form that drills into one pair of namespaces, and the
 * compact data the page's script reads to draw that pair. Every cell says its outcome in text
 * (`200`, `503`, `000`, `200 → 000`); colour only repeats it.
 */
import type { OutcomeCode } from '../core/model/model.js';
import { esc } from './escape.js';
import { cellAt, type CellOutcome, type MatrixClient, type TrafficMatrix } from './matrix.js';
import { namespaceOrder, type NamespaceMatrix, type PairSummary } from './namespaces.js';

/** Past this many cells the full matrix is not drawn: the namespace matrix and its drill-down stand in for it. */
export const MAX_FULL_CELLS = 5000;

/** The most cells the drill-down draws for one pair of namespaces (the page's script reads it from the data). */
export const MAX_PAIR_CELLS = 10000;

/** Words for a client's kind. */
export const KIND_WORDS: Readonly<Record<MatrixClient['kind'], string>> = {
  sidecar: 'sidecar',
  ambient: 'ambient',
  none: 'no sidecar',
  outside: 'outside the mesh',
};

/** One cell's text, CSS class and title (the reason), before and after a change. */
export interface CellView {
  readonly text: string;
  readonly cls: string;
  readonly title: string;
}

function outcomeWords(o: CellOutcome | undefined): string {
  if (!o) return 'no connection';
  return `${o.code}${o.exit !== undefined ? ` (curl exit ${o.exit})` : ''}: ${o.reason}`;
}

/**
 * A cell: the code (`000`), or `200 → 000` where a change alters it, or `–` without a connection.
 * The page's script draws drill-down cells by the same rules.
 */
export function cellView(before: CellOutcome | undefined, after: CellOutcome | undefined, withChange: boolean): CellView {
  if (!withChange) {
    return before
      ? { text: before.code, cls: `o${before.code}`, title: outcomeWords(before) }
      : { text: '–', cls: 'none', title: 'no connection' };
  }
  if (before?.code === after?.code) {
    if (!after) return { text: '–', cls: 'none', title: 'no connection' };
    const title = before!.reason === after.reason ? outcomeWords(after) : `before: ${outcomeWords(before)}\nafter: ${outcomeWords(after)}`;
    return { text: after.code, cls: `o${after.code}`, title };
  }
  return {
    text: `${before?.code ?? '–'} → ${after?.code ?? '–'}`,
    cls: `${after ? `o${after.code}` : 'none'} changed`,
    title: `before: ${outcomeWords(before)}\nafter: ${outcomeWords(after)}`,
  };
}

/** The legend: what the codes and marks mean. */
export function renderLegend(withChange: boolean): string {
  return `<ul class="legend">
<li><span class="o200">200</span> the connection works</li>
<li><span class="o503">503</span> the client's sidecar answers 503 (an HTTP port)</li>
<li><span class="o000">000</span> the connection is reset or its TLS handshake fails (curl exit 56 or 35)</li>
<li><span class="none">–</span> no connection (a caller from outside the mesh reaches only what it is declared to call)</li>
${withChange ? '<li><span class="o000 changed">200 → 000</span> the change alters the outcome: before → after</li>\n' : ''}</ul>`;
}

function clientHeader(c: MatrixClient): string {
  return `<th scope="row" data-id="${esc(c.id)}">${esc(c.id)}<small> · ${esc(KIND_WORDS[c.kind])}</small></th>`;
}

/** The full matrix: one row per client, one column per service port. Only called when it is small. */
export function renderFullMatrix(m: TrafficMatrix): string {
  const withChange = m.after !== undefined;
  const head = m.columns
    .map((c) => `<th scope="col" data-id="${esc(`${c.service}:${c.port}`)}">${esc(`${c.service}:${c.port}`)}</th>`)
    .join('');
  const rows = m.clients.map((c, i) => {
    const cells = m.columns.map((_, j) => {
      const before = cellAt(m, m.before, i, j);
      const v = cellView(before, m.after ? cellAt(m, m.after, i, j) : before, withChange);
      return `<td class="${v.cls}" title="${esc(v.title)}" tabindex="0">${esc(v.text)}</td>`;
    });
    return `<tr>${clientHeader(c)}${cells.join('')}</tr>`;
  });
  return `<p>Every client (rows) to every service port (columns)${withChange ? ', after the change' : ''}. Select a cell for its reason.</p>
<div class="scroll"><table class="cells" id="full-matrix">
<caption>Clients by service ports</caption>
<thead><tr><th scope="col">client \\ service:port</th>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

/** A namespace pair's text: the worst outcome (`200 → 000` where the change moves it), failing/total, and how many change. */
export function pairText(p: PairSummary, withChange: boolean): string {
  if (p.total === 0) return '–';
  const failing = p.total - p.counts['200'];
  const worst = withChange && p.worstBefore !== p.worst ? `${p.worstBefore ?? '–'} → ${p.worst ?? '–'}` : (p.worst ?? '–');
  return `${worst}\n${failing}/${p.total}${p.changed ? `\n${p.changed} changed` : ''}`;
}

function pairClass(p: PairSummary): string {
  return `${p.worst ? `o${p.worst}` : 'none'}${p.changed ? ' changed' : ''}`;
}

/** The namespace matrix: each cell the worst outcome, failing/total connections and, with a change, how many change. */
export function renderNamespaceMatrix(ns: NamespaceMatrix, withChange: boolean): string {
  const head = ns.serviceNamespaces.map((n) => `<th scope="col" data-ns="${esc(n)}">${esc(n)}</th>`).join('');
  const rows = ns.clientNamespaces.map((n, i) => {
    const cells = ns.pairs[i]!.map((p) => `<td class="${pairClass(p)}" tabindex="0">${esc(pairText(p, withChange))}</td>`).join('');
    return `<tr data-ns="${esc(n)}"><th scope="row">${esc(n)}</th>${cells}</tr>`;
  });
  const hidden =
    ns.hidden.clients || ns.hidden.services
      ? `<p class="note">${ns.hidden.clients} client namespace(s) and ${ns.hidden.services} service namespace(s) with the fewest failing connections are not in this table; pick them in the form below.</p>\n`
      : '';
  return `<p>Client namespaces (rows) to service namespaces (columns). Each cell gives the worst outcome${withChange ? ' after the change (before → after where the change moves it)' : ''}, then failing/total connections${withChange ? ', then how many connections the change alters' : ''}. Select a cell to list its connections.</p>
${hidden}<div class="scroll"><table class="ns" id="ns-matrix">
<caption>Namespaces by namespaces</caption>
<thead><tr><th scope="col">client ns \\ service ns</th>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

/** The form that picks a pair of namespaces, and the place where the page's script draws it. */
export function renderDrillForm(m: TrafficMatrix): string {
  const options = (names: readonly string[]): string => names.map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join('');
  const clientNs = namespaceOrder(m.clients.map((c) => c.namespace));
  const serviceNs = namespaceOrder(m.columns.map((c) => c.namespace));
  return `<form id="pair-form" class="pair-form">
<label>clients in <select id="pair-client">${options(clientNs)}</select></label>
<label>services in <select id="pair-service">${options(serviceNs)}</select></label>
<button type="submit">Show connections</button>
</form>
<noscript><p class="note">Drawing one pair of namespaces needs JavaScript; <code>mtls-guard simulate --client '*.NS' --service '*.NS'</code> lists the same connections.</p></noscript>
<div id="pair" aria-live="polite"></div>`;
}

/** The compact matrix the page's script reads: namespaces by index, outcomes interned, one row of outcomes per kind of client. */
export function drillData(m: TrafficMatrix): unknown {
  const namespaces = namespaceOrder([...m.clients.map((c) => c.namespace), ...m.columns.map((c) => c.namespace)]);
  const nsIndex = new Map(namespaces.map((n, i) => [n, i]));
  return {
    maxCells: MAX_PAIR_CELLS,
    kinds: KIND_WORDS,
    namespaces,
    clients: m.clients.map((c) => [c.id, nsIndex.get(c.namespace), c.kind]),
    columns: m.columns.map((c) => [c.service, nsIndex.get(c.namespace), c.port]),
    outcomes: m.outcomes.map((o) => [o.code, o.exit ?? null, o.reason]),
    before: m.before,
    ...(m.after ? { after: m.after } : {}),
  };
}

/** Connections by outcome, as words: `40 200, 2 000`. */
export function countWords(counts: Readonly<Record<OutcomeCode, number>>): string {
  return (['200', '503', '000'] as const)
    .filter((c) => counts[c] > 0)
    .map((c) => `${counts[c]} × ${c}`)
    .join(', ');
}
