/**
 * The page's only script, inlined and allowed by its hash in the page's Content-Security-Policy.
 * It reads the compact matrix from `<script type="application/json" id="mg-data">`, draws one pair
 * of namespaces at a time (replacing the last one, so the page stays the same size however many
 * pairs are opened) and shows a selected cell's reason in the detail panel. It writes text only
 * through `textContent` and `title`, never as HTML, so names from manifests stay text.
 */
export const SCRIPT = `(() => {
  'use strict';
  const data = JSON.parse(document.getElementById('mg-data').textContent);
  const detail = document.getElementById('cell-detail');
  const pairBox = document.getElementById('pair');
  const form = document.getElementById('pair-form');
  const pickClient = document.getElementById('pair-client');
  const pickService = document.getElementById('pair-service');
  const nsTable = document.getElementById('ns-matrix');
  const withChange = data.after !== undefined;

  const nsIndex = new Map(data.namespaces.map((n, i) => [n, i]));
  const clientsIn = new Map();
  data.clients.forEach((c, i) => { const l = clientsIn.get(c[1]); if (l) l.push(i); else clientsIn.set(c[1], [i]); });
  const columnsIn = new Map();
  data.columns.forEach((c, j) => { const l = columnsIn.get(c[1]); if (l) l.push(j); else columnsIn.set(c[1], [j]); });

  const outcome = (state, i, j) => {
    const id = state.rows[state.rowOf[i]][j];
    return id < 0 ? undefined : data.outcomes[id];
  };
  const words = (o) => (o ? o[0] + (o[1] !== null ? ' (curl exit ' + o[1] + ')' : '') + ': ' + o[2] : 'no connection');
  // The same rules as cellView in src/report/render-matrix.ts.
  const cell = (b, a) => {
    if (!withChange) return b ? { text: b[0], cls: 'o' + b[0], title: words(b) } : { text: '\\u2013', cls: 'none', title: 'no connection' };
    if ((b && b[0]) === (a && a[0])) {
      if (!a) return { text: '\\u2013', cls: 'none', title: 'no connection' };
      return { text: a[0], cls: 'o' + a[0], title: b[2] === a[2] ? words(a) : 'before: ' + words(b) + '\\nafter: ' + words(a) };
    }
    return {
      text: (b ? b[0] : '\\u2013') + ' \\u2192 ' + (a ? a[0] : '\\u2013'),
      cls: (a ? 'o' + a[0] : 'none') + ' changed',
      title: 'before: ' + words(b) + '\\nafter: ' + words(a),
    };
  };
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };

  const showPair = (clientNs, serviceNs) => {
    const rows = clientsIn.get(nsIndex.get(clientNs)) || [];
    const cols = columnsIn.get(nsIndex.get(serviceNs)) || [];
    const nCols = Math.min(cols.length, data.maxCells);
    const nRows = Math.min(rows.length, Math.max(1, Math.floor(data.maxCells / Math.max(1, nCols))));
    const table = el('table', undefined, 'cells');
    table.id = 'pair-matrix';
    table.appendChild(el('caption', 'Clients in ' + clientNs + ' by service ports in ' + serviceNs + (withChange ? ', after the change' : '')));
    const head = table.createTHead().insertRow();
    const corner = el('th', 'client \\\\ service:port');
    corner.scope = 'col';
    head.appendChild(corner);
    for (const j of cols.slice(0, nCols)) {
      const name = data.columns[j][0] + ':' + data.columns[j][2];
      const th = el('th', name);
      th.scope = 'col';
      th.dataset.id = name;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const i of rows.slice(0, nRows)) {
      const c = data.clients[i];
      const tr = body.insertRow();
      const th = el('th', c[0]);
      th.scope = 'row';
      th.dataset.id = c[0];
      th.appendChild(el('small', ' \\u00b7 ' + data.kinds[c[2]]));
      tr.appendChild(th);
      for (const j of cols.slice(0, nCols)) {
        const b = outcome(data.before, i, j);
        const v = cell(b, withChange ? outcome(data.after, i, j) : b);
        const td = el('td', v.text, v.cls);
        td.title = v.title;
        td.tabIndex = 0;
        tr.appendChild(td);
      }
    }
    const parts = [el('h3', clientNs + ' \\u2192 ' + serviceNs + ': ' + rows.length + ' client(s), ' + cols.length + ' service port(s)')];
    if (rows.length === 0 || cols.length === 0) parts.push(el('p', 'No connections between these namespaces.', 'note'));
    else {
      if (nRows < rows.length || nCols < cols.length)
        parts.push(el('p', 'Showing ' + nRows + ' of ' + rows.length + ' clients and ' + nCols + ' of ' + cols.length + " service ports; mtls-guard simulate --client '*." + clientNs + "' --service '*." + serviceNs + "' lists them all.", 'note'));
      const scroll = el('div', undefined, 'scroll');
      scroll.appendChild(table);
      parts.push(scroll);
    }
    pairBox.replaceChildren(...parts);
  };

  const describe = (td) => {
    const table = td.closest('table');
    if (!table || !table.classList.contains('cells') || !table.tHead) return;
    const rowHead = td.parentElement.cells[0];
    const colHead = table.tHead.rows[0].cells[td.cellIndex];
    detail.textContent = rowHead.dataset.id + ' \\u2192 ' + colHead.dataset.id + ': ' + td.textContent + '\\n' + td.title;
  };
  const openPair = (td) => {
    if (!nsTable || !nsTable.contains(td) || td.tagName !== 'TD') return;
    const clientNs = td.parentElement.dataset.ns;
    const serviceNs = nsTable.tHead.rows[0].cells[td.cellIndex].dataset.ns;
    pickClient.value = clientNs;
    pickService.value = serviceNs;
    showPair(clientNs, serviceNs);
    pairBox.scrollIntoView({ block: 'start' });
  };
  document.addEventListener('click', (e) => {
    const td = e.target.closest && e.target.closest('td');
    if (!td) return;
    describe(td);
    openPair(td);
  });
  document.addEventListener('focusin', (e) => { if (e.target.tagName === 'TD') describe(e.target); });
  document.addEventListener('keydown', (e) => {
    if ((e.key === 'Enter' || e.key === ' ') && e.target.tagName === 'TD' && nsTable && nsTable.contains(e.target)) {
      e.preventDefault();
      openPair(e.target);
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    showPair(pickClient.value, pickService.value);
  });
})();
`;
