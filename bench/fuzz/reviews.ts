// Hostile bodies for POST /validate: real AdmissionReviews with fields replaced by values an
// attacker inside the cluster could send (deep nesting, huge lists, long strings, wrong types),
// and bodies that are not reviews at all. Used by test/http/fuzz.test.ts (a fixed seed, small
// sizes) and by bench/fuzz/run.ts (100,000 reviews and more).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

/** The example reviews every hostile review starts from. */
export function baseReviews(dir = 'examples/reviews'): Record<string, unknown>[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
}

/** JSON text to splice into a body as it is: values too deep for JSON.stringify, which recurses. */
export class RawJson {
  constructor(readonly text: string) {}
}

/**
 * A value nested `depth` levels deep in lists or objects, as JSON text: JSON.parse builds such
 * values without recursion, so an attacker can send them, and the code that reads them must not
 * recurse either.
 */
export function nest(depth: number, leaf: string, inObjects: boolean): RawJson {
  return new RawJson(inObjects ? `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}` : `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`);
}

/** JSON.stringify, with each RawJson spliced in as its text. */
export function toJson(v: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(v, (_k, x: unknown) => {
    if (!(x instanceof RawJson)) return x;
    raws.push(x.text);
    return `\u0000raw${raws.length - 1}\u0000`;
  });
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]!);
}

/** How large hostile values get: small in `npm test`, large in the long run. */
export interface Sizes {
  readonly maxDepth: number;
  readonly maxList: number;
  readonly maxString: number;
}

export const TEST_SIZES: Sizes = { maxDepth: 12_000, maxList: 20_000, maxString: 20_000 };
export const LONG_SIZES: Sizes = { maxDepth: 50_000, maxList: 200_000, maxString: 1_000_000 };

/** Values that do not belong where they are put. */
export function hostileValue(s: Sizes): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.string({ maxLength: 64 }),
    fc.string({ unit: 'binary', maxLength: 256 }),
    fc.integer({ min: 1, max: s.maxString }).map((n) => 'x'.repeat(n)),
    fc.constantFrom(null, true, false, 0, -1, 1e308, '', 'CREATE', 'DELETE', 'Namespace', 'PeerAuthentication', 'STRICT', 'system:masters'),
    fc.integer({ min: 1, max: s.maxDepth }).map((d) => nest(d, '"x"', false)),
    fc.integer({ min: 1, max: s.maxDepth }).map((d) => nest(d, '1', true)),
    fc.integer({ min: 1, max: s.maxList }).map((n) => new Array<string>(n).fill('g')),
    fc
      .integer({ min: 1, max: s.maxList })
      .map((n) => Object.fromEntries(Array.from({ length: Math.min(n, 5000) }, (_, i) => [`k${i}`, 'v']))),
  );
}

/** The fields of a review an attacker would aim at: the envelope, the request, the user, the objects. */
export const TARGETS: readonly (readonly string[])[] = [
  [],
  ['apiVersion'],
  ['kind'],
  ['request'],
  ['request', 'uid'],
  ['request', 'kind'],
  ['request', 'kind', 'kind'],
  ['request', 'kind', 'group'],
  ['request', 'kind', 'version'],
  ['request', 'operation'],
  ['request', 'namespace'],
  ['request', 'name'],
  ['request', 'dryRun'],
  ['request', 'userInfo'],
  ['request', 'userInfo', 'username'],
  ['request', 'userInfo', 'groups'],
  ['request', 'userInfo', 'extra'],
  ['request', 'userInfo', 'uid'],
  ['request', 'object'],
  ['request', 'oldObject'],
  ['request', 'object', 'apiVersion'],
  ['request', 'object', 'kind'],
  ['request', 'object', 'metadata'],
  ['request', 'object', 'metadata', 'name'],
  ['request', 'object', 'metadata', 'namespace'],
  ['request', 'object', 'metadata', 'labels'],
  ['request', 'object', 'metadata', 'annotations'],
  ['request', 'object', 'metadata', 'annotations', 'mtls-guard.io/acknowledge-breakage'],
  ['request', 'object', 'metadata', 'labels', 'mtls-guard.io/mode'],
  ['request', 'object', 'metadata', 'creationTimestamp'],
  ['request', 'object', 'spec'],
  ['request', 'object', 'spec', 'mtls'],
  ['request', 'object', 'spec', 'mtls', 'mode'],
  ['request', 'object', 'spec', 'selector'],
  ['request', 'object', 'spec', 'portLevelMtls'],
  ['request', 'object', 'spec', 'host'],
  ['request', 'object', 'spec', 'trafficPolicy'],
  ['request', 'object', 'spec', 'exportTo'],
  ['request', 'object', 'spec', 'workloadSelector'],
  ['request', 'oldObject', 'metadata', 'labels'],
];

