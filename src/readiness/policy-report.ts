/**
 * Readiness as `wgpolicyk8s.io/v1alpha2` PolicyReports: one report per namespace, named
 * `mtls-guard`, holding what would block STRICT there and what fails there now. A pure mapping
 * from a round's results to the objects to write; the writer decides how to write them.
 */
import type { Connection } from '../core/evaluate.js';
import { describeChange } from '../core/evaluate.js';
import type { Finding } from '../core/model/findings.js';
import type { Readiness } from '../core/plan/readiness.js';

/** The API version the reports are written in. */
export const POLICY_REPORT_API_VERSION = 'wgpolicyk8s.io/v1alpha2';
/** The name of the one report per namespace: a fixed name is what keeps it from being duplicated. */
export const REPORT_NAME = 'mtls-guard';
/** The `policy` of every result, and the `source`. */
export const POLICY = 'mtls-guard';
/** The label that marks reports as this writer's, so that it only ever deletes its own. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'mtls-guard';

/** Categories of results: what STRICT would break, and what fails now. */
export const CATEGORY = { readiness: 'STRICT readiness', now: 'Current configuration' } as const;

/** A result's outcome in PolicyReport terms. */
export type ResultState = 'fail' | 'warn' | 'skip';

/** A reference to the object a result is about: the Service the connection goes to. */
export interface ResourceRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** One result of a PolicyReport (the fields of v1alpha2 that mtls-guard fills). */
export interface PolicyReportResult {
  readonly policy: string;
  readonly rule: string;
  readonly category: string;
  readonly result: ResultState;
  readonly severity: 'high' | 'medium' | 'low' | 'info';
  readonly scored: boolean;
  readonly source: string;
  readonly message: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly resources?: readonly ResourceRef[];
}

/** Counts of results by outcome, as the report's `summary` has them. */
export interface PolicyReportSummary {
  readonly pass: number;
  readonly fail: number;
  readonly warn: number;
  readonly error: number;
  readonly skip: number;
}

/** A PolicyReport as written (server-side apply body). */
export interface PolicyReport {
  readonly apiVersion: typeof POLICY_REPORT_API_VERSION;
  readonly kind: 'PolicyReport';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  readonly summary: PolicyReportSummary;
  readonly results: readonly PolicyReportResult[];
}

/** How large a report may grow. */
export interface ReportLimits {
  /** Results listed per report; the rest are counted in the summary and one `skip` result. */
  readonly maxResults: number;
  /** Bytes of JSON for the listed results, well under etcd's 1.5 MiB object limit. */
  readonly maxBytes: number;
  /** Characters of a message or property value; longer text is cut with an ellipsis. */
  readonly maxText: number;
}

export const DEFAULT_LIMITS: ReportLimits = { maxResults: 500, maxBytes: 512 * 1024, maxText: 1024 };

/** What the mapping reads from a round: readiness per namespace, and the connections failing now. */
export interface ReportInput {
  readonly namespaces: readonly Pick<Readiness, 'scope' | 'change' | 'blocking' | 'warnings'>[];
  readonly broken: ReadonlyMap<string, readonly Connection[]> | null;
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Properties without empty values, each cut to the limit (PolicyReport properties are strings). */
function props(entries: Record<string, string | number | boolean | null | undefined>, max: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined && v !== null && v !== '') out[k] = cut(String(v), max);
  return out;
}

/** The Service a target names, when it is one in this namespace (`httpbin.foo`); pods and objects give none. */
function serviceRef(target: string, namespace: string): ResourceRef[] | undefined {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(target);
  return m && m[3] === namespace ? [{ apiVersion: 'v1', kind: 'Service', namespace, name: m[1]! }] : undefined;
}

/** A finding that STRICT for the namespace would cause: `fail` when it would deny, `warn` below the threshold. */
function readinessResult(f: Finding, namespace: string, change: string, l: ReportLimits): PolicyReportResult {
  const fail = f.severity === 'deny';
  const resources = serviceRef(f.service, namespace);
  return {
    policy: POLICY,
    rule: f.code,
    category: CATEGORY.readiness,
    result: fail ? 'fail' : 'warn',
    severity: fail ? 'medium' : 'low',
    scored: true,
    source: POLICY,
    message: cut(`STRICT for namespace ${namespace}: ${f.message}`, l.maxText),
    properties: props(
      {
        check: 'strict-readiness',
        change,
        evidence: f.evidence,
        client: f.client,
        service: f.service,
        port: f.port,
        before: f.before,
        after: f.after,
        reason: f.reason,
        fix: f.fix,
        evidenceDetail: f.evidenceDetail,
      },
      l.maxText,
    ),
    ...(resources ? { resources } : {}),
  };
}

