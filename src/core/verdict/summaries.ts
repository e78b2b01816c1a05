/**
 * Findings from break sets: observed and declared callers one by one, the rest per class and
 * outcome, in detail or as one summary, counted per bucket of ports rather than per port.
 */
import type { Change, DeclaredCaller, Evidence, MeshKind, Service, ServicePort, Workload } from '../model/model.js';
import type { Outcome } from '../traffic/outcome.js';
import { memoTable, type MeshIndex } from '../mesh/mesh-index.js';
import {
  classFor,
  classKey,
  clientClasses,
  OUTSIDE_KEY,
  representedAt,
  representedTotals,
  viewsMatching,
  type ClientClass,
} from '../traffic/classes.js';
import { callersOf, evidenceFor, unknownPlaintextInto, type EvidenceResult } from './evidence.js';
import { callerDetail, callerPods, declaredCallerFix, declaredCallersInto } from './callers.js';
import { injectClients, keepPermissive, type RemedyOptions } from '../rules/remedy.js';
import type { RawFinding } from '../model/findings.js';
import { certainty, CONNECTION_RULES } from '../rules/registry.js';
import type { BreakContext } from '../rules/rule.js';
import { breakAt, type Break, type BreakSet } from '../change/breaks.js';
import { heapify, siftDown, type Positioned } from '../memo/heap.js';
import { clientsReach, proverOf } from './prove.js';
import { serviceLabel as serviceLabelOf } from '../model/model.js';

const T_CLASS_NAMES = memoTable<readonly Workload[], string[]>('views:classNames');
const T_PORT_LABELS = memoTable<ServicePort, string>('static:portLabels');
const T_SERVICE_LABELS = memoTable<Service, string>('static:serviceLabels');

const KIND_WORDS: Record<MeshKind, string> = { none: 'without a sidecar', sidecar: 'with a sidecar', ambient: 'in ambient mode' };

/** Above this many (namespace × service port) entries, possible findings of a class are one summary. */
const SUMMARY_LIMIT = 60;

interface Pending {
  readonly b: Break;
  readonly represented: readonly ClientClass[];
  /** Workloads already reported one by one (observed or declared). */
  readonly named: ReadonlySet<Workload>;
}

/**
 * Breaks of one class that turn into the same outcome. Only the first few are ever worded: past
 * the summary limit a summary needs their count, the first targets and the represented lists alone.
 */
class PendingGroup {
  /** The kept breaks: all of them for detailed findings, only the first for a summary. */
  kept: Pending[] = [];
  /** For a summary: the ports of the first MAX_NAMES breaks, in order. */
  targets: PortAt[] = [];
  /** Breaks in all. */
  count = 0;
  /** An upper bound of the detailed findings: (class, namespace) pairs over all breaks. */
  entries = 0;
  /** The represented lists, in the order their first break came. */
  lists: (readonly ClientClass[])[] = [];
  /** The buckets the group's breaks come from, each with the class's index there. */
  readonly streams: Stream[] = [];
  readonly listSeq = new Map<readonly ClientClass[], number>();
}

/**
 * A group's breaks from one bucket: every port of the bucket, for one class. Ports rise in
 * position within a bucket, so a group's earliest breaks come from merging its streams (`nextBreak`),
 * with no object per break.
 */
class Stream implements Positioned {
  /** The stream's next break: the set, the port in the set, and its position (infinity once done). */
  s = 0;
  k = 0;
  pos: number;

  constructor(
    readonly bucket: Bucket,
    readonly i: number,
    readonly represented: readonly ClientClass[],
  ) {
    this.pos = bucket.firsts[0]!;
  }

  /** Moves past the next break. */
  advance(): void {
    const b = this.bucket;
    if (this.k + 1 < b.sets[this.s]!.at.length) this.k++;
    else {
      this.s++;
      this.k = 0;
    }
    this.pos = this.s < b.sets.length ? b.firsts[this.s]! + this.k : Number.POSITIVE_INFINITY;
  }
}

/**
 * Takes the break that comes first among the streams into `taken`, and moves its stream past it;
 * false when every stream is done. `streams` is a min-heap by position (`heapify`): a mesh-wide
 * change gives a group a stream per bucket, hundreds of them. Positions are distinct within a
 * group: one class per group, one bucket per port.
 */
