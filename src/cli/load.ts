import type { Traffic } from '../core/model/model.js';
import { EvidenceError } from '../core/model/errors.js';
import { MeshIndex } from '../core/mesh/mesh-index.js';
import { loadManifests } from '../snapshot/manifests.js';
import { projectSnapshot } from '../snapshot/project.js';
import { trafficFromFile } from '../evidence/file.js';
import type { SnapshotArgs } from '../config/cli-args.js';
import type { PrometheusConfig } from '../config/serve.js';
import { queryTraffic } from '../evidence/prometheus.js';

/**
 * Loads telemetry once: from Prometheus when configured, else from a file. A Prometheus that
 * fails degrades the evidence (findings fall back to `possible`, with MG302) instead of failing.
 */
export async function loadTraffic(file: string | undefined, prometheus?: PrometheusConfig): Promise<Traffic | null> {
  if (prometheus) {
    try {
      return await queryTraffic(prometheus);
    } catch (e) {
      if (!(e instanceof EvidenceError)) throw e;
      const source = `Prometheus ${prometheus.url}`;
      return { edges: [], source, degraded: `${source}: ${e.message}` };
    }
  }
  return file ? trafficFromFile(file) : null;
}

/**
 * Loads manifests into an index, returning the notes on what was ignored. `traffic`, when given,
 * is used as it is (serve's background evidence) instead of loading telemetry.
 */
export async function loadIndex(
  paths: readonly string[],
  args: SnapshotArgs,
  telemetry?: string,
  traffic?: Traffic | null,
): Promise<{ idx: MeshIndex; notes: readonly string[] }> {
  const [docs, loaded] = await Promise.all([
    loadManifests(paths),
    traffic === undefined ? loadTraffic(telemetry, args.prometheus) : traffic,
  ]);
  const { data, notes } = projectSnapshot(docs, { ...args, traffic: loaded });
  return { idx: MeshIndex.build(data), notes };
}
