import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { MeshIndex } from '../core/index.js';
import { MtlsGuardError } from '../core/errors.js';
import { decodeReview, NotAdmissionReviewError } from '../admission/review.js';
import { handleRequest, type HandleOptions } from '../admission/handle.js';
import { toReview } from '../admission/respond.js';
import type { EventSink } from '../admission/events.js';
import type { Metrics } from '../telemetry/metrics.js';

/** At least 8 MiB: AdmissionReviews carry whole objects, old and new. */
export const BODY_LIMIT = 10 * 1024 * 1024;
/** Above the API server's 90 s idle reuse, so it never writes into a connection the server closes. */
export const KEEP_ALIVE_TIMEOUT_MS = 95_000;
export const REQUEST_TIMEOUT_MS = 30_000;
/** When the API server sends no `?timeout=`, it waits 10 s. */
export const DEFAULT_HINT_MS = 10_000;
/** The share of the hinted timeout spent evaluating; the rest is for the answer to travel back. */
export const BUDGET_SHARE = 0.8;

/** Everything the app needs, injected: nothing here reads files, env or clocks of its own. */
export interface AppDeps {
  readonly snapshot: () => MeshIndex | null;
  /** Warnings about the snapshot itself (stale, Istio CRDs missing), added to every judged response. */
  readonly snapshotNotes?: () => string[];
  readonly ready: () => { ok: boolean; reasons: string[] };
  readonly options: HandleOptions;
  readonly metrics: Metrics;
  readonly events: EventSink;
  /** Monotonic clock in ms, for budgets and latency. */
  readonly clock: () => number;
  readonly logger?: FastifyServerOptions['logger'];
  readonly https?: { key: string | Buffer; cert: string | Buffer; minVersion: 'TLSv1.2' | 'TLSv1.3' };
}

/** Parses the API server's `?timeout=` hint (a Go duration such as `10s` or `500ms`). */
export function parseTimeoutHint(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** Builds the webhook app. It never listens: callers `listen()` or `inject()`. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: BODY_LIMIT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    ...(deps.https ? { https: deps.https } : {}),
  } as FastifyServerOptions) as unknown as FastifyInstance;

  // A body that does not parse as JSON is "not JSON" just like another content type: 415.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 415 }), undefined);
    }
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    void reply.code(status).send({ error: status === 415 ? 'UnsupportedMediaType' : err.code ?? 'Error', message: err.message });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = deps.ready();
    return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'not ready', reasons: r.reasons });
  });
  app.get('/metrics', async (_req, reply) => reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()));

  app.post('/validate', async (request, reply) => {
    const start = deps.clock();
    let req;
    try {
      req = decodeReview(request.body);
    } catch (e) {
      if (e instanceof NotAdmissionReviewError) return reply.code(400).send({ error: 'BadRequest', code: e.code, message: e.message });
      throw e;
    }
    const hint = parseTimeoutHint((request.query as Record<string, unknown>)['timeout']) ?? DEFAULT_HINT_MS;
    const deadline = start + hint * BUDGET_SHARE;
    const h = handleRequest(req, deps.snapshot(), deps.options, () => deps.clock() > deadline, deps.snapshotNotes?.() ?? []);
    const d = h.decision;
    const codes = h.verdict ? [...new Set(h.verdict.findings.map((f) => f.code))] : [];
    deps.metrics.requests.inc({ operation: h.operation || 'unknown', kind: h.kind || 'unknown', decision: h.outcome, mode: d.mode });
    for (const f of h.verdict?.findings ?? []) deps.metrics.findings.inc({ code: f.code });
    deps.metrics.latency.observe({ operation: h.operation || 'unknown' }, (deps.clock() - start) / 1000);
    request.log.info({ uid: req.uid, object: h.object || `${req.kind.kind} ${req.namespace}/${req.name}`, operation: req.operation, decision: h.outcome, mode: d.mode, codes, dryRun: req.dryRun, ...(h.note ? { note: h.note } : {}), user: req.username }, 'admission decision');
    // Events are the only side effect, and dry-run requests must have none.
    if (!req.dryRun && (h.outcome === 'deny' || h.outcome === 'warn')) {
      try {
        deps.events.record({ uid: req.uid, object: h.object, namespace: req.namespace, name: req.name, kind: req.kind.kind, decision: h.outcome, message: d.message ?? d.warnings.join('; ') });
      } catch (e) {
        request.log.warn({ err: e instanceof MtlsGuardError ? e.message : String(e) }, 'recording the Event failed');
      }
    }
    return reply.code(200).send(toReview(d));
  });
  return app;
}
