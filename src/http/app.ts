import Fastify, { LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { TLSSocket } from 'node:tls';
import type { MeshIndex } from '../core/mesh/mesh-index.js';
import { MtlsGuardError } from '../core/model/errors.js';
import { decodeReview, NotAdmissionReviewError, type AdmissionRequest } from '../admission/review.js';
import { handleRequest, type Handled, type HandleOptions } from '../admission/handle.js';
import { toReview } from '../admission/respond.js';
import type { EventSink } from '../admission/events.js';
import { bounded, LABEL_VALUES, type Metrics } from '../telemetry/metrics.js';
import { requestBudget } from '../admission/budget.js';

/** At least 8 MiB: AdmissionReviews carry whole objects, old and new. */
export const BODY_LIMIT = 10 * 1024 * 1024;
/** Above the API server's 90 s idle reuse, so it never writes into a connection the server closes. */
export const KEEP_ALIVE_TIMEOUT_MS = 95_000;
export const REQUEST_TIMEOUT_MS = 30_000;
/** When the API server sends no `?timeout=`, it waits 10 s. */
export const DEFAULT_HINT_MS = 10_000;
/** The share of the hinted timeout spent evaluating; the rest is for the answer to travel back. */
export const BUDGET_SHARE = 0.8;
/** The longest request-derived text a log line carries per field (uid, names, user, notes). */
export const LOG_FIELD_MAX = 256;

/**
 * TLS settings of the webhook: 1.2 at least, and in 1.2 only ECDHE key exchange with AEAD ciphers
 * (forward secrecy, no CBC). TLS 1.3's suites are all of that kind.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** The serving TLS options; `clientCa` makes the server ask for a client certificate (checked on /validate). */
export interface HttpsOptions {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly clientCa?: string | Buffer;
}

/** Everything the app needs, injected: nothing here reads files, env or clocks of its own. */
export interface AppDeps {
  readonly snapshot: () => MeshIndex | null;
  /** Warnings about the snapshot itself (stale, Istio CRDs missing), added to every judged response. */
  readonly snapshotNotes?: () => string[];
  readonly ready: () => { ok: boolean; reasons: string[] };
  /** True once the server is shutting down: answers then close their connections. */
  readonly draining?: () => boolean;
  readonly options: HandleOptions;
  readonly metrics: Metrics;
  readonly events: EventSink;
  /** Monotonic clock in ms, for budgets and latency. */
  readonly clock: () => number;
  readonly logger?: FastifyServerOptions['logger'];
  readonly https?: HttpsOptions;
}

/** The TLS server options for an HttpsOptions, shared by the first context and every reload. */
export function tlsOptions(o: HttpsOptions): Record<string, unknown> {
  return {
    key: o.key,
    cert: o.cert,
    minVersion: o.minVersion,
    ciphers: TLS_CIPHERS,
    honorCipherOrder: true,
    ...(o.clientCa ? { ca: o.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
  };
}

/** Parses the API server's `?timeout=` hint (a Go duration such as `10s` or `500ms`). */
export function parseTimeoutHint(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d{1,6}(?:\.\d{1,6})?)(ms|s|m)$/.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** Request-derived text for a log line: at most LOG_FIELD_MAX characters. */
export function clipLog(s: string): string {
  return s.length > LOG_FIELD_MAX ? `${s.slice(0, LOG_FIELD_MAX)}…(${s.length} chars)` : s;
}

/** What the onResponse hook needs to know about a /validate request. */
interface Timing {
  start: number;
  operation: string;
}

/** Builds the webhook app. It never listens: callers `listen()` or `inject()`. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ?? false,
    // One line per admission decision is logged below; Fastify's own request lines would echo URLs.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Requests on connections still open while the server closes are answered, not refused with 503.
    return503OnClosing: false,
    ...(deps.https ? { https: tlsOptions(deps.https) } : {}),
  } as FastifyServerOptions) as unknown as FastifyInstance;
  const { metrics } = deps;
  const timings = new WeakMap<FastifyRequest, Timing>();

  // A body that does not parse as JSON is "not JSON" just like another content type: 415.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 415 }), undefined);
    }
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const message = clipLog(typeof err.message === 'string' ? err.message : 'error');
    if (status >= 500) req.log.error({ route: routeOf(req), status, err: message }, 'request failed');
    else req.log.warn({ route: routeOf(req), status, err: message }, 'request refused');
    void reply.code(status).send({ error: status === 415 ? 'UnsupportedMediaType' : clipLog(err.code ?? 'Error'), message });
  });

  app.addHook('onRequest', async (req) => {
    timings.set(req, { start: deps.clock(), operation: 'unknown' });
  });
  // While draining, every answer closes its connection, so keep-alive clients reconnect elsewhere
  // instead of reusing a connection the server is about to close.
  app.addHook('onSend', async (_req, reply) => {
    if (deps.draining?.()) void reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = routeOf(req);
    metrics.responses.inc({ route, code: String(reply.statusCode) });
    const t = timings.get(req);
    if (route === '/validate' && t) metrics.latency.observe({ operation: t.operation }, (deps.clock() - t.start) / 1000);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = deps.ready();
    return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'not ready', reasons: r.reasons });
  });
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  app.post('/validate', async (request, reply) => {
    if (deps.https?.clientCa && !(request.raw.socket as TLSSocket).authorized) {
      metrics.requests.inc({ operation: 'other', kind: 'other', decision: 'invalid', mode: 'other' });
      request.log.warn({ remote: request.ip }, 'refused a caller without a client certificate signed by --client-ca');
      return reply
        .code(401)
        .send({ error: 'Unauthorized', message: 'a client certificate signed by the configured --client-ca is required' });
    }
    const timing = timings.get(request);
    const start = timing?.start ?? deps.clock();
    let req: AdmissionRequest;
    try {
      req = decodeReview(request.body);
    } catch (e) {
      if (!(e instanceof NotAdmissionReviewError)) throw e;
      metrics.requests.inc({ operation: 'other', kind: 'other', decision: 'invalid', mode: 'other' });
      return reply.code(400).send({ error: 'BadRequest', code: e.code, message: e.message });
    }
    const operation = bounded(req.operation, LABEL_VALUES.operation);
    if (timing) timing.operation = operation;
    const hint = parseTimeoutHint((request.query as Record<string, unknown>)['timeout']) ?? DEFAULT_HINT_MS;
    const deadline = start + hint * BUDGET_SHARE;
    const budget = requestBudget(deps.clock, deadline);
    const h = await handleRequest(req, deps.snapshot(), deps.options, budget, deps.snapshotNotes?.() ?? []);
    record(deps, request, req, h, operation);
    return reply.code(200).send(toReview(h.decision));
  });
  return app;
}

/** The route a request matched, or `other`: a bounded metric label. */
function routeOf(req: FastifyRequest): string {
  return bounded(req.routeOptions.url ?? '', LABEL_VALUES.route);
}

/** Logs, counts and (unless dry-run) records as Events what one admission decision did. */
function record(deps: AppDeps, request: FastifyRequest, req: AdmissionRequest, h: Handled, operation: string): void {
  const { metrics } = deps;
  const d = h.decision;
  const codes = h.verdict ? [...new Set(h.verdict.findings.map((f) => f.code))] : [];
  metrics.requests.inc({
    operation,
    kind: bounded(h.kind, LABEL_VALUES.kind),
    decision: bounded(h.outcome, LABEL_VALUES.decision),
    mode: bounded(d.mode, LABEL_VALUES.mode),
  });
  for (const f of h.verdict?.findings ?? []) metrics.findings.inc({ code: f.code });
  const l = h.loosening;
  if (l?.granted) (l.action === 'acknowledge' ? metrics.acknowledged : metrics.weakened).inc();
  else if (l) metrics.refused.inc({ action: l.action, why: l.why });
  const object = h.object || `${req.kind.kind} ${req.namespace}/${req.name}`;
  request.log.info(
    {
      uid: clipLog(req.uid),
      object: clipLog(object),
      operation: clipLog(req.operation),
      decision: h.outcome,
      mode: d.mode,
      codes,
      dryRun: req.dryRun,
      ...(h.note ? { note: clipLog(h.note) } : {}),
      user: clipLog(req.username),
      ...(l
        ? {
            loosening: {
              action: l.action,
              granted: l.granted,
              ...('reason' in l ? { reason: clipLog(l.reason) } : {}),
              ...('why' in l ? { why: l.why } : {}),
              ...('to' in l ? { from: l.from, to: l.to } : {}),
            },
          }
        : {}),
    },
    'admission decision',
  );
  // Events are the only side effect, and dry-run requests must have none.
  const event = eventOf(h, req);
  if (!req.dryRun && event) {
    try {
      deps.events.record(event);
    } catch (e) {
      request.log.warn({ err: clipLog(e instanceof MtlsGuardError ? e.message : String(e)) }, 'recording the Event failed');
    }
  }
}

/** The Event a decision leaves behind, if any. */
function eventOf(h: Handled, req: AdmissionRequest): Parameters<EventSink['record']>[0] | undefined {
  const d = h.decision;
  const l = h.loosening;
  const clusterScoped = h.kind === 'Namespace' || h.kind === 'MeshPolicy';
  const base = { uid: req.uid, object: h.object, namespace: clusterScoped ? '' : req.namespace, name: req.name, kind: h.kind };
  const who = req.username || '(unknown user)';
  if (l?.action === 'acknowledge' && l.granted) {
    const codes = [...new Set(h.verdict?.wouldDeny.map((f) => f.code))].join(', ');
    return { ...base, decision: 'acknowledged', message: `${who} acknowledged the breakage (${codes}): ${l.reason}` };
  }
  if (l?.action === 'weaken' && l.granted) return { ...base, decision: 'weakened', message: `${who} set mode ${l.to} (was ${l.from})` };
  if (l && !l.granted) return { ...base, decision: 'refused', message: d.message ?? `refused for ${who}` };
  if (h.outcome === 'deny' || h.outcome === 'warn') return { ...base, decision: h.outcome, message: d.message ?? d.warnings.join('; ') };
  return undefined;
}
