import { writeFile } from 'node:fs/promises';
import { makePlan } from '../core/plan/plan.js';
import { parseReportArgs } from '../config/cli-args.js';
import { buildReport } from '../report/build.js';
import { renderReport, reportSummary } from '../report/page.js';
import { judge, loadChanges } from './check.js';
import { loadIndex } from './load.js';
import { EXIT, type Io } from './io.js';

/**
 * `mtls-guard report`: one self-contained HTML page with the traffic matrix (before and after a
 * change), the change's findings as `check` gives them, readiness for STRICT and the plan. Exit 0
 * when the page is written (whatever it says), 2 on bad input.
 */
export async function runReport(argv: readonly string[], io: Io): Promise<number> {
  const args = parseReportArgs(argv);
  const [{ idx, notes }, objects] = await Promise.all([
    loadIndex(args.paths, args, args.telemetry),
    args.changes.length ? loadChanges(args.changes, false) : Promise.resolve([]),
  ]);
  for (const n of notes) io.err(`note: ${n}\n`);
  const judged = objects.length ? judge(idx, objects, { delete: false, denyOn: args.denyOn }) : [];
  const data = buildReport({
    sources: { snapshot: args.paths, changes: args.changes, notes },
    denyOn: args.denyOn,
    before: idx,
    ...(judged.length ? { change: { after: judged.at(-1)!.after, judged } } : {}),
    plan: makePlan(idx, { denyOn: args.denyOn }),
  });
  const html = renderReport(data);
  await writeFile(args.out, html);
  io.out(`wrote ${args.out} (${Math.ceil(Buffer.byteLength(html) / 1024)} KiB): ${reportSummary(data)}\n`);
  return EXIT.ok;
}
