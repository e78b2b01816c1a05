import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Evidence, Mode } from '../core/model/model.js';
import { EVIDENCE_ORDER, MODES } from '../core/model/model.js';
import { ConfigError } from '../core/model/errors.js';
import { isTelemetryUrl, parseDuration, prometheusConfig, type PrometheusConfig } from './serve.js';

/** A live cluster to read once (`--kubeconfig`, `--context`, `--live`, or no manifests). */
export interface LiveArgs {
  readonly kubeconfig?: string;
  readonly context?: string;
  /** How long the read of the cluster may take (`--timeout`). */
  readonly timeoutMs: number;
}

/** How long a read of a live cluster may take unless `--timeout` says. */
export const DEFAULT_LIVE_TIMEOUT = '60s';

/** Common snapshot options of `simulate` and `check`. */
export interface SnapshotArgs {
  readonly istioVersion?: string;
  readonly autoMtls?: boolean;
  /** Set when `--telemetry` is a URL: the same client as `serve`, queried once. */
  readonly prometheus?: PrometheusConfig;
  /** Set when the snapshot is read from a live cluster; manifests given as well are applied on top. */
  readonly live?: LiveArgs;
}

/** `mtls-guard simulate` (DESIGN.md §7). */
export interface SimulateArgs extends SnapshotArgs {
  readonly paths: readonly string[];
  readonly format: 'lines' | 'json' | 'table';
  readonly client?: string;
  readonly service?: string;
  readonly telemetry?: string;
}

/** `mtls-guard check` (DESIGN.md §7). */
export interface CheckArgs extends SnapshotArgs {
  readonly changes: readonly string[];
  readonly cluster: readonly string[];
  readonly delete: boolean;
  readonly telemetry?: string;
  readonly mode?: Mode;
  readonly denyOn: Evidence;
  readonly format: 'text' | 'json';
}

/** `mtls-guard plan` (docs/cli.md). */
export interface PlanArgs extends SnapshotArgs {
  readonly paths: readonly string[];
  readonly telemetry?: string;
  readonly denyOn: Evidence;
  readonly format: 'text' | 'json' | 'lines';
}

function oneOf<T extends string>(v: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v))
    throw new ConfigError(`${flag} must be one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`);
  return v as T;
}

function autoMtls(v: string | undefined): boolean | undefined {
  const m = oneOf(v, ['on', 'off'] as const, '--auto-mtls');
  return m === undefined ? undefined : m === 'on';
}

function parse(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>): { values: Record<string, unknown> } {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: false, strict: true });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

const SNAPSHOT_OPTIONS = {
  'istio-version': { type: 'string' },
  'auto-mtls': { type: 'string' },
  telemetry: { type: 'string' },
  'telemetry-window': { type: 'string' },
  'telemetry-timeout': { type: 'string' },
  'telemetry-bearer-token-file': { type: 'string' },
  'telemetry-ca-file': { type: 'string' },
} as const;

