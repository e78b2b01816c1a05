import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PublishedReadiness } from '../readiness/publisher.js';

/** Where the gauges read their values; injected so that tests control them. */
export interface MetricSources {
  /** Seconds since the snapshot last changed or was confirmed current; null before the first load. */
  snapshotAgeSeconds(): number | null;
  /** The serving certificate's notAfter, in ms since the epoch; null when none is served. */
  certNotAfterMs(): number | null;
  /** The clock, in ms since the epoch. */
  nowMs(): number;
  /** Seconds since the last list or watch event, per kind (live cluster only). */
  kindAgeSeconds?(): ReadonlyMap<string, number>;
  /** Seconds since the last good answer from Prometheus; null before the first (or without Prometheus). */
  evidenceAgeSeconds?(): number | null;
  /** The last readiness round (null before the first, or when readiness is not judged). */
  readiness?(): PublishedReadiness | null;
}

/** The values each request label may take; anything else is counted as `other`, so hostile requests cannot grow /metrics. */
export const LABEL_VALUES = {
  operation: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'],
  kind: ['PeerAuthentication', 'DestinationRule', 'Policy', 'MeshPolicy', 'Namespace'],
  decision: ['allow', 'warn', 'deny', 'acknowledged', 'skip', 'error', 'timeout', 'invalid'],
  mode: ['enforce', 'warn', 'dry-run', 'off'],
  route: ['/validate', '/healthz', '/readyz', '/metrics'],
} as const;

/** `v` when it is one of `allowed`, else `other`. */
export function bounded(v: string, allowed: readonly string[]): string {
  return allowed.includes(v) ? v : 'other';
}

/** The webhook's metrics, in a registry of their own (never the global one). Request labels go through `bounded`. */
export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'operation' | 'kind' | 'decision' | 'mode'>;
  /** From the request's arrival to the answer written, whatever the answer. */
  readonly latency: Histogram<'operation'>;
  /** Every HTTP answer, by route and status code, 4xx and 5xx included. */
  readonly responses: Counter<'route' | 'code'>;
  readonly findings: Counter<'code'>;
  /** Breakages acknowledged by a user allowed to. */
  readonly acknowledged: Counter;
  /** Namespace modes weakened by a user allowed to. */
  readonly weakened: Counter;
  /** Acknowledgements and weakenings refused: `why` is forbidden, reason (too short) or unverified. */
  readonly refused: Counter<'action' | 'why'>;
  /** Duration of each background round of Prometheus queries. */
  readonly evidenceQueries: Histogram<'outcome'>;
  readonly evidenceErrors: Counter;
  /** PolicyReport writes and deletes, by outcome (`ok`, `error`). */
  readonly policyReportWrites: Counter<'operation' | 'outcome'>;
}

