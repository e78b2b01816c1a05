/**
 * The report's data model: plain records of strings and numbers that the HTML renderer reads. The
 * builders here turn the engine's results (findings, verdicts, readiness, the plan) into them, so
 * that the renderer never sees the engine's types.
 */
import type { Evidence, OutcomeCode } from '../core/model/model.js';
import type { Finding } from '../core/model/findings.js';
import type { Verdict } from '../core/verdict/decision.js';
import type { Plan, Step } from '../core/plan/plan.js';
import { scopeName, type Readiness } from '../core/plan/readiness.js';
import { toManifest } from '../core/model/manifest.js';
import type { TrafficMatrix } from './matrix.js';
import type { NamespaceMatrix } from './namespaces.js';

/** What the report was made from. */
export interface ReportMeta {
  /** The manifest files and folders of the snapshot (`-f`). */
  readonly snapshot: readonly string[];
  /** The change files (`--change`), empty without a change. */
  readonly changes: readonly string[];
  readonly istioVersion: string;
  /** Where the Istio version comes from: `flag`, `istiod` or `default`. */
  readonly versionSource: string;
  readonly autoMtls: boolean;
  /** The telemetry source, or null without telemetry. */
  readonly telemetry: string | null;
  /** Why the telemetry is degraded, when it is. */
  readonly degraded?: string;
  readonly denyOn: Evidence;
  /** Notes from loading the snapshot (objects ignored and why). */
  readonly notes: readonly string[];
}

/** One finding as `mtls-guard check` prints it. */
export interface FindingView {
  readonly severity: string;
  readonly code: string;
  readonly evidence: string;
  readonly message: string;
  /** The outcome before and after (`200`, `000`), when the finding is about a connection. */
  readonly before: OutcomeCode | null;
  readonly after: OutcomeCode | null;
  /** Why: shown for findings about a connection. */
  readonly reason: string | null;
  readonly clients: readonly string[];
  readonly evidenceDetail: string | null;
  readonly fix: string;
}

/** The verdict on one object of the change. */
export interface ObjectView {
  /** `CREATE PeerAuthentication foo/default (STRICT)`. */
  readonly summary: string;
  readonly allowed: boolean;
  readonly mode: string;
  /** True when the object is allowed only because the mode is not enforce. */
  readonly wouldDeny: boolean;
  readonly notes: readonly string[];
  readonly findings: readonly FindingView[];
}

/** Readiness of one scope (a namespace or the mesh) for STRICT. */
export interface ReadinessView {
  readonly scope: string;
  readonly already: boolean;
  readonly ready: boolean;
  readonly blocking: readonly FindingView[];
}

/** One step of the plan, with its manifest as pretty JSON (for a person's step, the policy it restores, if any). */
export interface StepView {
  readonly kind: 'prepare' | 'strict' | 'person';
  readonly scope: string;
  readonly says: string;
  /** For person steps with an object to delete afterwards: whether the engine verified the deletion. */
  readonly verified: boolean | null;
  readonly manifest: string | null;
}

/** The plan to mesh-wide STRICT. */
export interface PlanView {
  readonly complete: boolean;
  readonly steps: readonly StepView[];
  readonly blocked: readonly { readonly scope: string; readonly findings: readonly FindingView[]; readonly needs: readonly string[] }[];
}

/** Everything the HTML page shows. */
export interface ReportData {
  readonly meta: ReportMeta;
  readonly matrix: TrafficMatrix;
  readonly namespaces: NamespaceMatrix;
  /** The verdicts on the change's objects, judged in series; absent without `--change`. */
  readonly change?: readonly ObjectView[];
  readonly readiness: { readonly namespaces: readonly ReadinessView[]; readonly mesh: ReadinessView };
  readonly plan: PlanView;
}

/** An object of a change judged as `check` judges it (structurally, `ObjectVerdict` of src/cli/check.ts). */
export interface JudgedObject {
  readonly summary: string;
  readonly verdict: Verdict;
  readonly notes: readonly string[];
}

/** A finding as the report shows it. */
export function findingView(f: Finding): FindingView {
  return {
    severity: f.severity,
    code: f.code,
    evidence: f.evidence,
    message: f.message,
    before: f.before,
    after: f.after,
    reason: f.port !== null ? f.reason : null,
    clients: f.clients ?? [],
    evidenceDetail: f.evidenceDetail ?? null,
    fix: f.fix,
  };
}

/** The verdicts on a change's objects. */
export function objectViews(judged: readonly JudgedObject[]): ObjectView[] {
  return judged.map((j) => ({
    summary: j.summary,
    allowed: j.verdict.allowed,
    mode: j.verdict.mode,
    wouldDeny: j.verdict.allowed && j.verdict.wouldDeny.length > 0,
    notes: j.notes,
    findings: j.verdict.findings.map(findingView),
  }));
}

function readinessView(r: Readiness): ReadinessView {
  return { scope: scopeName(r.scope), already: r.already, ready: r.ready, blocking: r.blocking.map(findingView) };
}

function stepView(s: Step): StepView {
  if (s.kind === 'person') {
    return {
      kind: 'person',
      scope: s.scope,
      says: s.says,
      verified: s.then ? s.verified : null,
      // A policy the plan updated goes back to this manifest; a deletion needs none.
      manifest: s.then?.operation === 'UPDATE' ? JSON.stringify(toManifest(s.then.object), null, 2) : null,
    };
  }
  return { kind: s.kind, scope: s.scope, says: s.says, verified: null, manifest: JSON.stringify(toManifest(s.change.object), null, 2) };
}

/** Readiness and the plan, as the report shows them. */
export function planViews(p: Plan): { readiness: ReportData['readiness']; plan: PlanView } {
  return {
    readiness: { namespaces: p.namespaces.map(readinessView), mesh: readinessView(p.mesh) },
    plan: {
      complete: p.complete,
      steps: p.steps.map(stepView),
      blocked: p.blocked.map((b) => ({ scope: b.scope, findings: b.findings.map(findingView), needs: b.needs })),
    },
  };
}
