import type { Traffic } from '../core/model/model.js';
import { EvidenceError } from '../core/model/errors.js';
import { MeshIndex } from '../core/mesh/mesh-index.js';
import { loadManifests, type LoadedDoc } from '../snapshot/manifests.js';
import { projectSnapshot } from '../snapshot/project.js';
import { trafficFromFile } from '../evidence/file.js';
import type { LiveArgs, SnapshotArgs } from '../config/cli-args.js';
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
 * The documents of the snapshot: the manifests, or the live cluster read once with the manifests
 * applied on top. The Kubernetes client is loaded only here, only for a live cluster. `unique`
 * when every document names its object once (the cluster alone), as `serve` projects it.
 */
async function snapshotDocs(
  paths: readonly string[],
  live: LiveArgs | undefined,
): Promise<{ docs: LoadedDoc[]; unique: boolean; notes: readonly string[] }> {
  if (!live) return { docs: await loadManifests(paths), unique: false, notes: [] };
  const { readCluster } = await import('../snapshot/live.js');
  const [cluster, files] = await Promise.all([readCluster(live, process.env), loadManifests(paths)]);
  return { docs: files.length ? [...cluster.docs, ...files] : cluster.docs, unique: files.length === 0, notes: cluster.notes };
}

/**
 * Loads manifests (or the live cluster, see `SnapshotArgs.live`) into an index, returning the
 * notes on what was read and ignored. `traffic`, when given, is used as it is (serve's background
 * evidence) instead of loading telemetry.
 */
export async function loadIndex(
  paths: readonly string[],
  args: SnapshotArgs,
  telemetry?: string,
  traffic?: Traffic | null,
): Promise<{ idx: MeshIndex; notes: readonly string[] }> {
  const [{ docs, unique, notes: read }, loaded] = await Promise.all([
    snapshotDocs(paths, args.live),
    traffic === undefined ? loadTraffic(telemetry, args.prometheus) : traffic,
  ]);
  const { data, notes } = projectSnapshot(docs, { ...args, traffic: loaded, ...(unique ? { unique } : {}) });
  return { idx: MeshIndex.build(data), notes: [...read, ...notes] };
}