/** Latency buckets in seconds, from 0.5 ms. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Creates the metrics; `process` adds Node's default process metrics. */
export function createMetrics(src: MetricSources, opts: { process?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.process) collectDefaultMetrics({ register: registry, prefix: 'mtls_guard_' });
  const requests = new Counter({
    name: 'mtls_guard_admission_requests_total',
    help: 'Admission requests by operation, kind, decision and mode.',
    labelNames: ['operation', 'kind', 'decision', 'mode'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'mtls_guard_admission_duration_seconds',
    help: 'Time to answer an admission request, from its arrival to the answer written.',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const responses = new Counter({
    name: 'mtls_guard_http_responses_total',
    help: 'HTTP answers by route and status code, errors included.',
    labelNames: ['route', 'code'] as const,
    registers: [registry],
  });
  const acknowledged = new Counter({
    name: 'mtls_guard_acknowledged_total',
    help: 'Breakages acknowledged (mtls-guard.io/acknowledge-breakage) by a user allowed to.',
    registers: [registry],
  });
  const weakened = new Counter({
    name: 'mtls_guard_mode_weakened_total',
    help: 'Namespace modes weakened by a user allowed to.',
    registers: [registry],
  });
  const refused = new Counter({
    name: 'mtls_guard_refused_total',
    help: 'Acknowledgements and mode weakenings refused, by action and why (forbidden, reason, unverified).',
    labelNames: ['action', 'why'] as const,
    registers: [registry],
  });
  const findings = new Counter({
    name: 'mtls_guard_findings_total',
    help: 'Findings reported, by code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'mtls_guard_snapshot_age_seconds',
    help: 'Age of the mesh snapshot the webhook judges against (-1 before the first load).',
    registers: [registry],
    collect() {
      this.set(src.snapshotAgeSeconds() ?? -1);
    },
  });
  new Gauge({
    name: 'mtls_guard_certificate_expiry_seconds',
    help: 'Seconds until the serving certificate expires (-1 when none is served).',
    registers: [registry],
    collect() {
      const t = src.certNotAfterMs();
      this.set(t === null ? -1 : Math.round((t - src.nowMs()) / 1000));
    },
  });
  new Gauge({
    name: 'mtls_guard_snapshot_kind_age_seconds',
    help: 'Seconds since the last list or watch event, per kind (-1 before the first).',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, age] of src.kindAgeSeconds?.() ?? []) this.set({ kind }, Math.round(age * 1000) / 1000);
    },
  });
  new Gauge({
    name: 'mtls_guard_evidence_age_seconds',
    help: 'Seconds since the last good answer from Prometheus (-1 before the first or without Prometheus).',
    registers: [registry],
    collect() {
      this.set(src.evidenceAgeSeconds?.() ?? -1);
    },
  });
  const evidenceQueries = new Histogram({
    name: 'mtls_guard_evidence_query_duration_seconds',
    help: 'Duration of a background round of Prometheus queries, by outcome (ok or error).',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const evidenceErrors = new Counter({
    name: 'mtls_guard_evidence_errors_total',
    help: 'Failed rounds of Prometheus queries.',
    registers: [registry],
  });
  const policyReportWrites = new Counter({
    name: 'mtls_guard_policy_report_writes_total',
    help: 'PolicyReport writes (operation apply or delete), by outcome (ok or error).',
    labelNames: ['operation', 'outcome'] as const,
    registers: [registry],
  });
  readinessGauges(src, registry);
  return {
    registry,
    requests,
    latency,
    responses,
    findings,
    acknowledged,
    weakened,
    refused,
    evidenceQueries,
    evidenceErrors,
    policyReportWrites,
  };
}

/**
 * Readiness for STRICT from the last background round (docs/readiness.md). Namespace series are
 * set afresh at each scrape, so a namespace that disappears loses its series; their number is
 * capped by the round (`_other` sums the rest).
 */
function readinessGauges(src: MetricSources, registry: Registry): void {
  const gauge = (name: string, help: string, set: (g: Gauge, r: PublishedReadiness | null) => void, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        set(this, src.readiness?.() ?? null);
      },
    });
  gauge(
    'mtls_guard_strict_ready',
    'Whether STRICT for the namespace would be allowed at the deny threshold (1) or not (0); _other: every namespace past the cap.',
    (g, r) => {
      for (const n of r?.gauges.namespaces ?? []) if (n.ready !== undefined) g.set({ namespace: n.namespace }, n.ready);
    },
    ['namespace'],
  );
  gauge(
    'mtls_guard_strict_blocking_connections',
    'Findings that would deny STRICT for the namespace (a summary of several clients counts once).',
    (g, r) => {
      for (const n of r?.gauges.namespaces ?? []) if (n.blocking !== undefined) g.set({ namespace: n.namespace }, n.blocking);
    },
    ['namespace'],
  );
  gauge(
    'mtls_guard_broken_connections',
    'Connections into the namespace that fail with the configuration as it is now.',
    (g, r) => {
      for (const n of r?.gauges.namespaces ?? []) if (n.broken !== undefined) g.set({ namespace: n.namespace }, n.broken);
    },
    ['namespace'],
  );
  gauge('mtls_guard_mesh_strict_ready', 'Whether mesh-wide STRICT would be allowed (1) or not (0); -1 before the first round.', (g, r) =>
    g.set(r ? r.gauges.mesh.ready : -1),
  );
  gauge('mtls_guard_mesh_strict_blocking_connections', 'Findings that would deny mesh-wide STRICT; -1 before the first round.', (g, r) =>
    g.set(r ? r.gauges.mesh.blocking : -1),
  );
  gauge(
    'mtls_guard_mesh_broken_connections',
    'Connections that fail now, in the whole mesh; -1 before the first round or when the mesh is too large to simulate.',
    (g, r) => g.set(r?.gauges.mesh.broken ?? -1),
  );
  gauge(
    'mtls_guard_strict_namespaces',
    'Namespaces judged for STRICT, by whether it would be allowed (ready="true") or not.',
    (g, r) => {
      if (!r) return;
      g.set({ ready: 'true' }, r.gauges.ready);
      g.set({ ready: 'false' }, r.gauges.blocked);
    },
    ['ready'],
  );
  gauge('mtls_guard_readiness_age_seconds', 'Seconds since the last readiness round ended (-1 before the first).', (g, r) =>
    g.set(r ? Math.round(src.nowMs() - r.atMs) / 1000 : -1),
  );
  gauge('mtls_guard_readiness_duration_seconds', 'CPU time of the last readiness round, pauses between its steps not counted.', (g, r) => {
    if (r) g.set(Math.round(r.busyMs) / 1000);
  });
}
