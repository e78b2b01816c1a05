// Errors with stable codes, and where in the input they point, row by row (src/core/model/errors.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import * as errors from '../../../src/core/model/errors.js';

const fx = parse(readFileSync('test/fixtures/core/units/errors.yaml', 'utf8')) as {
  locations: [errors.InputLocation, string][];
  errors: [string, string | null, string, string][];
  statuses: [unknown, number | null][];
};

t.test('formatLocation', async (t) => {
  for (const [l, want] of fx.locations) t.equal(errors.formatLocation(l), want, JSON.stringify(l));
});

t.test('every error class has its code, its name and its words', async (t) => {
  for (const [cls, arg, code, message] of fx.errors) {
    const C = (errors as unknown as Record<string, new (...a: unknown[]) => errors.MtlsGuardError>)[cls]!;
    const e = cls === 'InvalidObjectError' ? new C(arg, 'is required') : arg === null ? new C() : new C(arg);
    t.ok(e instanceof errors.MtlsGuardError, `${cls} is a MtlsGuardError`);
    t.same({ code: e.code, name: e.name, message: e.message }, { code, name: cls, message }, cls);
  }
});

t.test('an InvalidObjectError placed in a file keeps its field and problem', async (t) => {
  const e = new errors.InvalidObjectError('spec.mtls.mode', 'unknown value "x"').at({ file: 'pa.yaml', doc: 2 });
  t.equal(e.message, 'pa.yaml (document 2), field spec.mtls.mode: unknown value "x"');
  t.same(e.location, { file: 'pa.yaml', doc: 2, field: 'spec.mtls.mode' });
  t.equal(e.field, 'spec.mtls.mode');
  const u = new errors.UnsupportedKindError('v1 Pod', { file: 'pod.yaml' });
  t.match(u.message, /^pod\.yaml: v1 Pod is not a kind/);
});

t.test('apiStatusOf', async (t) => {
  for (const [shape, want] of fx.statuses) t.equal(errors.apiStatusOf(shape) ?? null, want, JSON.stringify(shape));
});
