import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { parseServeArgs, type ServeConfig } from '../config/serve.js';
import { buildApp, tlsOptions } from '../http/app.js';
import { ConnectionDrain } from '../http/drain.js';
import { NO_AUTHORIZER } from '../admission/authorize.js';
import { subjectAccessReviews } from '../authz/subject-access.js';
import { readFile } from 'node:fs/promises';
import { createMetrics, type Metrics } from '../telemetry/metrics.js';
import { EvidenceRefresher } from '../evidence/refresher.js';
import { queryTraffic } from '../evidence/prometheus.js';
import type { Labels, Traffic } from '../core/model/model.js';
import { CertReloader, readPair, type ServedPair, type ServingSource } from '../tls/files.js';
import { SelfManagedCerts } from '../tls/self-managed.js';
import { DEFAULT_ROTATION } from '../tls/rotation.js';
import { NO_EVENTS } from '../admission/events.js';
import type * as k8s from '@kubernetes/client-node';
import { MeshIndex } from '../core/mesh/mesh-index.js';
import { prepare } from '../core/evaluate.js';
import { ConfigError } from '../core/model/errors.js';
import { ClusterSnapshot } from '../snapshot/cluster.js';
import { clusterEvents } from '../telemetry/events.js';
import { humanLog } from '../telemetry/human-log.js';
import { loadIndex, loadTraffic } from './load.js';
import { loadKubeConfig, type PooledKubeConfig } from '../snapshot/kubeconfig.js';
import { EXIT, type Io } from './io.js';
import { ReadinessPublisher } from '../readiness/publisher.js';
import { PolicyReportWriter } from '../readiness/writer.js';

/** A running server and how to stop it. */
export interface Running {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly reloader: ServingSource;
  /** The index requests are judged against right now. */
  snapshot(): MeshIndex | null;
  /** Readiness for STRICT, judged in the background after each new snapshot (docs/readiness.md). */
  readonly readiness: ReadinessPublisher;
  /** Reports not ready, drains for the configured period, then closes. */
  shutdown(reason: string): Promise<void>;
}

/** Where the webhook's snapshot comes from: manifest files, or the live cluster. */
interface Source {
  index(): MeshIndex | null;
  /** Replaces the traffic evidence; the index is rebuilt off the request path. */
  setTraffic(t: Traffic | null): void;
  ready(): boolean;
  ageSeconds(): number | null;
  kindAges?(): ReadonlyMap<string, number>;
  notes(): string[];
  stop(): void;
  readonly kubeConfig?: PooledKubeConfig;
  /** A namespace's labels as last seen, ahead of the index (see `HandleOptions.namespaceLabels`). */
  readonly namespaceLabels?: (ns: string) => Labels | undefined;
}

/** The serving pair's source: files polled for changes, or a Secret mtls-guard manages itself. */
async function openCerts(
  cfg: ServeConfig,
  kc: () => k8s.KubeConfig,
  apply: (p: ServedPair) => void,
  onError: (e: Error) => void,
  log: (msg: string) => void,
): Promise<ServingSource> {
  const sm = cfg.selfManaged;
  if (!sm) {
    const pair = await readPair(cfg.tlsCert, cfg.tlsKey);
    return new CertReloader(cfg.tlsCert, cfg.tlsKey, pair, apply, onError);
  }
  const policy = { ...DEFAULT_ROTATION, ...sm.lifetimes };
  if (policy.servingValidityMs > policy.caValidityMs) throw new ConfigError('--cert-validity must not be longer than --ca-validity');
  const certs = new SelfManagedCerts(
    kc(),
    {
      namespace: sm.namespace,
      secretName: sm.secretName,
      webhookConfigurations: sm.webhookConfigurations,
      policy,
      spec: { service: sm.service, namespace: sm.namespace, ips: sm.ips, dnsNames: sm.dnsNames },
    },
    () => Date.now(),
    apply,
    onError,
    (r) => {
      for (const st of r.steps) log(`certificates: ${st.kind} (${st.why})`);
      if (r.patched.length) log(`certificates: caBundle published to ${r.patched.join(', ')}`);
      if (r.missing.length)
        log(`certificates: ValidatingWebhookConfiguration ${r.missing.join(', ')} not found; the caBundle is not published yet`);
    },
  );
  await certs.first();
  return certs;
}

