import type { Traffic } from '../core/model.js';
import { EvidenceError } from '../core/errors.js';
import { MeshIndex } from '../core/index.js';
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
      return { edges: [], source: `Prometheus ${prometheus.url}`, degraded: e.message };
    }
  }
  return file ? trafficFromFile(file) : null;
}

/** Loads manifests into an index, returning the notes on what was ignored. */
export async function loadIndex(paths: readonly string[], args: SnapshotArgs, telemetry?: string): Promise<{ idx: MeshIndex; notes: readonly string[] }> {
  const [docs, traffic] = await Promise.all([loadManifests(paths), loadTraffic(telemetry, args.prometheus)]);
  const { data, notes } = projectSnapshot(docs, { ...args, traffic });
  return { idx: MeshIndex.build(data), notes };
}
