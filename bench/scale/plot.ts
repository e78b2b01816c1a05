// Draws bench/results/scale.json as an SVG: the p50 and p99 of each change against the number of
// pods, both axes logarithmic, with the targets at 100,000 pods as dashed lines. No dependency:
// the SVG is written by hand from the numbers, so the plot always shows the last run.
import { writeFileSync } from 'node:fs';

interface Point {
  readonly pods: number;
  readonly changes: Record<string, { p50_ms: number; p99_ms: number }>;
}

const W = 720;
const H = 420;
const PAD = { left: 70, right: 190, top: 40, bottom: 50 };
const COLORS: Record<string, string> = {
  workload: '#1b7837',
  namespace: '#2166ac',
  'mesh-wide policy': '#b2182b',
  'mesh-wide rule': '#e08214',
};

const log = Math.log10;

/** Writes the plot of a scale report to `file`. */
export function writePlot(report: { date: string; cpus: string; points: readonly Point[] }, file: string): void {
  const pts = [...report.points].sort((a, b) => a.pods - b.pods);
  const xs = pts.map((p) => p.pods);
  const ys = pts.flatMap((p) => Object.values(p.changes).flatMap((c) => [c.p50_ms, c.p99_ms])).concat([1, 50]);
  const [x0, x1] = [log(Math.min(...xs)) - 0.1, log(Math.max(...xs)) + 0.1];
  const [y0, y1] = [Math.floor(log(Math.max(1e-3, Math.min(...ys)))), Math.ceil(log(Math.max(...ys)))];
  const X = (v: number): number => PAD.left + ((log(v) - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const Y = (v: number): number => H - PAD.bottom - ((log(v) - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(
    `<text x="${PAD.left}" y="20" font-size="14">Engine time per change against mesh size (p50 solid, p99 dotted), ${report.date.slice(0, 10)}</text>`,
  );
  for (let e = y0; e <= y1; e++) {
    const v = 10 ** e;
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${Y(v)}" y2="${Y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${PAD.left - 8}" y="${Y(v) + 4}" text-anchor="end">${v >= 1 ? v : v.toFixed(-e)} ms</text>`);
  }
  for (const p of xs) {
    out.push(`<line x1="${X(p)}" x2="${X(p)}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#eee"/>`);
    out.push(`<text x="${X(p)}" y="${H - PAD.bottom + 18}" text-anchor="middle">${p.toLocaleString('en')} pods</text>`);
  }
  for (const [v, label] of [
    [1, 'scoped target 1 ms'],
    [50, 'mesh-wide target 50 ms'],
  ] as const) {
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${Y(v)}" y2="${Y(v)}" stroke="#555" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${W - PAD.right + 6}" y="${Y(v) + 4}" fill="#555">${label}</text>`);
  }
  let row = 0;
  for (const name of Object.keys(pts[0]!.changes)) {
    const color = COLORS[name] ?? '#333';
    for (const [key, dash] of [
      ['p50_ms', ''],
      ['p99_ms', ' stroke-dasharray="2 3"'],
    ] as const) {
      const d = pts
        .map((p, i) => `${i ? 'L' : 'M'}${X(p.pods).toFixed(1)},${Y(Math.max(1e-3, p.changes[name]![key])).toFixed(1)}`)
        .join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
      for (const p of pts)
        out.push(
          `<circle cx="${X(p.pods).toFixed(1)}" cy="${Y(Math.max(1e-3, p.changes[name]![key])).toFixed(1)}" r="3" fill="${color}"/>`,
        );
    }
    out.push(`<rect x="${W - PAD.right + 6}" y="${PAD.top + 40 + row * 20}" width="12" height="3" fill="${color}"/>`);
    out.push(`<text x="${W - PAD.right + 24}" y="${PAD.top + 45 + row * 20}">${name}</text>`);
    row++;
  }
  out.push(`<text x="${PAD.left}" y="${H - 12}" fill="#555">${report.cpus.replace(/[<&>]/g, '')}</text>`);
  out.push('</svg>');
  writeFileSync(file, `${out.join('\n')}\n`);
}
