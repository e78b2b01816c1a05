import type { Traffic } from '../core/model.js';
import { ConfigError } from '../core/errors.js';
import { MeshIndex } from '../core/index.js';
import { loadManifests } from '../snapshot/manifests.js';
import { projectSnapshot } from '../snapshot/project.js';
import { trafficFromFile } from '../evidence/file.js';
import type { SnapshotArgs } from '../config/cli-args.js';

/** Loads telemetry from a file. URLs are refused with a clear message until a Prometheus client exists. */
export async function loadTraffic(spec: string | undefined): Promise<Traffic | null> {
  if (!spec) return null;
  if (/^https?:\/\//.test(spec)) throw new ConfigError(`--telemetry ${spec}: Prometheus URLs are not supported by this build; pass a file in the Prometheus text format`);
  return trafficFromFile(spec);
}

/** Loads manifests into an index, returning the notes on what was ignored. */
export async function loadIndex(paths: readonly string[], args: SnapshotArgs, telemetry?: string): Promise<{ idx: MeshIndex; notes: readonly string[] }> {
  const [docs, traffic] = await Promise.all([loadManifests(paths), loadTraffic(telemetry)]);
  const { data, notes } = projectSnapshot(docs, { ...args, traffic });
  return { idx: MeshIndex.build(data), notes };
}
