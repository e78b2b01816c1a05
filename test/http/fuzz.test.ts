// No body makes /validate answer 5xx, echo unbounded text or grow /metrics: a property test over
// hostile reviews (bench/fuzz/reviews.ts) with a fixed seed; `npm run bench:fuzz` runs 100,000.
import t from 'tap';
import fc from 'fast-check';
import { baseReviews, hostileRequest, nest, problemWith, TEST_SIZES, toJson } from '../../bench/fuzz/reviews.js';
import { demoIndex, review, testApp } from '../helpers/app.js';

const idx = await demoIndex();
const ta = testApp(idx);
t.teardown(() => ta.app.close());

t.test('1,000 hostile requests: every answer is a 200 review, a 400, a 413 or a 415, never a 5xx', async (t) => {
  const problems: string[] = [];
  const run = await fc.check(
    fc.asyncProperty(hostileRequest(TEST_SIZES, baseReviews()), async (sent) => {
      const res = await ta.app.inject({
        method: 'POST',
        url: `/validate${sent.query}`,
        payload: sent.payload,
        headers: { 'content-type': sent.contentType },
      });
      const p = problemWith(sent, res.statusCode, res.body);
      if (p) problems.push(`${p} for ${sent.payload.slice(0, 300)}`);
      return p === undefined;
    }),
    { seed: 20261204, numRuns: 1000, endOnFailure: true },
  );
  t.equal(run.numRuns, 1000, 'all 1,000 ran');
  // The counterexample itself can be megabytes: report the first problems, cut short.
  t.same(problems.slice(0, 3), [], 'no problems');
});

t.test('after them /metrics stays under 100 KB, with only known label values', async (t) => {
  const m = (await ta.app.inject({ method: 'GET', url: '/metrics' })).body;
  t.ok(m.length < 100 * 1024, `/metrics is ${m.length} bytes`);
  const kinds = new Set([...m.matchAll(/kind="([^"]*)"/g)].map((x) => x[1]));
  const operations = new Set([...m.matchAll(/operation="([^"]*)"/g)].map((x) => x[1]));
  t.ok(
    [...kinds].every((k) => ['PeerAuthentication', 'DestinationRule', 'Policy', 'MeshPolicy', 'Namespace', 'other'].includes(k!)),
    `kinds: ${[...kinds].join(', ')}`,
  );
  t.ok(
    [...operations].every((o) => ['CREATE', 'UPDATE', 'DELETE', 'CONNECT', 'unknown', 'other'].includes(o!)),
    `operations: ${[...operations].join(', ')}`,
  );
  t.match(m, /mtls_guard_http_responses_total\{route="\/validate",code="400"\} \d+/, '400s are counted');
  t.match(m, /mtls_guard_http_responses_total\{route="\/validate",code="415"\} \d+/, '415s are counted');
});

t.test('the decoder is the fence: the named attacks of the report answer 400, not 500', async (t) => {
  const deep = (d: number) => nest(d, '"x"', false);
  for (const [what, body] of [
    ['apiVersion nested 10,000 deep', { apiVersion: deep(10_000), kind: 'AdmissionReview', request: { uid: 'u' } }],
    ['kind nested 10,000 deep', { apiVersion: 'admission.k8s.io/v1', kind: deep(10_000), request: { uid: 'u' } }],
    [
      'request.kind nested 10,000 deep',
      {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { uid: 'u', operation: 'CREATE', kind: { kind: deep(10_000), group: deep(10_000) } },
      },
    ],
  ] as const) {
    const res = await ta.app.inject({
      method: 'POST',
      url: '/validate',
      payload: toJson(body),
      headers: { 'content-type': 'application/json' },
    });
    t.ok(res.statusCode < 500, `${what}: HTTP ${res.statusCode}`);
  }
  // Kubernetes names are at most 253 characters: a longer one is not judged, and not echoed whole.
  const long = review('strict-denied');
  long.request.object.metadata.name = 'n'.repeat(1_000_000);
  const sent = { payload: JSON.stringify(long), contentType: 'application/json', query: '' };
  const res = await ta.app.inject({
    method: 'POST',
    url: '/validate',
    payload: sent.payload,
    headers: { 'content-type': 'application/json' },
  });
  t.equal(problemWith(sent, res.statusCode, res.body), undefined, 'a million-character name: a bounded answer');
  t.ok(res.body.length < 8 * 1024, `the answer is ${res.body.length} bytes`);
  const many = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'u', operation: 'x'.repeat(100_000), kind: { group: 'g', version: 'v', kind: 'k'.repeat(100_000) } },
  };
  for (let i = 0; i < 50; i++)
    await ta.app.inject({
      method: 'POST',
      url: '/validate',
      payload: JSON.stringify({ ...many, request: { ...many.request, uid: `u${i}`, operation: `${i}${many.request.operation}` } }),
      headers: { 'content-type': 'application/json' },
    });
  const m = (await ta.app.inject({ method: 'GET', url: '/metrics' })).body;
  t.notMatch(m, /kkkkkkkkkk|xxxxxxxxxx/, 'no request text becomes a metric label');
});