/** The flags of a live cluster, for the commands that read a snapshot (`liveArgs`). */
const LIVE_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  live: { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

/**
 * The live cluster to read: with `--kubeconfig`, `--context` or `--live`, or when no manifests
 * give the snapshot (then the current context, as kubectl finds it).
 */
function liveArgs(v: Record<string, unknown>, manifests: number): { live?: LiveArgs } {
  const s = (k: string): string | undefined => v[k] as string | undefined;
  if (s('kubeconfig') === '') throw new ConfigError('--kubeconfig needs a file');
  if (s('context') === '') throw new ConfigError('--context needs a name');
  const live = v['live'] === true || s('kubeconfig') !== undefined || s('context') !== undefined || manifests === 0;
  if (!live) {
    if (s('timeout') !== undefined) throw new ConfigError('--timeout is for a live cluster (--kubeconfig, --context or --live)');
    return {};
  }
  return {
    live: {
      ...(s('kubeconfig') ? { kubeconfig: s('kubeconfig')! } : {}),
      ...(s('context') ? { context: s('context')! } : {}),
      timeoutMs: parseDuration(s('timeout') ?? DEFAULT_LIVE_TIMEOUT, '--timeout'),
    },
  };
}

/** `--telemetry FILE` stays a file; `--telemetry URL` becomes a Prometheus configuration. */
function telemetryArgs(s: (k: string) => string | undefined): { telemetry?: string; prometheus?: PrometheusConfig } {
  const t = s('telemetry');
  if (!t) {
    const stray = ['telemetry-window', 'telemetry-timeout', 'telemetry-bearer-token-file', 'telemetry-ca-file'].find(
      (k) => s(k) !== undefined,
    );
    if (stray) throw new ConfigError(`--${stray} needs --telemetry URL`);
    return {};
  }
  return isTelemetryUrl(t) ? { prometheus: prometheusConfig(t, s) } : { telemetry: t };
}

/** Parses `simulate` arguments. */
export function parseSimulateArgs(argv: readonly string[]): SimulateArgs {
  const { values: v } = parse(argv, {
    ...SNAPSHOT_OPTIONS,
    ...LIVE_OPTIONS,
    file: { type: 'string', short: 'f', multiple: true },
    format: { type: 'string' },
    client: { type: 'string' },
    service: { type: 'string' },
  });
  const paths = (v['file'] as string[] | undefined) ?? [];
  const s = (k: string): string | undefined => v[k] as string | undefined;
  return {
    paths,
    ...liveArgs(v, paths.length),
    format: oneOf(s('format'), ['lines', 'json', 'table'] as const, '--format') ?? 'lines',
    ...(s('client') ? { client: s('client')! } : {}),
    ...(s('service') ? { service: s('service')! } : {}),
    ...(s('istio-version') ? { istioVersion: s('istio-version')! } : {}),
    ...telemetryArgs(s),
    ...(autoMtls(s('auto-mtls')) !== undefined ? { autoMtls: autoMtls(s('auto-mtls'))! } : {}),
  };
}

/** Parses `check` arguments. */
export function parseCheckArgs(argv: readonly string[]): CheckArgs {
  const { values: v } = parse(argv, {
    ...SNAPSHOT_OPTIONS,
    ...LIVE_OPTIONS,
    file: { type: 'string', short: 'f', multiple: true },
    cluster: { type: 'string', multiple: true },
    delete: { type: 'boolean' },
    mode: { type: 'string' },
    'deny-on': { type: 'string' },
    format: { type: 'string' },
  });
  const s = (k: string): string | undefined => v[k] as string | undefined;
  const changes = (v['file'] as string[] | undefined) ?? [];
  const cluster = (v['cluster'] as string[] | undefined) ?? [];
  if (changes.length === 0) throw new ConfigError('check needs -f CHANGE.yaml (the objects to judge)');
  const mode = oneOf(
    s('mode'),
    MODES.filter((m) => m !== 'off'),
    '--mode',
  );
  return {
    changes,
    cluster,
    ...liveArgs(v, cluster.length),
    delete: v['delete'] === true,
    denyOn: oneOf(s('deny-on'), EVIDENCE_ORDER, '--deny-on') ?? 'declared',
    format: oneOf(s('format'), ['text', 'json'] as const, '--format') ?? 'text',
    ...(mode ? { mode } : {}),
    ...telemetryArgs(s),
    ...(s('istio-version') ? { istioVersion: s('istio-version')! } : {}),
    ...(autoMtls(s('auto-mtls')) !== undefined ? { autoMtls: autoMtls(s('auto-mtls'))! } : {}),
  };
}

/** Parses `plan` arguments. */
export function parsePlanArgs(argv: readonly string[]): PlanArgs {
  const { values: v } = parse(argv, {
    ...SNAPSHOT_OPTIONS,
    ...LIVE_OPTIONS,
    file: { type: 'string', short: 'f', multiple: true },
    'deny-on': { type: 'string' },
    format: { type: 'string' },
  });
  const s = (k: string): string | undefined => v[k] as string | undefined;
  const paths = (v['file'] as string[] | undefined) ?? [];
  return {
    paths,
    ...liveArgs(v, paths.length),
    denyOn: oneOf(s('deny-on'), EVIDENCE_ORDER, '--deny-on') ?? 'declared',
    format: oneOf(s('format'), ['text', 'json', 'lines'] as const, '--format') ?? 'text',
    ...telemetryArgs(s),
    ...(s('istio-version') ? { istioVersion: s('istio-version')! } : {}),
    ...(autoMtls(s('auto-mtls')) !== undefined ? { autoMtls: autoMtls(s('auto-mtls'))! } : {}),
  };
}

/** `mtls-guard report` (docs/report.md). */
export interface ReportArgs extends SnapshotArgs {
  readonly paths: readonly string[];
  /** Change files, judged in series as `check` judges them; empty for a report of the mesh as it is. */
  readonly changes: readonly string[];
  readonly telemetry?: string;
  readonly denyOn: Evidence;
  /** The HTML file to write. */
  readonly out: string;
}

/** Where `report` writes unless `--out` says. */
export const DEFAULT_REPORT_FILE = 'mtls-guard-report.html';

/** Parses `report` arguments. */
export function parseReportArgs(argv: readonly string[]): ReportArgs {
  const { values: v } = parse(argv, {
    ...SNAPSHOT_OPTIONS,
    file: { type: 'string', short: 'f', multiple: true },
    change: { type: 'string', multiple: true },
    'deny-on': { type: 'string' },
    out: { type: 'string' },
  });
  const s = (k: string): string | undefined => v[k] as string | undefined;
  const paths = (v['file'] as string[] | undefined) ?? [];
  if (paths.length === 0) throw new ConfigError('report needs -f PATH (a file or directory of manifests)');
  if (s('out') === '') throw new ConfigError('--out needs a file name');
  return {
    paths,
    changes: (v['change'] as string[] | undefined) ?? [],
    denyOn: oneOf(s('deny-on'), EVIDENCE_ORDER, '--deny-on') ?? 'declared',
    out: s('out') ?? DEFAULT_REPORT_FILE,
    ...telemetryArgs(s),
    ...(s('istio-version') ? { istioVersion: s('istio-version')! } : {}),
    ...(autoMtls(s('auto-mtls')) !== undefined ? { autoMtls: autoMtls(s('auto-mtls'))! } : {}),
  };
}
