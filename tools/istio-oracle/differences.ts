/**
 * The classes of disagreement between the engine and the Istio oracle that differential testing
 * (differential.ts) has found, each with a predicate that recognises a pair of its class, the
 * analysis by Istio's code, a verdict, and a minimal example under testdata/disagreements/<id>.yaml.
 *
 * Verdicts:
 *  - `engine-bug`: Istio behaves as the oracle says and the engine predicts otherwise. The engine's
 *    owners fix these; the differential test reports them as TODO until then.
 *  - `version-drift`: the oracle's Istio (1.31-dev) differs from the release the engine models.
 *  - `oracle-limitation`: what the outcome depends on is not in the manifests (what an application
 *    speaks), and the oracle's assumption differs from the engine's, or the oracle cannot model it.
 *    Documented differences: the test asserts that a differing pair is one of these.
 *
 * Predicates read the pair (both sides' codes and words) and the snapshot as the engine projected it
 * (Services, workloads, policies): plain facts of the input, not the engine's decisions.
 */
import type { MeshData, Service, ServiceEntry, ServicePort, Workload } from '../../src/core/model/model.js';
import type { PairDiff } from './differential.js';
import { portProtocolClass } from './generate.js';

/** What a class of disagreement is: see the top of this file. */
export type Verdict = 'engine-bug' | 'version-drift' | 'oracle-limitation';

/** What a predicate may read about one differing pair. */
export interface PairFacts {
  readonly diff: PairDiff;
  readonly data: MeshData;
  readonly client: Workload | undefined;
  readonly service: Service | undefined;
  /** The ServiceEntry whose host the pair is about, when it is not a Service. */
  readonly entry: ServiceEntry | undefined;
  readonly port: ServicePort | undefined;
  /** The workloads the Service selects, with the container port the Service port targets on each (null: none). */
  readonly endpoints: readonly { readonly workload: Workload; readonly containerPort: number | null }[];
}

/** One class of disagreement. */
export interface DifferenceClass {
  /** The file name of its example: testdata/disagreements/<id>.yaml. */
  readonly id: string;
  readonly verdict: Verdict;
  /** One line: what differs. */
  readonly summary: string;
  /** Who is right, by Istio's code. */
  readonly analysis: string;
  readonly matches: (f: PairFacts) => boolean;
}

/** A differing pair and the class it belongs to, if any. */
export interface Classified extends PairDiff {
  readonly cls: DifferenceClass | undefined;
}

// ----------------------------------------------------------------------------------------------
// Facts about ports and endpoints, as Kubernetes and Istio read the manifests.

/**
 * The protocol Istio reads from a Service port (generate.ts `portProtocolClass`), coarsely: HTTP/2 as
 * HTTP, and a name it does not know as sniffed, except on the well-known ports (SMTP, DNS, MySQL,
 * MongoDB), which Istio takes as TCP.
 */
export function istioProtocol(p: ServicePort): 'http' | 'tcp' | 'tls' | 'sniffed' {
  const c = portProtocolClass({ name: p.name ?? null, appProtocol: p.appProtocol ?? null });
  if (c === 'sniffed') return [25, 53, 3306, 27017].includes(p.port) ? 'tcp' : 'sniffed';
  return c === 'http2' ? 'http' : c;
}

function selects(svc: Service, w: Workload): boolean {
  if (!svc.selector || w.namespace !== svc.namespace) return false;
  return Object.entries(svc.selector).every(([k, v]) => w.labels[k] === v);
}

function targetOn(w: Workload, p: ServicePort): number | null {
  if (typeof p.targetPort === 'number') return p.targetPort;
  if (/^\d+$/.test(p.targetPort)) return Number(p.targetPort);
  return w.ports.find((c) => c.name === p.targetPort)?.port ?? null;
}

/** The facts of one differing pair. */
export function pairFacts(diff: PairDiff, data: MeshData): PairFacts {
  const row = diff.engine ?? diff.oracle!;
  const service = data.services.find((s) => `${s.name}.${s.namespace}` === row.service);
  const entry = service ? undefined : data.serviceEntries.find((e) => e.hosts.includes(row.service));
  const port = (service ?? entry)?.ports.find((p) => p.port === row.port);
  const client = data.workloads.find((w) => `${w.name}.${w.namespace}` === row.client);
  const endpoints =
    service && port
      ? data.workloads.filter((w) => selects(service, w)).map((workload) => ({ workload, containerPort: targetOn(workload, port) }))
      : [];
  return { diff, data, client, service, entry, port, endpoints };
}

