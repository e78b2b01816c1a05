import type { Change, Evidence, IstioObject, MeshKind, Workload } from './model/model.js';
import { isControlPlane } from './mesh/membership.js';
import { objectRef, serviceLabel } from './model/model.js';
import type { MeshIndex } from './mesh/mesh-index.js';
import { classAt, clientClasses, OUTSIDE_KEY } from './traffic/classes.js';
import { serverShape, signatureGroups, verdictOf } from './traffic/shapes.js';
import { plaintextIntoPod, type Outcome } from './traffic/outcome.js';
import { callerDetail, declaredCallerFix, declaredCallersInto, plaintextAccepted, podTargets, type PodTarget } from './verdict/callers.js';
import type { RawFinding } from './model/findings.js';
import { CONFIG_RULES } from './rules/registry.js';
import { breakSets, outcomeAt, portBuckets } from './change/breaks.js';
import { anyFinding, findingsOf } from './verdict/summaries.js';
import { prepareCallers } from './verdict/evidence.js';
import { installProver, Prover, proverOf } from './verdict/prove.js';
import { keepPortPermissive, type RemedyOptions } from './rules/remedy.js';
import type { Remedies } from './verdict/prove.js';

/** One simulated connection. */
export interface Connection {
  /** `workload.namespace` */
  readonly client: string;
  readonly clientKind: MeshKind;
  /** `service.namespace` */
  readonly service: string;
  readonly port: number;
  readonly outcome: Outcome;
}

/** Which connections `simulate` computes: by client (`workload.namespace`) and by service (`name.namespace`, port). */
export interface SimulateFilter {
  readonly client?: (client: string) => boolean;
  readonly service?: (service: string, port: number) => boolean;
}

/** The workloads that can be clients (not Istio's control plane) and pass the filter. */
function clientWorkloads(idx: MeshIndex, f: SimulateFilter): Workload[] {
  return idx.allWorkloads().filter((w) => !isControlPlane(w.labels) && (!f.client || f.client(`${w.name}.${w.namespace}`)));
}

/** How many connections `simulate` would compute with a filter, before computing any. */
export function simulateSize(idx: MeshIndex, f: SimulateFilter = {}): number {
  const clients = clientWorkloads(idx, f).length;
  let ports = 0;
  for (const svc of idx.allServices()) for (const p of svc.ports) if (!f.service || f.service(serviceLabel(svc), p.port)) ports++;
  return clients * ports;
}

/** Every (client workload, service port) outcome of a snapshot that passes the filter, sorted (DESIGN.md §7 `simulate`). */
export function simulate(idx: MeshIndex, f: SimulateFilter = {}): Connection[] {
  const out: Connection[] = [];
  const clients = clientWorkloads(idx, f);
  for (const svc of idx.allServices()) {
    const label = serviceLabel(svc);
    for (const port of svc.ports) {
      if (f.service && !f.service(label, port.port)) continue;
      for (const w of clients) {
        const o = outcomeAt(idx, classAt(idx, w, svc), svc, port);
        if (o) out.push({ client: `${w.name}.${w.namespace}`, clientKind: w.mesh, service: label, port: port.port, outcome: o });
      }
    }
  }
  out.push(...declaredConnections(idx).filter((c) => (!f.client || f.client(c.client)) && (!f.service || f.service(c.service, c.port))));
  return dedupe(out).sort((a, b) => cmp(a.client, b.client) || cmp(a.service, b.service) || a.port - b.port);
}

/** The declared callers from outside the mesh, as clients: `kube-apiserver to kyverno-svc.kyverno:443`. */
function declaredConnections(idx: MeshIndex): Connection[] {
  const out: Connection[] = [];
  if (!idx.data.callers?.length) return out;
  const outside = clientClasses(idx).byKey.get(OUTSIDE_KEY);
  for (const svc of idx.allServices()) {
    for (const port of svc.ports) {
      for (const c of declaredCallersInto(idx, svc, port)) {
        const o = outside ? outcomeAt(idx, outside, svc, port) : null;
        if (o) out.push({ client: c.client, clientKind: 'none', service: serviceLabel(svc), port: port.port, outcome: o });
      }
    }
  }
  for (const p of podTargets(idx)) {
    out.push({
      client: p.caller.client,
      clientKind: 'none',
      service: `${p.workload.name}.${p.workload.namespace} (pod)`,
      port: p.containerPort,
      outcome: podOutcome(idx, p),
    });
  }
  return out;
}

