// Istio objects as mtls-guard reads them, and the clear error bad input gets, row by row
// (src/core/model/objects.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { MtlsGuardError } from '../../../src/core/model/errors.js';
import { toManifest } from '../../../src/core/model/manifest.js';
import type { IstioObject } from '../../../src/core/model/model.js';
import { describeValue, parseAuthorizationPolicy, parseIstioObject, parseIstioRef } from '../../../src/core/model/objects.js';

interface Row {
  name: string;
  object: unknown;
  want?: Record<string, unknown>;
  error?: [string, string | null, string];
}
const rows = parse(readFileSync('test/fixtures/core/units/istio-objects.yaml', 'utf8')) as Row[];

for (const r of rows) {
  t.test(r.name, async (t) => {
    if (r.want) {
      const o = parseIstioObject(r.object) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(r.want)) t.same(o[k], v, k);
      // A delete needs only the object's identity, read the same way.
      t.same(parseIstioRef(r.object), { kind: o['kind'], namespace: o['namespace'], name: o['name'] }, 'parseIstioRef');
      // Written back as a fix prints it and read again: the same object, as the engine reads it.
      const again = parseIstioObject(toManifest(o as unknown as IstioObject));
      t.same(judged(again), judged(o as unknown as IstioObject), 'toManifest reads back the same');
      return;
    }
    const [code, field, words] = r.error!;
    let err: unknown;
    try {
      parseIstioObject(r.object);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof MtlsGuardError, 'a MtlsGuardError', { err });
    const e = err as MtlsGuardError & { field?: string };
    t.equal(e.code, code, 'code');
    if (field !== null) t.equal(e.field, field, 'field');
    t.match(e.message, words, 'message');
  });
}

interface ApRow {
  name: string;
  spec: unknown;
  want?: { selector: unknown; mtlsFields: string[] };
  error?: [string, string];
}
const apRows = parse(readFileSync('test/fixtures/core/units/authorization-policies.yaml', 'utf8')) as ApRow[];

for (const r of apRows) {
  t.test(`AuthorizationPolicy: ${r.name}`, async (t) => {
    const read = () =>
      parseAuthorizationPolicy({
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'ap', namespace: 'shop' },
        spec: r.spec,
      });
    if (r.want) t.same(read(), { name: 'ap', namespace: 'shop', ...r.want });
    else t.throws(read, { code: 'E_INVALID_OBJECT', field: r.error![0], message: new RegExp(r.error![1].replace(/[.[\]()"]/g, '\\$&')) });
  });
}

t.test('an AuthorizationPolicy without a namespace is in the default namespace', async (t) => {
  const ap = parseAuthorizationPolicy({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'ap' } });
  t.same([ap.namespace, ap.name], ['default', 'ap']);
});

t.test('a document that is not an object', async (t) => {
  for (const doc of [null, 'x', [1], 3]) {
    const refused = { code: 'E_INVALID_OBJECT', field: '(document)', message: /^field \(document\): expected a Kubernetes object$/ };
    t.throws(() => parseIstioObject(doc), refused, JSON.stringify(doc));
    t.throws(() => parseIstioRef(doc), refused, `ref of ${JSON.stringify(doc)}`);
  }
});

t.test('describeValue never quotes input whole', async (t) => {
  t.equal(describeValue('x'.repeat(81)), `"${'x'.repeat(80)}…"`);
  t.equal(describeValue('x'.repeat(80)), `"${'x'.repeat(80)}"`);
  t.equal(describeValue([[[]]]), 'a list');
  t.equal(describeValue({ a: 1 }), 'an object');
  t.equal(describeValue(null), 'null');
  t.equal(describeValue(false), 'false');
  t.equal(describeValue(undefined), 'undefined');
});

/** What the engine reads of an object: all but the spec as written, and an empty selector is none. */
function judged(o: IstioObject): Record<string, unknown> {
  const { written: _written, annotations: _annotations, created: _created, ...rest } = o as IstioObject & { written?: unknown };
  if (rest.kind === 'PeerAuthentication' && rest.selector && Object.keys(rest.selector).length === 0) return { ...rest, selector: null };
  return rest;
}