function nextBreak(streams: Stream[], taken: Taken): boolean {
  const top = streams[0];
  if (!top || top.pos === Number.POSITIVE_INFINITY) return false;
  taken.pos = top.pos;
  taken.stream = top;
  taken.set = top.bucket.sets[top.s]!;
  taken.k = top.k;
  top.advance();
  siftDown(streams, 0);
  return true;
}

/** The break `nextBreak` last took: one object, filled again for each break. */
interface Taken {
  pos: number;
  stream: Stream | undefined;
  set: BreakSet | undefined;
  k: number;
}

/** A service port, as a break set holds it. */
type PortAt = BreakSet['at'][number];

/** Sets at the ports of one bucket: the same classes, the same verdict after, the same views. */
interface Bucket {
  readonly sets: BreakSet[];
  /** The position of each set's first port among all the ports of all sets. */
  readonly firsts: number[];
  ports: number;
}

const NO_WORKLOADS: ReadonlySet<Workload> = new Set();

/** The index of the class with a key in a list, or -1. */
function indexOfKey(classes: readonly ClientClass[], key: string): number {
  for (let i = 0; i < classes.length; i++) if (classes[i]!.key === key) return i;
  return -1;
}

/**
 * Turns breaks into findings: observed and declared per workload, the rest summarised. Sets with
 * the same classes, verdict and DR views fall into one bucket, whose classes are counted once for
 * all its ports: a mesh-wide change costs per bucket and class, not per port and class.
 */
export function findingsOf(before: MeshIndex, after: MeshIndex, change: Change, sets: readonly BreakSet[]): RawFinding[] {
  const out: RawFinding[] = [];
  // Breaks already made for witnesses or callers outside the mesh, and who they reported, by
  // port position and class: `pos × stride + i`.
  const made = new Map<number, { b: Break; named: ReadonlySet<Workload> }>();
  const stride = clientClasses(after).byKey.size;
  const buckets = new Map<readonly ClientClass[], Map<string, Map<ReadonlySet<string>, Bucket>>>();
  let pos = 0;
  for (const set of sets) {
    const first = pos;
    const outsideAt = set.workload ? -1 : indexOfKey(set.classes, OUTSIDE_KEY);
    const callersAt = set.workload ? ANY_CALLERS : callersAtPorts(after, set.at);
    // Most port lists have no port with a caller to report: they are skipped whole.
    if (!(callersAt & KNOWN_CALLERS) && !(outsideAt >= 0 && callersAt & OUTSIDE_CALLERS)) pos += set.at.length;
    else
      for (let k = 0; k < set.at.length; k++, pos++) {
        const { svc, port } = set.at[k]!;
        const callers = callersOf(after, svc);
        const witnesses = callers.length ? witnessesOf(after, set, svc, callers) : undefined;
        if (set.workload) {
          const b = breakAt(before, after, set, 0, k);
          const w = set.workload;
          const named = witnessFindings(before, after, change, b, witnesses?.get(0), out);
          const certain = set.nowVerdict.certain;
          if (!named.has(w))
            out.push(
              finding(
                before,
                after,
                change,
                b,
                `${w.name}.${w.namespace}`,
                w.namespace,
                w.name,
                certain ? 'certain' : 'possible',
                certain ? certainty(b.now) : undefined,
                [w],
              ),
            );
          continue;
        }
        const outside = outsideAt >= 0 && hasOutsideCallers(after, svc, port);
        if (!witnesses && !outside) continue;
        // Most ports have neither: only the classes that have are visited, in order.
        const classes = witnesses
          ? [...witnesses.keys(), ...(outside && !witnesses.has(outsideAt) ? [outsideAt] : [])].sort((a, b) => a - b)
          : [outsideAt];
        for (const i of classes) {
          const seen = witnesses?.get(i);
          const b = breakAt(before, after, set, i, k);
          const named = witnessFindings(before, after, change, b, seen, out);
          // A declared caller whose pods were found is reported once, as itself: its pods are not also a possible caller.
          const covered = outside && i === outsideAt ? outsideFindings(before, after, change, b, out) : NO_WORKLOADS;
          made.set(pos * stride + i, { b, named: covered.size ? new Set([...named, ...covered]) : named });
        }
      }
    if (set.workload) continue;
    let byVerdict = buckets.get(set.classes);
    if (!byVerdict) buckets.set(set.classes, (byVerdict = new Map()));
    let byViews = byVerdict.get(set.nowVerdict.key);
    if (!byViews) byVerdict.set(set.nowVerdict.key, (byViews = new Map()));
    const views = viewsMatching(after, set.at[0]!.svc);
    const bucket = byViews.get(views);
    if (bucket) {
      bucket.sets.push(set);
      bucket.firsts.push(first);
      bucket.ports += set.at.length;
    } else byViews.set(views, { sets: [set], firsts: [first], ports: set.at.length });
  }
  const groups = new Map<ClientClass, Map<string, PendingGroup>>();
  for (const classes of buckets.keys()) {
    const byVerdict = buckets.get(classes)!;
    for (const verdict of byVerdict.keys()) {
      const byViews = byVerdict.get(verdict)!;
      for (const bucket of byViews.values()) {
        const n = bucket.ports;
        const start = bucket.firsts[0]!;
        for (let i = 0; i < classes.length; i++) {
          const cls = classes[i]!;
          // Represented lists follow the views at the service, the same for the whole bucket.
          const represented = representedAt(after, cls, bucket.sets[0]!.at[0]!.svc);
          const totals = representedTotals(after, represented);
          if (totals.members === 0) continue;
          let byV = groups.get(cls);
          if (!byV) groups.set(cls, (byV = new Map()));
          let group = byV.get(verdict);
          if (!group) byV.set(verdict, (group = new PendingGroup()));
          group.count += n;
          group.entries += n * totals.entries;
          const at = group.listSeq.get(represented);
          if (at === undefined || start < at) group.listSeq.set(represented, start);
          group.streams.push(new Stream(bucket, i, represented));
        }
      }
    }
  }
  // Findings come out as their groups were met; `evaluateChange` puts them in their final order.
  const taken: Taken = { pos: -1, stream: undefined, set: undefined, k: 0 };
  for (const byV of groups.values()) {
    for (const group of byV.values()) {
      // A summary words only its first break; its targets need no more than the ports.
      const detailed = group.entries <= SUMMARY_LIMIT;
      heapify(group.streams);
      for (let n = 0; n < (detailed ? KEPT : MAX_NAMES) && nextBreak(group.streams, taken); n++) {
        const set = taken.set!;
        const { i, represented } = taken.stream!;
        if (!detailed) group.targets.push(set.at[taken.k]!);
        if (detailed || n === 0) {
          const m = made.get(taken.pos * stride + i);
          group.kept.push({ b: m?.b ?? breakAt(before, after, set, i, taken.k), represented, named: m?.named ?? NO_WORKLOADS });
        }
      }
      group.lists = [...group.listSeq].sort((a, b) => a[1] - b[1]).map(([l]) => l);
      out.push(...summarise(before, after, change, group));
    }
  }
  return out;
}