/** What a plaintext scrape of a pod port gets: through, or reset by a STRICT sidecar. */
function podOutcome(idx: MeshIndex, p: PodTarget): Outcome {
  return plaintextIntoPod(idx, p.workload, p.containerPort, p.caller.client);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Two pods of one owner with different shapes give one line: the worst. */
function dedupe(list: Connection[]): Connection[] {
  const m = new Map<string, Connection>();
  const rank = { '200': 0, '503': 1, '000': 2 } as const;
  for (const c of list) {
    const k = `${c.client} ${c.service}:${c.port}`;
    const prev = m.get(k);
    if (!prev || rank[c.outcome.code] > rank[prev.outcome.code]) m.set(k, c);
  }
  return [...m.values()];
}

/** Labels a controller adds per revision or per pod; a selector must not pin them. */
const GENERATED_LABELS: ReadonlySet<string> = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
  'pod-template-generation',
  'security.istio.io/tlsMode',
  'service.istio.io/canonical-name',
  'service.istio.io/canonical-revision',
]);

function stableLabels(l: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(l).filter(([k]) => !GENERATED_LABELS.has(k)));
}

/** Declared scrapes of pod ports that a policy change cuts off. */
function podTargetFindings(before: MeshIndex, after: MeshIndex): RawFinding[] {
  const out: RawFinding[] = [];
  const key = (p: PodTarget): string => `${p.caller.declaredBy}|${p.workload.namespace}/${p.workload.name}|${p.containerPort}`;
  const was = new Map(podTargets(before).map((p) => [key(p), p]));
  for (const p of podTargets(after)) {
    const b = was.get(key(p));
    if (!b || !plaintextAccepted(before, b.workload, b.containerPort) || plaintextAccepted(after, p.workload, p.containerPort)) continue;
    const now = podOutcome(after, p);
    const target = `${p.workload.name}.${p.workload.namespace}`;
    out.push({
      code: now.cause!,
      evidence: 'declared',
      client: p.caller.client,
      service: target,
      port: p.containerPort,
      before: '200',
      after: '000',
      exit: 56,
      message: `${p.caller.client} -> ${target} pod port ${p.containerPort} (200 → 000, curl exit 56)`,
      reason: now.reason,
      fix: declaredCallerFix(p.caller, target, podPortFix(after, p)),
      evidenceDetail: callerDetail(p.caller, target, p.containerPort),
    });
  }
  return out;
}

/** The fix that keeps a scraped pod port open to plaintext, if it holds. */
function podPortFix(after: MeshIndex, p: PodTarget): string {
  const w = p.workload;
  const options = (): RemedyOptions => [
    keepPortPermissive(
      after,
      w.namespace,
      `${w.name}-${p.caller.client.replace(/[^a-z0-9]+/g, '-')}-permissive`,
      stableLabels(w.labels),
      p.containerPort,
      `port ${p.containerPort} of ${w.name}.${w.namespace}`,
    ),
  ];
  const prover = proverOf(after);
  return prover.defer(() => prover.fix(options, (t) => plaintextAccepted(t.idx, t.moved.get(w) ?? w, p.containerPort)));
}

/** The result of judging one change. */
export interface ChangeEvaluation {
  readonly object: IstioObject;
  readonly operation: Change['operation'];
  readonly findings: readonly RawFinding[];
  /** The remedies that hold for each finding, by `findingKey`, in the rule's order. */
  readonly remedies: ReadonlyMap<string, Remedies>;
  /** The index after the change, for judging the next object of a multi-object change. */
  readonly after: MeshIndex;
}