/** Sets `path` in `o`, in place (creating objects on the way); returns the new root (the value itself for the root path). */
export function setAt(o: unknown, path: readonly string[], v: unknown): unknown {
  if (path.length === 0) return v;
  const root = (typeof o === 'object' && o !== null && !Array.isArray(o) && !(o instanceof RawJson) ? o : {}) as Record<string, unknown>;
  let cur = root;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    cur = (cur[k] = typeof next === 'object' && next !== null && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
  }
  cur[path.at(-1)!] = v;
  return root;
}

/** What is sent: a body and its content type, and the uid the answer must echo when the body keeps one. */
export interface HostileRequest {
  readonly payload: string;
  readonly contentType: string;
  readonly query: string;
}

/** Hostile requests: mostly real reviews with one to four fields replaced, some raw bodies, some odd timeouts. */
export function hostileRequest(s: Sizes, bases: readonly Record<string, unknown>[]): fc.Arbitrary<HostileRequest> {
  const mutated = fc
    .tuple(fc.constantFrom(...bases), fc.array(fc.tuple(fc.constantFrom(...TARGETS), hostileValue(s)), { minLength: 1, maxLength: 4 }))
    .map(([base, edits]) => edits.reduce<unknown>((o, [path, v]) => setAt(o, path, v), JSON.parse(JSON.stringify(base))));
  const body = fc.oneof(
    { weight: 8, arbitrary: mutated.map((o) => ({ payload: toJson(o), contentType: 'application/json' })) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 2000 }).map((p) => ({ payload: p, contentType: 'application/json' })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.string({ maxLength: 200 }), fc.constantFrom('text/plain', 'application/yaml', 'application/json; charset=utf-16', ''))
        .map(([p, contentType]) => ({ payload: p, contentType })),
    },
  );
  const query = fc.oneof(
    { weight: 6, arbitrary: fc.constant('') },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((q) => `?timeout=${encodeURIComponent(q)}`) },
    { weight: 1, arbitrary: fc.constantFrom('?timeout=0s', '?timeout=999999999s', '?timeout=1e9ms', '?timeout=10s&timeout=1s') },
  );
  return fc.tuple(body, query).map(([b, q]) => ({ ...b, query: q }));
}

/** The longest deny message or error body an answer may carry. */
export const MAX_MESSAGE = 16 * 1024;

/** What is wrong with an answer to a hostile request, or undefined when it is what the API server needs. */
export function problemWith(sent: HostileRequest, status: number, body: string): string | undefined {
  if (status >= 500) return `HTTP ${status}: ${body.slice(0, 200)}`;
  if (![200, 400, 413, 415].includes(status)) return `unexpected HTTP ${status}`;
  let j: Record<string, any>;
  try {
    j = JSON.parse(body) as Record<string, any>;
  } catch {
    return `HTTP ${status} with a body that is not JSON`;
  }
  if (status !== 200)
    return typeof j['message'] === 'string' && body.length <= MAX_MESSAGE ? undefined : `HTTP ${status} without a short message`;
  if (j['apiVersion'] !== 'admission.k8s.io/v1' || j['kind'] !== 'AdmissionReview') return 'HTTP 200 that is not an AdmissionReview';
  let uid: unknown;
  try {
    uid = (JSON.parse(sent.payload) as { request?: { uid?: unknown } }).request?.uid;
  } catch {
    /* a 200 for a body that is not JSON is caught by the uid check */
  }
  const r = j['response'] as Record<string, any> | undefined;
  if (!r || r['uid'] !== uid) return 'the answer does not echo request.uid';
  if (typeof r['allowed'] !== 'boolean') return 'response.allowed is not a boolean';
  if (!r['allowed'] && (r['status']?.code !== 403 || typeof r['status']?.message !== 'string' || r['status'].message.length > MAX_MESSAGE))
    return 'a deny without a 403 and a bounded message';
  const warnings = (r['warnings'] ?? []) as unknown[];
  if (!warnings.every((w) => typeof w === 'string' && !/[\r\n]/.test(w))) return 'a warning with a newline';
  if (warnings.reduce((n: number, w) => n + (w as string).length, 0) > 4096) return 'warnings over 4096 characters in total';
  return undefined;
}
