/** The report's stylesheet, inlined in the page: system fonts only, no images, nothing fetched. */
export const STYLE = `
:root { color-scheme: light; --ok: #d7f0d7; --warn: #ffe2a8; --fail: #f7c1c1; --none: #eeeeee; --line: #b9b9b9; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 1.5rem 4rem; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.5rem; margin: 1rem 0 0.5rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1rem 0 0.25rem; }
code, pre, .fix { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
pre { background: #f6f6f6; padding: 0.5rem; overflow: auto; max-height: 20rem; }
.fix { overflow-wrap: anywhere; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 1rem; margin: 0; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
nav a { margin-right: 1rem; }
.note { color: #444; font-style: italic; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem 1.25rem; }
.legend span { display: inline-block; min-width: 3rem; text-align: center; padding: 0 0.3rem; border: 1px solid var(--line); margin-right: 0.3rem; }
.scroll { max-height: 75vh; width: fit-content; max-width: 100%; overflow: auto; border: 1px solid var(--line); margin: 0.5rem 0; }
table { border-collapse: separate; border-spacing: 0; }
caption { text-align: left; padding: 0.25rem 0.5rem; font-size: 12px; color: #333; caption-side: top; }
th, td { border-right: 1px solid var(--line); border-bottom: 1px solid var(--line); padding: 2px 6px; }
table.cells td, table.ns td { text-align: center; white-space: pre-line; cursor: pointer; font-variant-numeric: tabular-nums; }
table.cells thead th, table.ns thead th { position: sticky; top: 0; background: #fafafa; z-index: 2; font-weight: 600; white-space: nowrap; }
table.cells tbody th, table.ns tbody th { position: sticky; left: 0; background: #fafafa; z-index: 1; text-align: left; white-space: nowrap; font-weight: 500; }
table.cells thead th:first-child, table.ns thead th:first-child { left: 0; z-index: 3; }
table.ns td { font-size: 11px; line-height: 1.2; min-width: 4.5rem; white-space: pre; }
th small { color: #555; font-weight: normal; }
.o200 { background: var(--ok); }
.o503 { background: var(--warn); }
.o000 { background: var(--fail); }
.none { background: var(--none); color: #555; }
td.changed, .legend .changed { outline: 3px solid #1b1b1b; outline-offset: -3px; font-weight: 700; }
td:focus { outline: 3px solid #1456c8; outline-offset: -3px; }
#cell-detail { position: sticky; bottom: 0; background: #fffbe6; border: 1px solid #c9b458; padding: 0.5rem; white-space: pre-wrap; min-height: 2.5rem; z-index: 5; }
.pair-form { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin: 0.5rem 0; }
.finding { border-left: 4px solid var(--line); padding: 0.1rem 0.75rem; margin: 0.5rem 0; }
.finding p { margin: 0.25rem 0; }
.finding dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 0.75rem; margin: 0.25rem 0; }
.finding dt { font-weight: 600; }
.finding dd { margin: 0; }
.sev-deny { border-left-color: #b00020; }
.sev-warn { border-left-color: #c77700; }
.sev { font-weight: 700; text-transform: uppercase; }
.object.denied .verdict { color: #b00020; }
.object.allowed .verdict { color: #1d6b1d; }
table.readiness td.ready { background: var(--ok); }
table.readiness td.blocked { background: var(--fail); }
table.readiness td, table.readiness th { vertical-align: top; text-align: left; }
table.readiness { border-left: 1px solid var(--line); border-top: 1px solid var(--line); }
.steps li { margin: 0.4rem 0; }
.step-kind { font-family: ui-monospace, monospace; }
.totals td, .totals th { text-align: right; }
.totals { border-left: 1px solid var(--line); border-top: 1px solid var(--line); }
`;