/**
 * Judges one change against a snapshot: which connections break, and the config warnings.
 * `overBudget`, when given, is asked between services (or buckets of ports) and stops the work with
 * BudgetExceededError.
 */
export function evaluateChange(before: MeshIndex, change: Change, overBudget?: () => boolean, fixBudget?: () => boolean): ChangeEvaluation {
  const after = before.apply(change);
  // Fixes are tried on the mesh after the change, within their own budget: a trial out of time is
  // a fix not tried, never a judgement lost.
  const budget = fixBudget && overBudget ? () => fixBudget() || overBudget() : (fixBudget ?? overBudget);
  if (after !== before) installProver(after, new Prover(after, (idx, c) => judgeRemedy(idx, c, budget), budget));
  return evaluateOn(before, after, change, overBudget);
}

/** Whether a remedy breaks a connection that works on the mesh it is tried on, and that mesh with it. */
function judgeRemedy(idx: MeshIndex, change: Change, overBudget?: () => boolean): { breaks: boolean; after: MeshIndex } {
  const after = idx.apply(change);
  const breaks =
    anyFinding(after, breakSets(idx, after, change, overBudget)) ||
    (change.object.kind !== 'DestinationRule' && podTargetFindings(idx, after).length > 0);
  return { breaks, after };
}

function evaluateOn(before: MeshIndex, after: MeshIndex, change: Change, overBudget?: () => boolean): ChangeEvaluation {
  const findings: RawFinding[] = [];
  findings.push(...findingsOf(before, after, change, breakSets(before, after, change, overBudget)));
  if (change.object.kind !== 'DestinationRule') findings.push(...podTargetFindings(before, after));
  for (const r of CONFIG_RULES) findings.push(...r.check(before, after, change));
  // Fixes are proven in the order findings are shown.
  const proven = proverOf(after).resolve(sortFindings(findings));
  return { object: change.object, operation: change.operation, findings: proven.findings, remedies: proven.held, after };
}

const EVIDENCE_RANK: Record<Evidence, number> = { certain: 0, observed: 1, declared: 2, possible: 3 };

function sortFindings(f: RawFinding[]): RawFinding[] {
  return f.sort(
    (a, b) =>
      EVIDENCE_RANK[a.evidence] - EVIDENCE_RANK[b.evidence] ||
      cmp(a.code, b.code) ||
      cmp(a.client, b.client) ||
      cmp(a.service, b.service) ||
      (a.port ?? 0) - (b.port ?? 0),
  );
}

/** A short description of a change for messages: `PeerAuthentication foo/default (STRICT)`. */
export function describeChange(change: Change): string {
  const o = change.object;
  // Policies of every kind are known by their mode; a rule by its host and the TLS it sends there.
  const what = o.kind === 'DestinationRule' ? `${o.host}${o.trafficPolicy?.tls ? ` ${o.trafficPolicy.tls.mode}` : ''}` : o.mode;
  return `${change.operation} ${objectRef(o)} (${what})`;
}

/**
 * Computes, ahead of any request, what every change reads from the snapshot side: each port's
 * server shape, its classes by signature with their verdicts, each namespace's port buckets (what
 * a namespace- or mesh-level policy change walks), and the reverse lookups of callers. Shells call
 * it where the index is built, off the request path, so a request pays only for what its change
 * alters. Returns the index, for `idx = prepare(MeshIndex.build(data))`.
 */
export function prepare(idx: MeshIndex): MeshIndex {
  for (const svc of idx.allServices()) {
    for (const port of svc.ports) {
      const shape = serverShape(idx, svc, port);
      if (!shape) continue;
      for (const g of signatureGroups(idx, svc, port)) verdictOf(idx, g.classes[0]!, g.sig, shape, svc, port);
    }
  }
  for (const ns of idx.serviceNamespaces()) portBuckets(idx, ns);
  prepareCallers(idx);
  return idx;
}