/**
 * True when some break set would give a finding: `findingsOf` without the wording, for judging
 * whether a fix breaks anything. Classes that stand for no workload give none, unless they are
 * the class of clients without a sidecar and a port has callers outside the mesh.
 */
export function anyFinding(after: MeshIndex, sets: readonly BreakSet[]): boolean {
  for (const set of sets) {
    if (set.workload) return true;
    const svc = set.at[0]!.svc;
    for (const cls of set.classes) {
      if (representedTotals(after, representedAt(after, cls, svc)).members > 0) return true;
      // The class of clients without a sidecar also stands for callers outside the mesh.
      if (cls.key === OUTSIDE_KEY && set.at.some((at) => hasOutsideCallers(after, at.svc, at.port))) return true;
    }
  }
  return false;
}

/** `callersAtPorts` bits: some port's service has callers (`callersOf`); some has callers outside the mesh. */
const KNOWN_CALLERS = 1;
const OUTSIDE_CALLERS = 2;
const ANY_CALLERS = KNOWN_CALLERS | OUTSIDE_CALLERS;

/**
 * Which kinds of callers the ports of a list have, once per list: port buckets' lists are made
 * once per snapshot and serve change after change. Callers come from the snapshot alone (specs,
 * telemetry, known callers), never from Istio config, so a list's answer holds on both sides of
 * any change.
 */
const T_LIST_CALLERS = memoTable<readonly PortAt[], number>('static:listCallers');

function callersAtPorts(idx: MeshIndex, at: readonly PortAt[]): number {
  const listCallers = idx.weakMemo(T_LIST_CALLERS);
  let bits = listCallers.get(at);
  if (bits === undefined) {
    bits = 0;
    for (let k = 0; k < at.length && bits !== ANY_CALLERS; k++) {
      const { svc, port } = at[k]!;
      if (callersOf(idx, svc).length) bits |= KNOWN_CALLERS;
      if (hasOutsideCallers(idx, svc, port)) bits |= OUTSIDE_CALLERS;
    }
    listCallers.set(at, bits);
  }
  return bits;
}

