/**
 * Remedies: the fixes a finding may offer, as changes the engine can try. A rule proposes them;
 * `verdict/prove.ts` applies each to the mesh after the change and keeps only those that clear the
 * break and break nothing else. A remedy's words name exactly what was tried.
 */
import type { DestinationRule, IstioObject, LegacyPolicy, MeshKind, PeerAuthentication, TlsMode, Workload } from '../model/model.js';
import type { MeshIndex } from '../mesh/mesh-index.js';
import type { BreakContext } from './rule.js';
import { containerPortOf, svcName } from './rule.js';
import { resolveShortName } from '../mesh/hosts.js';
import { toManifest } from '../model/manifest.js';

/** What a remedy changes: an Istio object created or updated, or workloads that join the mesh. */
export type RemedyChange =
  | { readonly kind: 'object'; readonly operation: 'CREATE' | 'UPDATE'; readonly object: IstioObject }
  | { readonly kind: 'enrol'; readonly workloads: readonly Workload[]; readonly mesh: Exclude<MeshKind, 'none'> };

/** One fix to try, with the words a finding prints when it holds. */
export interface Remedy {
  readonly says: string;
  readonly change: RemedyChange;
}

/**
 * The fixes of a finding: each option is a list of candidates, of which the first that holds is
 * printed (a DestinationRule in the service's namespace, else in the client's, else in the root).
 */
export type RemedyOptions = readonly (readonly Remedy[])[];

/** Workloads of a break that can join the mesh: the named ones without a proxy. */
function outsiders(ws: readonly Workload[]): Workload[] {
  return ws.filter((w) => w.mesh === 'none' && !w.hostNetwork);
}

/** `legacy/sleep`, `the clients in legacy`, or `these 12 clients`: who a remedy enrols. */
function whoToEnrol(ctx: BreakContext, ws: readonly Workload[]): string {
  if (ws.length === 1) return `${ws[0]!.namespace}/${ws[0]!.name}`;
  const namespaces = new Set(ws.map((w) => w.namespace));
  if (namespaces.size === 1) return `the clients in ${ws[0]!.namespace}`;
  return `the ${ws.length} clients of ${ctx.client}`;
}

/** Inject a sidecar into the finding's clients (none when it has no workloads to name). */
export function injectClients(ctx: BreakContext): Remedy[] {
  const ws = outsiders(ctx.members);
  if (ws.length === 0) return [];
  return [{ says: `inject a sidecar into ${whoToEnrol(ctx, ws)}`, change: { kind: 'enrol', workloads: ws, mesh: 'sidecar' } }];
}

/** Enrol the finding's clients in ambient mode. */
export function enrolClientsInAmbient(ctx: BreakContext): Remedy[] {
  const ws = outsiders(ctx.members);
  if (ws.length === 0) return [];
  return [
    {
      says: `label ${whoToEnrol(ctx, ws)} istio.io/dataplane-mode=ambient`,
      change: { kind: 'enrol', workloads: ws, mesh: 'ambient' },
    },
  ];
}

/** Inject a sidecar into the workloads behind the service. */
export function injectServers(ctx: BreakContext): Remedy[] {
  const ws = outsiders(ctx.after.endpoints(ctx.service));
  if (ws.length === 0) return [];
  return [
    {
      says: `inject a sidecar into the workloads behind ${svcName(ctx.service)}`,
      change: { kind: 'enrol', workloads: ws, mesh: 'sidecar' },
    },
  ];
}

/**
 * A creation time just after every object of the snapshot: the remedy is applied before the change
 * is retried, so it is newer than what exists and older than a change that has no time yet.
 */
function createdNext(idx: MeshIndex): string {
  return idx.cached('own', 'remedyCreated', latestPlusOne);
}

function latestPlusOne(idx: MeshIndex): string {
  let latest = 0;
  for (const o of idx.configObjects()) {
    const t = Date.parse(o.created);
    if (Number.isFinite(t) && t > latest) latest = t;
  }
  return rfc3339(latest + 1000);
}

