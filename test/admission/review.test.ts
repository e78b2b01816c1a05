// The AdmissionReview envelope and the change it proposes (src/admission/review.ts), table-driven
// from test/fixtures/admission/review.yaml: every bound on a hostile field, every skip and refusal.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { decodeReview, toChange } from '../../src/admission/review.js';
import type { MtlsGuardError } from '../../src/core/model/errors.js';
import { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import { parseManifests } from '../../src/snapshot/manifests.js';
import { projectSnapshot } from '../../src/snapshot/project.js';
import { expandSizes, setPath } from '../helpers/fixture-values.js';

interface Row {
  name: string;
  set?: Record<string, unknown>;
  want?: Record<string, unknown>;
  wantLengths?: Record<string, number>;
  error?: string;
  messageHas?: string;
  skip?: string;
  snapshot?: string;
}
interface Table {
  base: Record<string, unknown>;
  decode: Row[];
  change: Row[];
}

const table = parse(readFileSync('test/fixtures/admission/review.yaml', 'utf8')) as Table;

function reviewOf(row: Row): Record<string, unknown> {
  const r = structuredClone(table.base) as Record<string, any>;
  for (const [path, v] of Object.entries(row.set ?? {})) setPath(r, path, expandSizes(v), true);
  return r;
}

function at(o: unknown, path: string): unknown {
  return path.split('.').reduce<any>((cur, k) => cur?.[k], o);
}

t.test('decodeReview', async (t) => {
  for (const row of table.decode) {
    t.test(row.name, async (t) => {
      const body = reviewOf(row);
      if (row.error !== undefined) {
        t.throws(() => decodeReview(body), { code: 'E_NOT_ADMISSION_REVIEW', message: row.error });
        return;
      }
      const req = decodeReview(body);
      if (row.want) t.match(req, row.want);
      // t.match treats null as "anything": the nulls a row wants are checked one by one.
      for (const [k, v] of Object.entries(row.want ?? {})) if (v === null) t.equal(at(req, k), null, `${k} is null`);
      for (const [path, n] of Object.entries(row.wantLengths ?? {})) {
        const v = at(req, path);
        t.equal(typeof v === 'string' || Array.isArray(v) ? v.length : Object.keys(v as object).length, n, `${path} has ${n}`);
      }
    });
  }
});

t.test('toChange', async (t) => {
  for (const row of table.change) {
    t.test(row.name, async (t) => {
      const req = decodeReview(reviewOf(row));
      const idx = row.snapshot ? MeshIndex.build(projectSnapshot(parseManifests(row.snapshot, 'row')).data) : null;
      if (row.error !== undefined) {
        const err = t.throws(() => toChange(req, idx)) as MtlsGuardError;
        t.equal(err.code, row.error);
        t.ok(err.message.includes(row.messageHas!), err.message);
        return;
      }
      const got = toChange(req, idx);
      if (row.skip !== undefined) {
        t.same(got, { kind: 'skip', why: row.skip });
        return;
      }
      t.equal(got.kind, 'change');
      if (got.kind !== 'change') return;
      const o = got.change.object;
      t.equal(got.change.operation, row.want!['operation']);
      t.equal(`${o.kind} ${o.namespace}/${o.name}`, row.want!['object']);
      if (row.want!['mode'] !== undefined) t.equal(o.kind === 'PeerAuthentication' ? o.mode : undefined, row.want!['mode']);
    });
  }
});