/** A caller of a service with observed or declared evidence. */
interface Witness {
  readonly w: Workload;
  readonly ev: EvidenceResult;
}

/**
 * The callers of a break set's service with observed or declared evidence, by the index of the
 * class that represents them there (or 0 for a set of one moved workload). Found by reverse
 * lookups from the service, never by a walk over a class's members.
 */
function witnessesOf(after: MeshIndex, set: BreakSet, svc: Service, callers: readonly Workload[]): Map<number, Witness[]> | undefined {
  let out: Map<number, Witness[]> | undefined;
  const byKey = clientClasses(after).byKey;
  for (const w of callers) {
    const i = set.workload ? (w === set.workload ? 0 : -1) : set.classes.indexOf(classFor(after, byKey.get(classKey(after, w))!, svc));
    if (i < 0) continue;
    const ev = evidenceFor(after, w, svc);
    if (ev.level === 'possible') continue;
    out ??= new Map();
    const l = out.get(i);
    if (l) l.push({ w, ev });
    else out.set(i, [{ w, ev }]);
  }
  return out;
}

/** Findings for the witnesses of one break. Returns the workloads so reported. */
function witnessFindings(
  before: MeshIndex,
  after: MeshIndex,
  change: Change,
  b: Break,
  seen: readonly Witness[] | undefined,
  out: RawFinding[],
): ReadonlySet<Workload> {
  if (!seen) return NO_WORKLOADS;
  const named = new Set<Workload>();
  for (const { w, ev } of seen) {
    named.add(w);
    out.push(finding(before, after, change, b, `${w.name}.${w.namespace}`, w.namespace, w.name, ev.level, ev.detail, [w]));
  }
  return named;
}

/** True when a service port has callers outside the mesh to report: unknown observed sources or declared callers. */
function hasOutsideCallers(after: MeshIndex, svc: Service, port: ServicePort): boolean {
  return unknownPlaintextInto(after, svc) !== undefined || declaredCallersInto(after, svc, port).length > 0;
}

/** Findings for callers outside the mesh: unknown observed sources and declared callers. Returns the pods of the declared callers. */
function outsideFindings(before: MeshIndex, after: MeshIndex, change: Change, b: Break, out: RawFinding[]): ReadonlySet<Workload> {
  const unknown = unknownPlaintextInto(after, b.service);
  if (unknown)
    out.push(finding(before, after, change, b, 'unknown (a caller outside the mesh)', '', undefined, 'observed', unknown.detail, []));
  let pods: Set<Workload> | undefined;
  for (const c of declaredCallersInto(after, b.service, b.port)) {
    const callerPodList = callerPods(after, c);
    const f = finding(
      before,
      after,
      change,
      b,
      c.client,
      '',
      undefined,
      'declared',
      callerDetail(c, serviceLabelOf(b.service), b.port.port),
      callerPodList,
      undefined,
      declaredCallerOptions(c),
    );
    out.push({ ...f, fix: declaredCallerFix(c, serviceLabelOf(b.service), f.fix) });
    for (const w of callerPodList) (pods ??= new Set()).add(w);
  }
  return pods ?? NO_WORKLOADS;
}

/** Members of the represented classes by namespace, less those reported one by one. */
function byNamespace(p: Pending): ReadonlyMap<string, readonly Workload[]> {
  // One class and nobody reported apart: its own lists serve as they are.
  if (p.represented.length === 1 && p.named.size === 0) return p.represented[0]!.byNamespace;
  const m = new Map<string, Workload[]>();
  for (const c of p.represented) {
    for (const [ns, ws] of c.byNamespace) {
      const rest = p.named.size ? ws.filter((w) => !p.named.has(w)) : ws;
      if (rest.length) m.set(ns, [...(m.get(ns) ?? []), ...rest]);
    }
  }
  return m;
}

