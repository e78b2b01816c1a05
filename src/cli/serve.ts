import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { parseServeArgs, type ServeConfig } from '../config/serve.js';
import { buildApp } from '../http/app.js';
import { createMetrics } from '../telemetry/metrics.js';
import { CertReloader, readPair } from '../tls/files.js';
import { NO_EVENTS } from '../admission/events.js';
import { loadIndex } from './load.js';
import { EXIT, type Io } from './io.js';

/** A running server and how to stop it. */
export interface Running {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly reloader: CertReloader;
  /** Reports not ready, drains for the configured period, then closes. */
  shutdown(reason: string): Promise<void>;
}

/** Starts the webhook from a parsed configuration. */
export async function startServer(cfg: ServeConfig, io: Io): Promise<Running> {
  const loaded = await loadIndex(cfg.cluster, cfg, cfg.telemetry);
  for (const n of loaded.notes) io.err(`note: ${n}\n`);
  const loadedAt = Date.now();
  const pair = await readPair(cfg.tlsCert, cfg.tlsKey);
  let reloader: CertReloader | undefined;
  let draining = false;
  const metrics = createMetrics({
    snapshotAgeSeconds: () => (Date.now() - loadedAt) / 1000,
    certNotAfterMs: () => reloader?.served.notAfterMs ?? pair.notAfterMs,
    nowMs: () => Date.now(),
  }, { process: true });
  const app = buildApp({
    snapshot: () => loaded.idx,
    ready: () => {
      const reasons = [...(draining ? ['shutting down'] : []), ...(reloader ? [] : ['no certificate served yet'])];
      return { ok: reasons.length === 0, reasons };
    },
    options: { defaultMode: cfg.defaultMode, denyOn: cfg.denyOn },
    metrics,
    events: NO_EVENTS,
    clock: () => performance.now(),
    logger: { level: cfg.logLevel },
    https: { key: pair.key, cert: pair.cert, minVersion: 'TLSv1.2' },
  });
  reloader = new CertReloader(cfg.tlsCert, cfg.tlsKey, pair, (p) => {
    // New handshakes get the new pair; open connections keep theirs.
    (app.server as import('node:https').Server).setSecureContext({ key: p.key, cert: p.cert, minVersion: 'TLSv1.2' });
    app.log.info({ notAfter: new Date(p.notAfterMs).toISOString() }, 'serving certificate reloaded');
  }, (e) => app.log.error({ err: e.message }, 'certificate reload failed; keeping the current one'));
  reloader.start(cfg.certReloadSeconds * 1000);
  await app.listen({ host: cfg.host, port: cfg.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
  const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  let closing: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      app.log.info({ reason, drainSeconds: cfg.drainSeconds }, 'shutting down: not ready, draining');
      await new Promise((r) => setTimeout(r, cfg.drainSeconds * 1000));
      reloader!.stop();
      await app.close();
    })();
    return closing;
  };
  return { app, url: `https://${host}:${port}`, reloader, shutdown };
}

/** `mtls-guard serve`: the webhook. Exits 0 after a graceful shutdown on SIGTERM or SIGINT. */
export async function runServe(argv: readonly string[], io: Io, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const cfg = parseServeArgs(argv, env);
  const running = await startServer(cfg, io);
  io.err(`mtls-guard serving on ${running.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string): void => { void running.shutdown(sig).then(resolve); };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return EXIT.ok;
}
