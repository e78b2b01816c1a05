import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { Traffic } from '../core/model/model.js';
import { EvidenceError } from '../core/model/errors.js';
import { edgesFromSamples, TRAFFIC_METRICS, type Sample } from './exposition.js';

/** How to reach Prometheus and what to ask it. */
export interface PrometheusOptions {
  /** Base URL, e.g. http://prometheus.monitoring:9090 (no trailing slash). */
  readonly url: string;
  /** How far back the rates look. */
  readonly windowMs: number;
  /** Per query; past it the request is aborted. */
  readonly timeoutMs: number;
  /** Read on every refresh, so a rotated token is picked up. */
  readonly bearerTokenFile?: string;
  /** PEM CA bundle for an https URL. */
  readonly caFile?: string;
}

/** The labels every series is summed by: who, to whom, and whether the server saw mTLS. */
export const SERIES_LABELS = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'destination_workload',
  'destination_workload_namespace',
  'destination_service',
  'connection_security_policy',
] as const;

/** Selectors of DESIGN.md §3: plaintext as the server saw it, and who calls whom as the client saw it. */
export const SELECTORS = ['reporter="destination",connection_security_policy!="mutual_tls"', 'reporter="source"'] as const;

/** One PromQL query: the per-second rate over the window, summed by SERIES_LABELS. */
export function promQuery(metric: string, selector: string, windowMs: number): string {
  return `sum by (${SERIES_LABELS.join(',')}) (rate(${metric}{${selector}}[${Math.max(1, Math.round(windowMs / 1000))}s]))`;
}

/** The queries one refresh runs. */
export function queries(windowMs: number): { metric: string; query: string }[] {
  return TRAFFIC_METRICS.flatMap((metric) => SELECTORS.map((sel) => ({ metric, query: promQuery(metric, sel, windowMs) })));
}

/** Human form of a window: 1h, 30m, 90s. */
export function formatWindow(ms: number): string {
  const s = Math.round(ms / 1000);
  return s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

/** An HTTP GET that answers the body text; injected in tests of the parsing. */
export type Getter = (
  url: URL,
  headers: Record<string, string>,
  opts: { timeoutMs: number; ca?: string },
) => Promise<{ status: number; body: string }>;

/** Prometheus answers are small; a runaway answer is cut off rather than held in memory. */
const MAX_BODY = 64 * 1024 * 1024;

/** GET over node:http(s), with a deadline for the whole exchange and an optional CA. */
export const nodeGet: Getter = (url, headers, opts) =>
  new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.get(url, { headers, ...(opts.ca ? { ca: opts.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
  });

interface VectorAnswer {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: { metric?: Record<string, string>; value?: [number, string] }[] };
}

/** Parses one instant-query answer into samples of `metric`. Throws EvidenceError on anything else. */
export function parseVector(body: string, status: number, metric: string): Sample[] {
  let a: VectorAnswer;
  try {
    a = JSON.parse(body) as VectorAnswer;
  } catch {
    throw new EvidenceError(`HTTP ${status}, not a Prometheus API answer: ${body.slice(0, 120).replace(/\s+/g, ' ')}`);
  }
  if (a.status !== 'success') throw new EvidenceError(`HTTP ${status}, ${a.errorType ?? 'error'}: ${a.error ?? 'no error text'}`);
  if (a.data?.resultType !== 'vector' || !Array.isArray(a.data.result))
    throw new EvidenceError(`expected a vector, got ${a.data?.resultType ?? 'nothing'}`);
  return a.data.result.map((r) => {
    const v = Number(r.value?.[1]);
    if (!Number.isFinite(v)) throw new EvidenceError(`a sample of ${metric} has no numeric value`);
    return { name: metric, labels: r.metric ?? {}, value: v };
  });
}

/** Runs every query once and returns the observed edges. Throws EvidenceError naming the cause; callers name the source. */
export async function queryTraffic(o: PrometheusOptions, get: Getter = nodeGet): Promise<Traffic> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let ca: string | undefined;
  try {
    if (o.bearerTokenFile) headers['authorization'] = `Bearer ${(await readFile(o.bearerTokenFile, 'utf8')).trim()}`;
    if (o.caFile) ca = await readFile(o.caFile, 'utf8');
  } catch (e) {
    throw new EvidenceError(`cannot read ${(e as NodeJS.ErrnoException).path ?? 'a file'}: ${(e as Error).message}`);
  }
  const answers = await Promise.all(
    queries(o.windowMs).map(async ({ metric, query }) => {
      const url = new URL(`${o.url}/api/v1/query`);
      url.searchParams.set('query', query);
      let r: { status: number; body: string };
      try {
        r = await get(url, headers, { timeoutMs: o.timeoutMs, ...(ca ? { ca } : {}) });
      } catch (e) {
        const cause = (e as { cause?: Error }).cause?.message;
        throw new EvidenceError(`${(e as Error).message}${cause ? ` (${cause})` : ''}`);
      }
      return parseVector(r.body, r.status, metric);
    }),
  );
  return {
    edges: edgesFromSamples(answers.flat()),
    source: `Prometheus ${o.url} (rate over ${formatWindow(o.windowMs)})`,
    perSecond: true,
  };
}