/**
 * The creation time Istio sees: an object without one is created when the mesh is applied, after
 * every object that names one, all in the same second (the oracle's load.go does the same).
 */
function createdAt(x: { created: string }): number {
  return x.created ? Date.parse(x.created) : Number.POSITIVE_INFINITY;
}

function cmp<T>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Istio's order of configs: oldest first, then by name, then namespace (pilot/pkg/model/config.go configCompareByCreationTime). */
function byCreation(a: { created: string; name: string; namespace: string }, b: typeof a): number {
  return cmp(createdAt(a), createdAt(b)) || cmp(a.name, b.name) || cmp(a.namespace, b.namespace);
}

function oldestFirst<T extends { created: string; name: string; namespace: string }>(l: readonly T[]): T[] {
  return [...l].sort(byCreation);
}

/**
 * The effective PeerAuthentication mode of a workload's container port, as
 * pilot/pkg/security/authn/policy_applier.go composes it: mesh (root namespace, no selector), then
 * namespace, then the workload's own selector policy with its portLevelMtls; UNSET inherits,
 * PERMISSIVE when nothing sets a mode. Written here from Istio's code, not taken from the engine.
 */
export function effectiveMode(data: MeshData, w: Workload, containerPort: number | null): 'STRICT' | 'PERMISSIVE' | 'DISABLE' {
  const root = data.mesh.rootNamespace;
  const all = oldestFirst(data.peerAuthentications);
  const noSelector = (p: (typeof all)[number]): boolean => !p.selector || Object.keys(p.selector).length === 0;
  const mesh = all.find((p) => p.namespace === root && noSelector(p));
  const ns = w.namespace === root ? undefined : all.find((p) => p.namespace === w.namespace && noSelector(p));
  const wl =
    w.namespace === root
      ? undefined
      : all.find((p) => p.namespace === w.namespace && !noSelector(p) && Object.entries(p.selector!).every(([k, v]) => w.labels[k] === v));
  let mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE' = 'PERMISSIVE';
  for (const p of [mesh, ns, wl]) if (p && p.mode !== 'UNSET') mode = p.mode;
  const portMode = wl && containerPort !== null ? wl.portLevel[containerPort] : undefined;
  if (portMode && portMode !== 'UNSET') mode = portMode;
  return mode;
}

// ----------------------------------------------------------------------------------------------

