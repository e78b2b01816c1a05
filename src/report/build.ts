/** The report's data, built from the engine's results: the traffic matrix before and after, the verdicts, readiness and the plan. */
import type { Evidence } from '../core/model/model.js';
import type { MeshIndex } from '../core/mesh/mesh-index.js';
import type { Plan } from '../core/plan/plan.js';
import { buildMatrix } from './matrix.js';
import { summarizeNamespaces } from './namespaces.js';
import { objectViews, planViews, type JudgedObject, type ReportData, type ReportMeta } from './model.js';

/** What a report is made from. */
export interface ReportInput {
  /** The snapshot's files, the change's files, the threshold and the load notes. */
  readonly sources: { readonly snapshot: readonly string[]; readonly changes: readonly string[]; readonly notes: readonly string[] };
  readonly denyOn: Evidence;
  /** The mesh as it is. */
  readonly before: MeshIndex;
  /** With a change: the mesh after all its objects, and the verdict on each, judged in series as `check` does. */
  readonly change?: { readonly after: MeshIndex; readonly judged: readonly JudgedObject[] };
  /** `makePlan` on the mesh as it is. */
  readonly plan: Plan;
}

/** The report's header facts, read from the index. */
export function metaOf(input: ReportInput): ReportMeta {
  const idx = input.before;
  const traffic = idx.data.traffic;
  return {
    snapshot: input.sources.snapshot,
    changes: input.sources.changes,
    istioVersion: idx.version.raw,
    versionSource: idx.data.versionSource,
    autoMtls: idx.autoMtls,
    telemetry: traffic ? traffic.source : null,
    ...(traffic?.degraded ? { degraded: traffic.degraded } : {}),
    denyOn: input.denyOn,
    notes: input.sources.notes,
  };
}

/** Builds everything the page shows. */
export function buildReport(input: ReportInput): ReportData {
  const matrix = buildMatrix(input.before, input.change?.after);
  return {
    meta: metaOf(input),
    matrix,
    namespaces: summarizeNamespaces(matrix),
    ...(input.change ? { change: objectViews(input.change.judged) } : {}),
    ...planViews(input.plan),
  };
}