function summarise(before: MeshIndex, after: MeshIndex, change: Change, group: PendingGroup): RawFinding[] {
  const list = group.kept;
  const certain = list[0]!.b.nowVerdict.certain ? certainty(list[0]!.b.now) : undefined;
  const level: Evidence = certain ? 'certain' : 'possible';
  // Every kept break has at least one entry, so within the limit all of them were kept.
  if (group.entries <= SUMMARY_LIMIT) {
    const out: RawFinding[] = [];
    for (const p of list) {
      const namespaces = byNamespace(p);
      if (namespaces.size === 0) continue;
      if (certain && namespaces.size > 1) {
        // A contradiction in the config breaks every such client alike: one finding per service port.
        const ws = [...namespaces.values()].flat();
        out.push(
          finding(
            before,
            after,
            change,
            p.b,
            `${ws.length} workloads ${KIND_WORDS[ws[0]!.mesh]} in ${namespaces.size} namespaces`,
            '',
            undefined,
            level,
            certain,
            ws,
            names(ws),
          ),
        );
        continue;
      }
      const own = namespaces === p.represented[0]!.byNamespace;
      for (const ns of namespaces.keys()) {
        const ws = namespaces.get(ns)!;
        const only = ws.length === 1 ? ws[0]! : undefined;
        const label = only ? `${only.name}.${ns}` : `${ws.length} workloads ${KIND_WORDS[ws[0]!.mesh]} in ${ns}`;
        out.push(
          finding(
            before,
            after,
            change,
            p.b,
            label,
            ns,
            only?.name,
            level,
            certain,
            ws,
            only ? undefined : own ? classNames(after, ws) : names(ws),
          ),
        );
      }
    }
    return out;
  }
  // A change that reaches many namespaces and services: one summary for the class. Its members
  // are counted per class, never listed in full, so the cost follows classes, not pods.
  const classes: ClientClass[] = [];
  const keys = new Set<string>();
  for (let k = 0; k < group.lists.length; k++) {
    const l = group.lists[k]!;
    for (let j = 0; j < l.length; j++) {
      const c = l[j]!;
      if (keys.has(c.key)) continue;
      keys.add(c.key);
      classes.push(c);
    }
  }
  let count = 0;
  const members: Workload[] = [];
  for (let k = 0; k < classes.length; k++) {
    const c = classes[k]!;
    count += c.members.length;
    for (let i = 0; i < c.members.length && members.length <= MAX_NAMES; i++) members.push(c.members[i]!);
  }
  const namespaces = namespaceCount(after, classes);
  const first = list[0]!.b;
  const targets = group.targets.map((at) => portLabel(before, at.svc, at.port));
  if (group.count > MAX_NAMES) targets.push(`and ${group.count - MAX_NAMES} more`);
  const f = finding(
    before,
    after,
    change,
    first,
    `${count} workloads ${KIND_WORDS[members[0]!.mesh]} in ${namespaces} namespaces`,
    '',
    undefined,
    level,
    certain,
    // Listed only if a fix is tried: a mesh-wide summary stands for thousands of workloads.
    () => classes.flatMap((c) => c.members),
    names(members, count),
  );
  return [
    {
      code: f.code,
      evidence: f.evidence,
      client: f.client,
      service: f.service,
      port: f.port,
      before: f.before,
      after: f.after,
      exit: f.exit,
      message: `${f.client} -> ${group.count} service ports, e.g. ${targets.slice(0, 3).join(', ')} ${codesOf(first)}`,
      reason: f.reason,
      fix: f.fix,
      clients: f.clients,
      evidenceDetail: f.evidenceDetail,
      targets,
    },
  ];
}

/** `name.namespace:port`, written once per service port and snapshot. */
function portLabel(idx: MeshIndex, svc: Service, port: ServicePort): string {
  const memo = idx.memo(T_PORT_LABELS);
  let l = memo.get(port);
  if (l === undefined) memo.set(port, (l = `${serviceLabel(idx, svc)}:${port.port}`));
  return l;
}

/** `name.namespace`, written once per service and snapshot. */
function serviceLabel(idx: MeshIndex, svc: Service): string {
  const memo = idx.memo(T_SERVICE_LABELS);
  let l = memo.get(svc);
  if (l === undefined) memo.set(svc, (l = serviceLabelOf(svc)));
  return l;
}

/** The namespaces the members of some classes live in, counted once per set of classes. */
function namespaceCount(idx: MeshIndex, classes: readonly ClientClass[]): number {
  if (classes.length === 1) return classes[0]!.byNamespace.size;
  const memo = idx.cachedMap<string, number>('views', 'namespaceCounts');
  const key = classes.map((c) => c.key).join('\n');
  let n = memo.get(key);
  if (n === undefined) {
    const namespaces = new Set<string>();
    for (const c of classes) for (const ns of c.byNamespace.keys()) namespaces.add(ns);
    memo.set(key, (n = namespaces.size));
  }
  return n;
}

