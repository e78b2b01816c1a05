import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import { loadManifests, parseManifests, type LoadedDoc } from '../../src/snapshot/manifests.js';
import { projectSnapshot } from '../../src/snapshot/project.js';
import { parseIstioObject } from '../../src/core/model/objects.js';
import { edgesFromSamples, parseExposition } from '../../src/evidence/exposition.js';
import type { Change, DestinationRule, Service, ServicePort, Traffic, Workload } from '../../src/core/model/model.js';

/** The repository root (tests run from it). */
export const ROOT = process.cwd();

/** One table-driven engine case (see test/fixtures/core/README.md). */
export interface EngineCase {
  rule: string;
  base?: string;
  version?: string;
  /** The documented difference (tools/istio-oracle/differences.ts) that makes the oracle answer otherwise. */
  oracle?: string;
  autoMtls?: 'on' | 'off';
  add?: string;
  telemetry?: string;
  /** Marks the telemetry as unavailable, as a down or stale Prometheus would. */
  degraded?: string;
  simulate?: string[];
  /** Prefixes of lines that `simulate` must not print. */
  simulateAbsent?: string[];
  /** Findings that must not appear (matched field by field, strings as substrings). */
  absent?: Record<string, unknown>[];
  change?: string;
  delete?: boolean;
  denyOn?: 'certain' | 'observed' | 'declared' | 'possible';
  expect?: {
    allowed?: boolean;
    codes?: string[];
    findings?: Record<string, unknown>[];
    noBreaks?: boolean;
  };
}

/** Reads every case of the YAML files in a fixture folder. */
export function loadCases(dir: string): { file: string; cases: EngineCase[] }[] {
  return readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({
      file: f,
      cases: parse(readFileSync(join(ROOT, dir, f), 'utf8')) as EngineCase[],
    }));
}

const baseCache = new Map<string, LoadedDoc[]>();

/** Builds the index of a case: its base folder plus its extra manifests. */
export async function buildIndex(c: EngineCase): Promise<MeshIndex> {
  let base: LoadedDoc[] = [];
  if (c.base) {
    base = baseCache.get(c.base) ?? (await loadManifests([join(ROOT, c.base)]));
    baseCache.set(c.base, base);
  }
  const docs = [...base, ...(c.add ? parseManifests(c.add, 'add') : [])];
  const traffic: Traffic | null = c.telemetry
    ? {
        edges: edgesFromSamples(parseExposition(c.telemetry, 'telemetry')),
        source: 'telemetry',
        ...(c.degraded ? { degraded: c.degraded } : {}),
      }
    : null;
  const { data } = projectSnapshot(docs, {
    ...(c.version ? { istioVersion: c.version } : {}),
    ...(c.autoMtls ? { autoMtls: c.autoMtls === 'on' } : {}),
    traffic,
  });
  return MeshIndex.build(data);
}

/** Parses the change objects of a case. */
export function changeObjects(c: EngineCase) {
  return parseManifests(c.change ?? '', 'change').map((d) => parseIstioObject(d.obj));
}

/** The Service port named `ns/name:port` in an index; throws when there is none. */
export function portAt(idx: MeshIndex, ref: string): { svc: Service; port: ServicePort } {
  const m = /^(.+)\/(.+):(\d+)$/.exec(ref);
  const svc = m ? idx.services(m[1]!).find((s) => s.name === m[2]) : undefined;
  const port = svc?.ports.find((p) => p.port === Number(m![3]));
  if (!svc || !port) throw new Error(`no port ${ref}`);
  return { svc, port };
}

/** The workload named `ns/name` in an index; throws when there is none. */
export function workloadAt(idx: MeshIndex, ref: string): Workload {
  const w = idx.allWorkloads().find((x) => `${x.namespace}/${x.name}` === ref);
  if (!w) throw new Error(`no workload ${ref}`);
  return w;
}

/**
 * The DestinationRule shop/web for host `web` with the rest of its spec, read by the parser as a
 * user's rule would be.
 */
export function webRule(spec: Record<string, unknown> = {}): DestinationRule {
  return parseIstioObject({
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { host: 'web', ...spec },
  }) as DestinationRule;
}

/** Every change of the engine fixtures in `dir`, each on the mesh its case builds after its earlier objects. */
export async function* fixtureChanges(dir = 'test/fixtures/core'): AsyncGenerator<{ name: string; idx: MeshIndex; change: Change }> {
  for (const { file, cases } of loadCases(dir)) {
    for (const c of cases) {
      if (!c.change) continue;
      let idx = await buildIndex(c);
      for (const object of changeObjects(c)) {
        const change: Change = { operation: c.delete ? 'DELETE' : idx.find(object) ? 'UPDATE' : 'CREATE', object };
        yield { name: `${file}: ${c.rule}`, idx, change };
        idx = idx.apply(change);
      }
    }
  }
}
