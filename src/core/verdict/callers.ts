import type { DeclaredCaller, Service, ServicePort, Workload } from '../model/model.js';
import { memoTable, pushInto, type MeshIndex } from '../mesh/mesh-index.js';
import { serverMode } from '../policy/peer-auth.js';
import { endpointsOf, resolveTargetPort } from '../mesh/endpoints.js';
import { capturesInbound } from '../mesh/capture.js';

/** A declared caller whose target is a workload's container port (scrapes by pod). */
export interface PodTarget {
  readonly caller: DeclaredCaller;
  readonly workload: Workload;
  readonly containerPort: number;
}

const T_INTO = memoTable<ServicePort, readonly DeclaredCaller[]>('static:declaredInto');

function key(ns: string, name: string): string {
  return `${ns}/${name}`;
}

const NO_CALLERS: readonly DeclaredCaller[] = Object.freeze([]);

/** Declared callers into one Service port (by number or name), memoised per port: a mesh-wide change asks for every port. */
export function declaredCallersInto(idx: MeshIndex, svc: Service, port: ServicePort): readonly DeclaredCaller[] {
  if (!idx.data.callers?.length) return NO_CALLERS;
  const memo = idx.memo(T_INTO);
  let l = memo.get(port);
  if (!l) memo.set(port, (l = callersIntoPort(idx, svc, port)));
  return l;
}

function callersIntoPort(idx: MeshIndex, svc: Service, port: ServicePort): readonly DeclaredCaller[] {
  const all = idx.cached('static', 'declaredCallers', callersByService).get(key(svc.namespace, svc.name));
  const l = all ? all.filter((c) => c.port === port.port || (port.name !== undefined && c.port === port.name)) : [];
  return l.length ? l : NO_CALLERS;
}

function callersByService(idx: MeshIndex): Map<string, DeclaredCaller[]> {
  const m = new Map<string, DeclaredCaller[]>();
  for (const c of idx.data.callers ?? []) {
    if (!c.service) continue;
    pushInto(m, key(c.namespace, c.service), c);
  }
  return m;
}

/** Declared callers that target a workload's container port, resolved against the snapshot. */
export function podTargets(idx: MeshIndex): readonly PodTarget[] {
  return idx.cached('static', 'podTargets', findPodTargets);
}

function findPodTargets(idx: MeshIndex): readonly PodTarget[] {
  const out: PodTarget[] = [];
  for (const c of idx.data.callers ?? []) {
    if (!c.workload) continue;
    const w = idx.workloads(c.namespace).find((x) => x.name === c.workload);
    const cp = w ? resolveTargetPort(w, c.port) : null;
    if (w && cp !== null) out.push({ caller: c, workload: w, containerPort: cp });
  }
  return out;
}

/** Whether a plaintext caller from outside the mesh gets through to a workload's container port. */
export function plaintextAccepted(idx: MeshIndex, w: Workload, containerPort: number): boolean {
  if (w.mesh === 'none' || w.hostNetwork || !capturesInbound(w.inbound, containerPort)) return true;
  return serverMode(idx, w, containerPort).mode !== 'STRICT';
}

/** The container port behind a Service port, from its first endpoint with a workload. */
export function containerPortOf(idx: MeshIndex, svc: Service, port: ServicePort): number | null {
  const ep = endpointsOf(idx, svc, port).find((e) => e.workload);
  return ep ? ep.containerPort : typeof port.targetPort === 'number' ? port.targetPort : null;
}

/** What declares a call, for a finding's evidence: `ValidatingWebhookConfiguration x → svc.ns:443 (note)`. */
export function callerDetail(c: DeclaredCaller, target: string, port: number): string {
  return `${c.declaredBy} → ${target}:${port}${c.note ? ` (${c.note})` : ''}`;
}

/** The fix for a declared caller that a change cuts off: why it cannot follow, then the fixes that hold. */
export function declaredCallerFix(c: DeclaredCaller, target: string, fixes: string): string {
  switch (c.via) {
    case 'webhook':
    case 'conversion':
    case 'apiservice':
      return `the API server has no sidecar, so its calls to ${target} are not Istio mTLS and STRICT refuses them: ${fixes}`;
    case 'ingress':
    case 'gateway':
      return `the ${c.client.slice(c.client.indexOf(':') + 1)} controller has no sidecar and sends plaintext: ${fixes}`;
    case 'scrape':
      return `Prometheus has no sidecar and scrapes plaintext (Istio's metrics merging is off for this workload): ${fixes}`;
  }
}

/** The workloads a declared caller was found to be (an ingress controller's pods), as the snapshot has them. */
export function callerPods(idx: MeshIndex, c: DeclaredCaller): Workload[] {
  const out: Workload[] = [];
  for (const p of c.pods ?? []) {
    const dot = p.lastIndexOf('.');
    const w = idx.workloads(p.slice(dot + 1)).find((x) => x.name === p.slice(0, dot));
    if (w) out.push(w);
  }
  return out;
}