/** At most this many client names are listed in one finding. */
const MAX_NAMES = 50;

/** Breaks kept per group: enough for every detailed finding and for a summary's targets. */
const KEPT = Math.max(SUMMARY_LIMIT + 1, MAX_NAMES);

/** The workloads a finding stands for, or how to list them when a fix needs them. */
type Members = readonly Workload[] | (() => readonly Workload[]);

/**
 * What a rule's fix reads about one break. A class, not an object literal with a getter: with the
 * literal, every young-generation collection in the engine benchmark promoted about 3 MB (the
 * indexes behind the contexts, held through the getter's closure) and paused for 7–15 ms; with
 * the class, under 1 ms.
 */
class FindingContext implements BreakContext {
  constructor(
    readonly before: MeshIndex,
    readonly after: MeshIndex,
    readonly change: Change,
    readonly client: string,
    readonly clientNamespace: string,
    readonly clientWorkload: string | undefined,
    private readonly listed: Members,
    private readonly b: Break,
  ) {}

  private listedOnce: readonly Workload[] | undefined;

  get members(): readonly Workload[] {
    const l = this.listed;
    return typeof l === 'function' ? (this.listedOnce ??= l()) : l;
  }

  get service(): Service {
    return this.b.service;
  }
  get port(): ServicePort {
    return this.b.port;
  }
  /** Worded only if a rule asks for it. */
  get was(): Outcome {
    return this.b.was;
  }
  get now(): Outcome {
    return this.b.now;
  }
}

/** `names` of a class's own list of members in a namespace, written once per list. */
function classNames(idx: MeshIndex, ws: readonly Workload[]): string[] {
  const memo = idx.memo(T_CLASS_NAMES);
  let n = memo.get(ws);
  if (!n) memo.set(ws, (n = names(ws)));
  return n;
}

function names(ws: readonly Workload[], total = ws.length): string[] {
  const out = ws.slice(0, MAX_NAMES).map((w) => `${w.name}.${w.namespace}`);
  if (total > MAX_NAMES) out.push(`and ${total - MAX_NAMES} more`);
  return out;
}

/** `(200 → 000, curl exit 56)`: a break's codes as a message ends with them. */
function codesOf(b: Break): string {
  const exit = b.now.exit;
  return `(${b.wasVerdict.code} → ${b.now.code}${exit !== undefined ? `, curl exit ${exit}` : ''})`;
}

function finding(
  before: MeshIndex,
  after: MeshIndex,
  change: Change,
  b: Break,
  client: string,
  ns: string,
  workload: string | undefined,
  evidence: Evidence,
  detail: string | undefined,
  members: Members,
  clients?: string[],
  options?: (ctx: BreakContext) => RemedyOptions,
): RawFinding {
  // The outcome before is only worded if a rule asks for it: a finding needs its code alone.
  const ctx = new FindingContext(before, after, change, client, ns, workload, members, b);
  const svcLabel = serviceLabel(before, b.service);
  // Every connection finding has every key (unset ones undefined): one shape for the sort and the
  // shells, where optional keys spread in made a dozen.
  return {
    code: b.now.cause!,
    evidence,
    client,
    service: svcLabel,
    port: b.port.port,
    before: b.wasVerdict.code,
    after: b.now.code,
    exit: b.now.exit,
    message: `${client} -> ${portLabel(before, b.service, b.port)} ${codesOf(b)}`,
    reason: b.now.reason,
    fix: fixOf(ctx, options),
    clients,
    evidenceDetail: detail || undefined,
    targets: undefined,
  };
}

/** The fixes of a connection finding that hold on the mesh after the change (`prove.ts`). */
function fixOf(ctx: FindingContext, options?: (ctx: BreakContext) => RemedyOptions): string {
  const rule = CONNECTION_RULES.get(ctx.now.cause!);
  const remedies = options ?? rule?.remedies;
  if (!remedies) return '';
  const prover = proverOf(ctx.after);
  return prover.defer(() =>
    prover.fix(
      () => remedies(ctx),
      (t) => clientsReach(t, ctx.members, ctx.service, ctx.port),
    ),
  );
}

/** The fixes for a declared caller: its own pods join the mesh (an ingress controller), or the port stays PERMISSIVE. */
function declaredCallerOptions(c: DeclaredCaller): (ctx: BreakContext) => RemedyOptions {
  const tag = c.client.replace(/[^a-z0-9]+/g, '-');
  return (ctx) => [injectClients(ctx), keepPermissive(ctx, tag)];
}