/** Every class found so far, in the order they are tried: the first whose predicate holds wins. */
export const DIFFERENCES: readonly DifferenceClass[] = [
  {
    id: 'capture-range-headless',
    verdict: 'oracle-limitation',
    summary:
      "a sidecar client whose capture annotations list IP ranges, calling a headless Service whose endpoints' addresses the manifests do not give (pods of a template, or a Service without a selector): the oracle judges the addresses it assigned, the engine takes the ranges to capture the unknown ones",
    analysis:
      'A headless Service has no ClusterIP: the application dials the pod addresses of its endpoints, and the injected ISTIO_OUTPUT ' +
      'chain (tools/istio-iptables/pkg/capture/run.go) returns an address in excludeOutboundIPRanges uncaptured and, with ' +
      'includeOutboundIPRanges set to a list, redirects only the addresses it holds. Which addresses pods get is not in the manifests ' +
      'when they are templates (a Deployment): the oracle assigns them (10.244.0.0/16 for pods, 192.0.2.0/24 behind a Service without a selector), the ' +
      "engine does not know them and takes a list of ranges to capture them (src/core/mesh/capture.ts outboundBypass). With the pods' " +
      'status.podIP given, as in a live snapshot, the engine reads them and the two sides agree (test/fixtures/core/capture.yaml). ' +
      'An empty includeOutboundIPRanges is judged alike by both: it captures no address at all.',
    matches: (f) => {
      const c = f.client?.outbound;
      if (!f.service?.headless || f.client?.mesh !== 'sidecar' || !c) return false;
      const ranges = c.excludedRanges.length > 0 || (c.includedRanges !== '*' && c.includedRanges.length > 0);
      // A Service without a selector has endpoints the snapshot does not read: their addresses are unknown too.
      const unknown = f.endpoints.length === 0 || f.endpoints.some((e) => !e.workload.addresses?.length);
      // The oracle's detail names one endpoint only (its worst, or the client's own pod): not read.
      return ranges && unknown;
    },
  },
  {
    id: 'tls-origination-into-unknown-endpoint',
    verdict: 'oracle-limitation',
    summary:
      'a DestinationRule SIMPLE towards a Service without a selector or an external ServiceEntry host, on a port that is not TLS: the engine takes the address outside the cluster to speak the TLS the rule originates, the oracle that it speaks what the port says',
    analysis:
      "What an endpoint outside the cluster speaks is not in the manifests. Istio originates the rule's TLS for every endpoint " +
      "(pilot/pkg/networking/core/cluster_tls.go), so the outcome depends on the server alone. The oracle assumes the port's " +
      'protocol (plain HTTP on an http port: 503); the engine (src/core/traffic/outcome.ts endpointCase) assumes the rule is ' +
      "right, as in Istio's egress TLS origination task (an HTTP port towards a TLS server), and judges a plaintext application " +
      'only for pods, whose Service port says what they speak (MG108). Neither is a bug.',
    matches: (f) =>
      f.diff.oracle?.wire === 'tls' &&
      f.diff.engine?.code === '200' &&
      f.port !== undefined &&
      istioProtocol(f.port) !== 'tls' &&
      // A Service without a selector, or a ServiceEntry whose endpoints are addresses or DNS names.
      (f.service?.selector === null || f.entry?.workloadSelector === null),
  },
  {
    id: 'tls-origination-over-app-tls',
    verdict: 'oracle-limitation',
    summary:
      'a DestinationRule SIMPLE on a TLS port (https, tls): the engine assumes the client application sends plaintext for its sidecar to encrypt, the oracle that it speaks TLS itself, which the sidecar wraps again',
    analysis:
      'What the client application writes is not in the manifests. The oracle (README.md "Outcome mapping" step 1) assumes the ' +
      'application speaks what the port says, TLS on an https/tls port, so a SIMPLE rule puts a second TLS layer around it that the ' +
      'server application cannot read (000). The engine assumes the common use of such a rule, TLS origination (the application sends ' +
      'plaintext, the sidecar encrypts, the server application speaks TLS), and predicts 200 unless the server is STRICT. Istio does ' +
      'exactly what both say for their assumption (cluster_tls.go originates TLS over whatever the application sends); neither is a bug.',
    matches: (f) =>
      f.diff.oracle?.wire === 'tls' &&
      f.port !== undefined &&
      (istioProtocol(f.port) === 'tls' || (istioProtocol(f.port) === 'sniffed' && f.port.port === 443)),
  },
  {
    id: 'unnamed-443-app-tls',
    verdict: 'oracle-limitation',
    summary:
      'a Service port 443 without a name Istio knows (none, or e.g. `web`): the oracle assumes the application speaks TLS, the engine that it speaks plain HTTP, as on any unnamed port',
    analysis:
      'Istio sniffs an unnamed port (pkg/config/kube/conversion.go ConvertProtocol returns protocol.Unsupported) and routes what it ' +
      'sees. Whether the application sends HTTP or TLS is not in the manifests: the oracle assumes TLS on port 443 (README.md "Outcome ' +
      'mapping" step 1), the engine assumes HTTP on every sniffed port (src/core/mesh/endpoints.ts portProtocol). Failures then differ ' +
      'in the code (503 through the HTTP connection manager, 000 through the TCP proxy) and Istio mTLS towards a bare TLS server is ' +
      'a 000 either way. Neither is a bug.',
    matches: (f) => f.port !== undefined && f.port.port === 443 && istioProtocol(f.port) === 'sniffed',
  },
];

/** The class of a differing pair, or undefined when none recognises it. */
export function classify(d: PairDiff, data: MeshData): Classified {
  const f = pairFacts(d, data);
  return { ...d, cls: DIFFERENCES.find((c) => c.matches(f)) };
}