/** A connection that fails with the configuration as it is: always `fail`. */
function nowResult(c: Connection, namespace: string, l: ReportLimits): PolicyReportResult {
  const o = c.outcome;
  const resources = serviceRef(c.service, namespace);
  return {
    policy: POLICY,
    rule: o.cause ?? 'unexplained',
    category: CATEGORY.now,
    result: 'fail',
    severity: 'high',
    scored: true,
    source: POLICY,
    message: cut(
      `${c.client} -> ${c.service}:${c.port} fails now (${o.code}${o.exit ? `, curl exit ${o.exit}` : ''}): ${o.reason}`,
      l.maxText,
    ),
    properties: props(
      {
        check: 'current',
        client: c.client,
        clientKind: c.clientKind,
        service: c.service,
        port: c.port,
        outcome: o.code,
        curlExit: o.exit,
        tlsMode: o.tlsMode,
        destinationRule: o.rule,
        serverPolicy: o.serverSource,
        partial: o.partial ? 'true' : undefined,
      },
      l.maxText,
    ),
    ...(resources ? { resources } : {}),
  };
}

/** Lists results up to the limits; what is left out is counted and said in one last `skip` result. */
function bounded(all: PolicyReportResult[], l: ReportLimits): { results: PolicyReportResult[]; summary: PolicyReportSummary } {
  const results: PolicyReportResult[] = [];
  let bytes = 0;
  for (const r of all) {
    const size = JSON.stringify(r).length;
    if (results.length >= l.maxResults || bytes + size > l.maxBytes) break;
    results.push(r);
    bytes += size;
  }
  const count = (rs: readonly PolicyReportResult[], s: ResultState) => rs.filter((r) => r.result === s).length;
  const left = all.slice(results.length);
  if (left.length) {
    results.push({
      policy: POLICY,
      rule: 'omitted',
      category: CATEGORY.readiness,
      result: 'skip',
      severity: 'info',
      scored: false,
      source: POLICY,
      message:
        `${left.length} more results are not listed (${count(left, 'fail')} fail, ${count(left, 'warn')} warn): a report keeps to ` +
        `${l.maxResults} results and ${Math.round(l.maxBytes / 1024)} KiB; mtls-guard plan and mtls-guard simulate show them all`,
      properties: { omitted: String(left.length) },
    });
  }
  // The summary counts every result, listed or not.
  return { results, summary: { pass: 0, fail: count(all, 'fail'), warn: count(all, 'warn'), error: 0, skip: left.length ? 1 : 0 } };
}

/**
 * The reports a round calls for, by namespace: only namespaces with results get one. In each,
 * connections failing now come first, then what STRICT would break, then its warnings, each in
 * the engine's order, so that the same round always gives the same report.
 */
export function policyReports(input: ReportInput, limits: ReportLimits = DEFAULT_LIMITS): Map<string, PolicyReport> {
  const byNs = new Map<string, PolicyReportResult[]>();
  const add = (ns: string, rs: PolicyReportResult[]) => {
    if (rs.length) byNs.set(ns, [...(byNs.get(ns) ?? []), ...rs]);
  };
  for (const [ns, cs] of input.broken ?? [])
    add(
      ns,
      cs.map((c) => nowResult(c, ns, limits)),
    );
  for (const r of input.namespaces) {
    if (r.scope.kind !== 'namespace') continue;
    const ns = r.scope.namespace;
    const change = describeChange(r.change);
    add(ns, [
      ...r.blocking.map((f) => readinessResult(f, ns, change, limits)),
      // Notes (the version assumed, evidence degraded) are about mtls-guard, not the namespace.
      ...r.warnings.filter((f) => f.severity === 'warn').map((f) => readinessResult(f, ns, change, limits)),
    ]);
  }
  const out = new Map<string, PolicyReport>();
  for (const ns of [...byNs.keys()].sort()) {
    const { results, summary } = bounded(byNs.get(ns)!, limits);
    out.set(ns, {
      apiVersion: POLICY_REPORT_API_VERSION,
      kind: 'PolicyReport',
      metadata: { name: REPORT_NAME, namespace: ns, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
      summary,
      results,
    });
  }
  return out;
}
