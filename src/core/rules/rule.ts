import type { Change, DestinationRule, Service, ServicePort, Workload } from '../model/model.js';
import type { MeshIndex } from '../mesh/mesh-index.js';
import type { Code } from '../model/codes.js';
import type { Case } from '../model/cases.js';
import type { Outcome } from '../traffic/outcome.js';
import type { RawFinding } from '../model/findings.js';
import type { RemedyOptions } from './remedy.js';
import { serviceLabel } from '../model/model.js';

/** What a connection rule needs to explain one breaking connection. */
export interface BreakContext {
  readonly before: MeshIndex;
  readonly after: MeshIndex;
  readonly change: Change;
  /** Client label, e.g. `sleep.legacy` or `workloads without a sidecar in legacy`. */
  readonly client: string;
  readonly clientNamespace: string;
  readonly clientWorkload?: string;
  /** The client workloads the finding speaks for; empty for callers outside the snapshot. */
  readonly members: readonly Workload[];
  readonly service: Service;
  readonly port: ServicePort;
  readonly was: Outcome;
  readonly now: Outcome;
}

/**
 * A rule of breakage between a client and a server: when it fires (the endpoint cases it claims,
 * model/cases.ts), what the server side does in words, whether the configuration alone proves it,
 * and the fixes to try (`remedy.ts`), of which only those that hold are printed. The outcome engine finds each endpoint's case; the connection's worst case
 * names the rule.
 */
export interface ConnectionRule {
  readonly code: Code;
  /** The failing cases this rule explains. Every failing case belongs to exactly one rule. */
  readonly cases: readonly Case[];
  /** What the endpoint does with what it was sent, after its subject (`httpbin.foo port 80 is STRICT (…)`, or `who` alone). */
  says(c: Case, subject: string, who: string): string;
  /** Why the breakage follows from the configuration alone (`certain` evidence), when it does. */
  certain?(now: Outcome): string | undefined;
  /** The fixes to try, in order of preference. */
  remedies(ctx: BreakContext): RemedyOptions;
}

/** A rule that needs no connection pair; it inspects the change and the snapshots around it. */
export interface ConfigRule {
  readonly code: Code;
  check(before: MeshIndex, after: MeshIndex, change: Change): RawFinding[];
}

/** `name.namespace` for a Service. */
export function svcName(s: Service): string {
  return serviceLabel(s);
}

/** The container port behind a service port, when every endpoint agrees on one. */
export function containerPortOf(ctx: BreakContext): number | undefined {
  const t = ctx.port.targetPort;
  if (typeof t === 'number') return t;
  for (const w of ctx.after.endpoints(ctx.service)) {
    const p = w.ports.find((cp) => cp.name === t);
    if (p) return p.port;
  }
  return undefined;
}

/** The DestinationRule that set the client's TLS after the change, if one did. */
export function ruleOf(ctx: BreakContext): DestinationRule | undefined {
  const m = /^DestinationRule ([^/ ]+)\/(\S+)$/.exec(ctx.now.rule ?? '');
  if (!m) return undefined;
  const o = ctx.after.find({ kind: 'DestinationRule', namespace: m[1]!, name: m[2]! });
  return o?.kind === 'DestinationRule' ? o : undefined;
}