async function openSource(cfg: ServeConfig, io: Io, log: (msg: string) => void, traffic: Traffic | null): Promise<Source> {
  if (cfg.cluster.length) {
    const loaded = await loadIndex(cfg.cluster, cfg, cfg.telemetry, traffic ?? undefined);
    for (const n of loaded.notes) io.err(`note: ${n}\n`);
    const at = Date.now();
    let idx = prepare(loaded.idx);
    return {
      index: () => idx,
      ready: () => true,
      ageSeconds: () => (Date.now() - at) / 1000,
      notes: () => [],
      stop() {},
      setTraffic: (t) => {
        idx = prepare(MeshIndex.build({ ...idx.data, traffic: t }));
      },
    };
  }
  const kc = loadKubeConfig(cfg.kubeconfig);
  const snap = new ClusterSnapshot(kc, {
    ...(cfg.istioVersion ? { istioVersion: cfg.istioVersion } : {}),
    ...(cfg.rootNamespace ? { rootNamespace: cfg.rootNamespace } : {}),
    ...(cfg.autoMtls !== undefined ? { autoMtls: cfg.autoMtls } : {}),
    traffic: traffic ?? (await loadTraffic(cfg.telemetry)),
    onError: (kind, e) =>
      log(
        kind === 'discovery'
          ? `cannot reach the Kubernetes API server at ${kc.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)'}, retrying: ${e.message}`
          : `watch of ${kind} failed, retrying: ${e.message}`,
      ),
    onRelist: (kind, why) => log(`${kind}: listing again, the watch could not resume (${why})`),
  });
  // An API server that cannot be reached yet is retried with backoff; until the first sync the
  // webhook serves, reports not ready, and allows with a warning that nothing was judged.
  void snap.start();
  const istio = (): string[] => snap.missing.filter((m) => /peerauthentications|destinationrules/.test(m));
  return {
    kubeConfig: kc,
    index: () => snap.index(),
    namespaceLabels: (ns) => snap.namespaceLabels(ns),
    ready: () => snap.ready() && snap.index() !== null,
    ageSeconds: () => snap.ageSeconds(),
    kindAges: () => snap.kindAges(),
    notes: () => {
      const out: string[] = [];
      const missing = istio();
      if (missing.length)
        out.push(`MG303 Istio's CRDs are not served by this cluster (${missing.join(', ')}); the mesh was judged without them`);
      const age = snap.ageSeconds();
      if (age !== null && age > cfg.maxStalenessSeconds)
        out.push(`MG303 the mesh snapshot is ${Math.round(age)}s old (is the API server reachable?); the verdict may be out of date`);
      return out;
    },
    stop: () => snap.stop(),
    setTraffic: (t) => snap.setTraffic(t),
  };
}

