// The generated-mesh fixtures (test/fixtures/breaks/generated.yaml, test/fixtures/report/generated.yaml):
// a seeded mesh of bench/engine/generate.ts and a series of PeerAuthentication and DestinationRule
// changes written in a few fields each.
import type { MeshSize } from '../../bench/engine/generate.js';
import type { IstioObject } from '../../src/core/model/model.js';

/** One change of a generated case, in the fixture's few fields. */
export interface GeneratedChange {
  kind: 'PeerAuthentication' | 'DestinationRule';
  namespace: string;
  name: string;
  mode?: string;
  selector?: Record<string, string>;
  host?: string;
  tls?: string;
  /** A portLevelSettings entry's TLS mode by port number. */
  portTls?: Record<string, string>;
  exportTo?: string[];
  workloadSelector?: Record<string, string>;
}

/** A generated mesh and the changes applied to it in series. */
export interface GeneratedCase {
  mesh: MeshSize & { seed: number };
  /** The Istio version, when not the generator's current one. */
  version?: string;
  changes: GeneratedChange[];
}

/** The Istio object a generated change stands for, created at `created` (RFC 3339, or '' for none). */
export function generatedObject(c: GeneratedChange, created: string): IstioObject {
  const meta = { name: c.name, namespace: c.namespace, created, annotations: {} };
  if (c.kind === 'PeerAuthentication') {
    return {
      kind: c.kind,
      ...meta,
      apiVersion: 'security.istio.io/v1',
      selector: c.selector ?? null,
      mode: c.mode as 'STRICT',
      portLevel: {},
    };
  }
  return {
    kind: c.kind,
    ...meta,
    apiVersion: 'networking.istio.io/v1',
    host: c.host!,
    exportTo: c.exportTo ?? null,
    workloadSelector: c.workloadSelector ?? null,
    trafficPolicy: {
      tls: { mode: c.tls as 'ISTIO_MUTUAL' },
      portLevel: Object.entries(c.portTls ?? {}).map(([port, mode]) => ({ port: Number(port), tls: { mode: mode as 'ISTIO_MUTUAL' } })),
    },
  };
}
