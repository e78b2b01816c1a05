import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import type { AdmissionEvent } from '../../src/admission/events.js';
import type { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import { loadIndex } from '../../src/cli/load.js';
import type { Evidence, Labels, Mode } from '../../src/core/model/model.js';
import type { Authorizer } from '../../src/admission/authorize.js';
import type { AdmissionRequest } from '../../src/admission/review.js';

/** The webhook demo's snapshot: the current example mesh plus examples/webhook-demo and its telemetry. */
export async function demoIndex(extra: string[] = []): Promise<MeshIndex> {
  const { idx } = await loadIndex(
    ['examples/mesh-current', 'examples/webhook-demo', ...extra],
    {},
    'examples/telemetry/legacy-plaintext.prom',
  );
  return idx;
}

/** An app over a snapshot, with a recording Event sink and a clock the test moves. */
export interface TestApp {
  readonly app: FastifyInstance;
  readonly events: AdmissionEvent[];
  readonly clock: { now: number; step: number };
  ready: { ok: boolean; reasons: string[] };
}

/**
 * A stand-in for the API server's SubjectAccessReviews, for unit tests of one module (the e2e
 * tests use the real ones): `grants` are `user verb namespace` lines, `system:masters` holds every
 * permission, `fail` makes every check reject as an unreachable API server would, and `reason` is
 * what its authorizers say when they refuse. `timeouts` records the time each check was given.
 */
export function fakeAuthorizer(
  grants: readonly string[] = [],
  fail = false,
  reason = '',
): Authorizer & { asked: string[]; timeouts: number[] } {
  const asked: string[] = [];
  const timeouts: number[] = [];
  return {
    asked,
    timeouts,
    async check(user, p, timeoutMs) {
      asked.push(`${user.username} ${p.verb} ${p.namespace}`);
      timeouts.push(timeoutMs);
      if (fail) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
      const ok = user.groups.includes('system:masters') || grants.includes(`${user.username} ${p.verb} ${p.namespace}`);
      return ok ? { allowed: true } : { allowed: false, reason };
    },
  };
}

export function testApp(
  idx: MeshIndex | null,
  opts: { defaultMode?: Mode; denyOn?: Evidence; liveLabels?: Record<string, Labels>; authorizer?: Authorizer } = {},
): TestApp {
  const events: AdmissionEvent[] = [];
  // Every read of the clock advances it by `step`, so a test can make evaluation "slow".
  const clock = { now: 0, step: 0 };
  const t: TestApp = { app: undefined as unknown as FastifyInstance, events, clock, ready: { ok: true, reasons: [] } };
  const metrics = createMetrics({ snapshotAgeSeconds: () => 12, certNotAfterMs: () => 86_400_000, nowMs: () => 0 });
  (t as { app: FastifyInstance }).app = buildApp({
    snapshot: () => idx,
    ready: () => t.ready,
    options: {
      defaultMode: opts.defaultMode ?? 'enforce',
      denyOn: opts.denyOn ?? 'declared',
      authorizer: opts.authorizer ?? fakeAuthorizer(),
      rolePrefix: 'mtls-guard',
      ...(opts.liveLabels ? { namespaceLabels: (ns: string) => opts.liveLabels![ns] } : {}),
    },
    metrics,
    events: { record: (e) => events.push(e) },
    clock: () => (clock.now += clock.step),
  });
  return t;
}

/** An example AdmissionReview as a parsed object. */
export function review(name: string): Record<string, any> {
  return JSON.parse(readFileSync(`examples/reviews/${name}.json`, 'utf8'));
}

/** A decoded admission request by alice for a PeerAuthentication foo/default, with the fields a test sets. */
export function admissionRequest(over: Partial<AdmissionRequest>): AdmissionRequest {
  const user = { username: 'alice', uid: '', groups: [], extra: {} };
  return {
    uid: 'u',
    operation: 'CREATE',
    kind: { group: 'security.istio.io', version: 'v1', kind: 'PeerAuthentication' },
    namespace: 'foo',
    name: 'default',
    username: user.username,
    user,
    dryRun: false,
    object: null,
    oldObject: null,
    ...over,
  };
}