/** An RFC 3339 UTC time from milliseconds since the epoch, with no clock read (civil-from-days). */
export function rfc3339(ms: number): string {
  const secs = Math.floor(ms / 1000);
  const days = Math.floor(secs / 86400);
  const rest = secs - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const two = (n: number): string => String(n).padStart(2, '0');
  const hms = `${two(Math.floor(rest / 3600))}:${two(Math.floor((rest % 3600) / 60))}:${two(rest % 60)}`;
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${hms}Z`;
}

/**
 * A name for a new object that no object of its kind and namespace has yet: a DNS label made from
 * `base` (a ServiceEntry host brings dots and capitals), with room left for a `-N` suffix.
 */
function freshName(idx: MeshIndex, kind: string, namespace: string, base: string): string {
  const stem = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 60)
    .replace(/^-+|-+$/g, '');
  for (let i = 1; ; i++) {
    const name = i === 1 ? stem : `${stem}-${i}`;
    if (!idx.find({ kind, namespace, name })) return name;
  }
}

const META = { annotations: {} } as const;

/**
 * Keep the service's port PERMISSIVE with a workload PeerAuthentication (port level), or a legacy
 * Policy on the service before 1.6. Works while other callers migrate.
 */
export function keepPermissive(ctx: BreakContext, clientTag?: string): Remedy[] {
  const svc = ctx.service;
  const { after } = ctx;
  const base = `${svc.name}${clientTag ? `-${clientTag}` : ''}-permissive`;
  if (!after.features.peerAuthentication) {
    const object: LegacyPolicy = {
      ...META,
      kind: 'Policy',
      apiVersion: 'authentication.istio.io/v1alpha1',
      name: freshName(after, 'Policy', svc.namespace, base),
      namespace: svc.namespace,
      created: createdNext(after),
      targets: [{ name: svc.name, ports: [] }],
      mode: 'PERMISSIVE',
    };
    return [
      {
        says: `keep ${svcName(svc)} PERMISSIVE with this Policy (apply it before the change): ${JSON.stringify(toManifest(object))}`,
        change: { kind: 'object', operation: 'CREATE', object },
      },
    ];
  }
  const cp = containerPortOf(ctx);
  if (cp === undefined || !svc.selector) return [];
  return keepPortPermissive(after, svc.namespace, base, svc.selector, cp, `port ${cp} of ${svcName(svc)}`);
}

/** Keep one container port of the workloads a selector picks PERMISSIVE, with a workload PeerAuthentication. */
export function keepPortPermissive(
  after: MeshIndex,
  namespace: string,
  base: string,
  selector: Readonly<Record<string, string>>,
  cp: number,
  subject: string,
): Remedy[] {
  if (Object.keys(selector).length === 0) return [];
  const object: PeerAuthentication = {
    ...META,
    kind: 'PeerAuthentication',
    apiVersion: 'security.istio.io/v1',
    name: freshName(after, 'PeerAuthentication', namespace, base),
    namespace,
    created: createdNext(after),
    selector,
    mode: 'UNSET',
    portLevel: { [cp]: 'PERMISSIVE' },
  };
  return [
    {
      says: `keep ${subject} PERMISSIVE with this PeerAuthentication (apply it before the change): ${JSON.stringify(toManifest(object))}`,
      change: { kind: 'object', operation: 'CREATE', object },
    },
  ];
}

/**
 * A DestinationRule for the service's host with one TLS mode, in each namespace where one can
 * govern the finding's clients: the service's, the client's (exported to it alone), the root.
 */
export function destinationRules(ctx: BreakContext, mode: TlsMode): Remedy[] {
  const { after, service: svc } = ctx;
  const host = after.fqdn(svc);
  const clientNamespaces = new Set(ctx.members.map((w) => w.namespace));
  const places: { ns: string; exportTo: readonly string[] | null }[] = [{ ns: svc.namespace, exportTo: null }];
  if (clientNamespaces.size === 1) {
    const [ns] = clientNamespaces;
    if (ns !== svc.namespace) places.push({ ns: ns!, exportTo: ['.'] });
  }
  if (!places.some((p) => p.ns === after.root)) places.push({ ns: after.root, exportTo: null });
  // Istio merges the rules for one host in one namespace, the oldest first: a new rule where one
  // exists would lose to it. The existing rule is revised instead.
  const free = places.filter(
    (p) => !after.destinationRules(p.ns).some((d) => resolveShortName(d.host, p.ns, after.mesh.clusterDomain) === host),
  );
  return free.map(({ ns, exportTo }) => {
    const object: DestinationRule = {
      ...META,
      kind: 'DestinationRule',
      apiVersion: 'networking.istio.io/v1',
      name: freshName(after, 'DestinationRule', ns, `${svc.name}-${svc.namespace}-${mode.toLowerCase().replace('_', '-')}`),
      namespace: ns,
      created: createdNext(after),
      host,
      exportTo,
      workloadSelector: null,
      trafficPolicy: { tls: { mode }, portLevel: [] },
    };
    return {
      says: `add this DestinationRule in ${ns}: ${JSON.stringify(toManifest(object))}`,
      change: { kind: 'object', operation: 'CREATE', object },
    };
  });
}

/** The same DestinationRule with its top-level TLS mode replaced (the rule that sets what fails). */
export function reviseRule(rule: DestinationRule, mode: TlsMode, words: string): Remedy {
  const tp = rule.trafficPolicy ?? { tls: null, portLevel: [] };
  const object: DestinationRule = {
    ...rule,
    trafficPolicy: {
      ...tp,
      tls: { mode },
      // Port-level entries override the top level: the revision sets theirs too.
      portLevel: tp.portLevel.map((p) => (p.tls ? { ...p, tls: { mode } } : p)),
    },
  };
  return { says: words, change: { kind: 'object', operation: 'UPDATE', object } };
}
