/**
 * Readiness: would STRICT break anything, namespace by namespace and for the whole mesh? Each
 * answer is the engine's judgement of the PeerAuthentication (or legacy policy) that would make it
 * so, at the deny threshold, exactly as `check` would judge it.
 */
import type { Change, Evidence, IstioObject, LegacyPolicy, PeerAuthentication } from '../model/model.js';
import type { Finding } from '../model/findings.js';
import type { MeshIndex } from '../mesh/mesh-index.js';
import { byCreation, isEmptySelector } from '../mesh/mesh-index.js';
import { judgeChange, type Judgement } from '../judge.js';

/** Where STRICT would go: one namespace, or the mesh (the root namespace). */
export type Scope = { readonly kind: 'namespace'; readonly namespace: string } | { readonly kind: 'mesh' };

/** The readiness of one scope. */
export interface Readiness {
  readonly scope: Scope;
  /** True when STRICT is already in force there (the policy that would be written says so). */
  readonly already: boolean;
  /** True when the change to STRICT would be allowed at the deny threshold. */
  readonly ready: boolean;
  /** The change that makes the scope STRICT. */
  readonly change: Change;
  /** The findings that would deny it, and the others. */
  readonly blocking: readonly Finding[];
  readonly warnings: readonly Finding[];
  /** The judgement, for the plan to go on from. */
  readonly judgement: Judgement;
}

/** How readiness is judged. */
export interface ReadinessOptions {
  readonly denyOn: Evidence;
  readonly fixBudget?: () => boolean;
}

/** The name a scope has in words and in `--format lines`: the namespace, or `mesh`. */
export function scopeName(s: Scope): string {
  return s.kind === 'mesh' ? 'mesh' : s.namespace;
}

const META = { annotations: {}, created: '' } as const;

/**
 * The change that makes a scope STRICT: the policy in force there (the oldest without a selector)
 * set to STRICT, or a new `default` one. Before Istio 1.6, the legacy namespace Policy or the
 * MeshPolicy named `default`.
 */
export function strictChange(idx: MeshIndex, scope: Scope): Change {
  const ns = scope.kind === 'mesh' ? idx.root : scope.namespace;
  if (!idx.features.peerAuthentication) {
    const kind = scope.kind === 'mesh' ? 'MeshPolicy' : 'Policy';
    const existing = idx.find({ kind, namespace: scope.kind === 'mesh' ? '' : ns, name: 'default' }) as LegacyPolicy | undefined;
    const object: LegacyPolicy = existing
      ? { ...existing, mode: 'STRICT', targets: [] }
      : {
          ...META,
          kind,
          apiVersion: 'authentication.istio.io/v1alpha1',
          name: 'default',
          namespace: scope.kind === 'mesh' ? '' : ns,
          targets: [],
          mode: 'STRICT',
        };
    return { operation: existing ? 'UPDATE' : 'CREATE', object };
  }
  const inForce = idx
    .peerAuthentications(ns)
    .filter((p) => isEmptySelector(p.selector))
    .sort(byCreation)[0];
  if (inForce) return { operation: 'UPDATE', object: { ...inForce, mode: 'STRICT' } };
  const taken = idx.find({ kind: 'PeerAuthentication', namespace: ns, name: 'default' });
  const object: PeerAuthentication = {
    ...META,
    kind: 'PeerAuthentication',
    apiVersion: 'security.istio.io/v1',
    name: taken ? 'mtls-guard-strict' : 'default',
    namespace: ns,
    selector: null,
    mode: 'STRICT',
    portLevel: {},
  };
  return { operation: 'CREATE', object };
}

/** True when a change writes what is already in force. */
function unchanged(idx: MeshIndex, change: Change): boolean {
  const prev = idx.find(change.object) as IstioObject | undefined;
  const next = change.object;
  return change.operation === 'UPDATE' && prev !== undefined && 'mode' in prev && 'mode' in next && prev.mode === next.mode;
}

/** The readiness of one scope on an index. */
export function readinessOf(idx: MeshIndex, scope: Scope, opts: ReadinessOptions): Readiness {
  const change = strictChange(idx, scope);
  const judgement = judgeChange(idx, change, {
    denyOn: opts.denyOn,
    defaultMode: 'enforce',
    // Readiness asks what enforce would say, whatever mode the namespace is in.
    mode: { mode: 'enforce', source: 'readiness' },
    ...(opts.fixBudget ? { fixBudget: opts.fixBudget } : {}),
  });
  const blocking = judgement.verdict.wouldDeny;
  const warnings = judgement.verdict.findings.filter((f) => f.severity !== 'deny');
  return { scope, already: unchanged(idx, change), ready: blocking.length === 0, change, blocking, warnings, judgement };
}

/**
 * The namespaces readiness is judged for: every namespace with workloads, but the root namespace,
 * whose policy without a selector is the mesh's.
 */
export function namespacesToJudge(idx: MeshIndex): string[] {
  const out = new Set<string>();
  for (const w of idx.allWorkloads()) if (w.namespace !== idx.root) out.add(w.namespace);
  return [...out].sort();
}

/** Readiness of every namespace with workloads, then of the mesh. */
export function readiness(idx: MeshIndex, opts: ReadinessOptions): { namespaces: Readiness[]; mesh: Readiness } {
  return {
    namespaces: namespacesToJudge(idx).map((namespace) => readinessOf(idx, { kind: 'namespace', namespace }, opts)),
    mesh: readinessOf(idx, { kind: 'mesh' }, opts),
  };
}