/** Starts the webhook from a parsed configuration. */
export async function startServer(cfg: ServeConfig, io: Io): Promise<Running> {
  let logWarn: (msg: string) => void = (m) => io.err(`${m}\n`);
  let metrics: Metrics | undefined;
  let source: Source | undefined;
  const prom = cfg.prometheus;
  const evidence = prom
    ? new EvidenceRefresher(
        () => queryTraffic(prom),
        `Prometheus ${prom.url}`,
        { intervalMs: prom.refreshMs, maxAgeMs: prom.maxAgeMs },
        () => Date.now(),
        {
          onRound: (seconds, err) => {
            metrics?.evidenceQueries.observe({ outcome: err ? 'error' : 'ok' }, seconds);
            // Logged once per cause by onChange; every failed round is counted here.
            if (err) metrics?.evidenceErrors.inc();
          },
          onChange: (view) => {
            if (view.degraded) logWarn(`traffic evidence degraded to possible: ${view.degraded}`);
            source?.setTraffic(view);
          },
        },
      )
    : undefined;
  source = await openSource(cfg, io, (m) => logWarn(m), evidence?.view() ?? null);
  let app: FastifyInstance | undefined;
  let draining = false;
  let logInfo: (msg: string) => void = (m) => io.err(`${m}\n`);
  const clientCa = cfg.clientCa ? await readClientCa(cfg.clientCa) : undefined;
  const reloader = await openCerts(
    cfg,
    () => source.kubeConfig ?? loadKubeConfig(cfg.kubeconfig),
    (p) => {
      // New handshakes get the new pair; open connections keep theirs.
      (app!.server as import('node:https').Server).setSecureContext(
        tlsOptions({ key: p.key, cert: p.cert, minVersion: 'TLSv1.2', ...(clientCa ? { clientCa } : {}) }),
      );
      app!.log.info({ notAfter: new Date(p.notAfterMs).toISOString() }, 'serving certificate reloaded');
    },
    (e) => logWarn(`certificate refresh failed; keeping the current one: ${e.message}`),
    (m) => logInfo(m),
  ).catch((e: unknown) => {
    source.stop();
    throw e;
  });
  const pair = reloader.served;
  const kubeConfig = source.kubeConfig;
  const readinessLog = (level: 'info' | 'warn', m: string): void => (level === 'warn' ? logWarn(m) : logInfo(m));
  const readiness = new ReadinessPublisher({
    index: () => source.index(),
    denyOn: cfg.denyOn,
    log: readinessLog,
    // Reports describe the live cluster: never written from manifest files.
    ...(kubeConfig && cfg.policyReports === 'auto'
      ? {
          sink: new PolicyReportWriter(kubeConfig, {
            log: readinessLog,
            onWrite: (operation, ok) => metrics?.policyReportWrites.inc({ operation, outcome: ok ? 'ok' : 'error' }),
          }),
        }
      : {}),
  });
  metrics = createMetrics(
    {
      snapshotAgeSeconds: () => source.ageSeconds(),
      kindAgeSeconds: () => source.kindAges?.() ?? new Map(),
      evidenceAgeSeconds: () => evidence?.ageSeconds() ?? null,
      certNotAfterMs: () => reloader.served.notAfterMs,
      nowMs: () => Date.now(),
      readiness: () => readiness.view(),
    },
    { process: true },
  );
  app = buildApp({
    snapshot: () => source.index(),
    snapshotNotes: () => source.notes(),
    ready: () => {
      const reasons = [...(draining ? ['shutting down'] : []), ...(source.ready() ? [] : ['the mesh snapshot is not loaded yet'])];
      return { ok: reasons.length === 0, reasons };
    },
    draining: () => draining,
    options: {
      defaultMode: cfg.defaultMode,
      denyOn: cfg.denyOn,
      namespaceLabels: source.namespaceLabels,
      rolePrefix: cfg.rolePrefix,
      // Without an API server nobody can be shown to hold a permission: loosening is refused.
      authorizer: source.kubeConfig ? subjectAccessReviews(source.kubeConfig) : NO_AUTHORIZER,
    },
    metrics,
    events: source.kubeConfig ? clusterEvents(source.kubeConfig, (e) => logWarn(`recording an Event failed: ${e.message}`)) : NO_EVENTS,
    clock: () => performance.now(),
    logger: { level: cfg.logLevel, ...(cfg.logFormat === 'human' ? { stream: humanLog(io.err) } : {}) },
    https: { key: pair.key, cert: pair.cert, minVersion: 'TLSv1.2', ...(clientCa ? { clientCa } : {}) },
  });
  const connections = new ConnectionDrain(app.server, () => performance.now());
  const server = app;
  logWarn = (m) => server.log.warn(m);
  logInfo = (m) => server.log.info(m);
  reloader.start(cfg.certReloadSeconds * 1000);
  evidence?.start();
  readiness.start();
  await app.listen({ host: cfg.host, port: cfg.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
  const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  let closing: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      app.log.info({ reason, drainSeconds: cfg.drainSeconds }, 'shutting down: not ready, draining');
      // Answers now close their connections; connections that carry nothing are ended once idle a while.
      const idle = setInterval(() => connections.endIdle(IDLE_BEFORE_END_MS), 250);
      await new Promise((r) => setTimeout(r, cfg.drainSeconds * 1000));
      clearInterval(idle);
      reloader.stop();
      evidence?.stop();
      await readiness.stop();
      source.stop();
      await app.close();
      // After the app: a request that was still being answered may record an Event.
      await source.kubeConfig?.close();
    })();
    return closing;
  };
  return { app, url: `https://${host}:${port}`, reloader, shutdown, snapshot: () => source.index(), readiness };
}

/** During a drain, a connection idle this long is ended: a client under load is never idle so long. */
const IDLE_BEFORE_END_MS = 1_000;

/** Reads the CA that signs the API server's client certificate; a bad file stops the start. */
async function readClientCa(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`--client-ca ${file}: ${(e as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`--client-ca ${file} holds no PEM certificate`);
  return pem;
}

/** Serves until SIGTERM or SIGINT, then shuts down gracefully. */
export function serveUntilSignal(running: Running): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      void running.shutdown(sig).then(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** `mtls-guard serve`: the webhook. Exits 0 after a graceful shutdown on SIGTERM or SIGINT. */
export async function runServe(
  argv: readonly string[],
  io: Io,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const cfg = parseServeArgs(argv, env);
  const running = await startServer(cfg, io);
  io.err(`mtls-guard serving on ${running.url}\n`);
  await serveUntilSignal(running);
  return EXIT.ok;
}
