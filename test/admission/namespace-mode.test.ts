// What a Namespace request does to its mtls-guard mode (src/admission/namespace-mode.ts),
// table-driven from test/fixtures/admission/namespace-mode.yaml.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { isNamespaceRequest, modeChangeOf } from '../../src/admission/namespace-mode.js';
import { MODE_LABEL } from '../../src/core/policy/modes.js';
import type { AdmissionRequest, Operation } from '../../src/admission/review.js';
import type { Json } from '../../src/core/model/objects.js';
import type { Mode } from '../../src/core/model/model.js';
import { admissionRequest } from '../helpers/app.js';

interface Row {
  name: string;
  operation: Operation;
  old?: unknown;
  new?: unknown;
  default: Mode;
  requestName?: string;
  want: Record<string, unknown> | null;
}
const rows = parse(readFileSync('test/fixtures/admission/namespace-mode.yaml', 'utf8')) as Row[];

function namespace(label: unknown): Json {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'foo', labels: label === undefined ? {} : { [MODE_LABEL]: label as string } },
  };
}

function request(row: Row, kind = { group: '', version: 'v1', kind: 'Namespace' }): AdmissionRequest {
  return admissionRequest({
    operation: row.operation,
    kind,
    // The API server sends a Namespace's own name in `namespace` too.
    namespace: 'foo',
    name: row.requestName ?? 'foo',
    object: row.operation === 'DELETE' ? null : namespace(row.new),
    oldObject: namespace(row.old),
  });
}

t.test('modeChangeOf', async (t) => {
  for (const row of rows) {
    const got = modeChangeOf(request(row), row.default);
    if (row.want === null) t.equal(got, null, row.name);
    else t.match(got, row.want, row.name);
  }
});

t.test('isNamespaceRequest: core/v1 Namespaces only', async (t) => {
  const row = rows[0]!;
  t.equal(isNamespaceRequest(request(row)), true, 'core Namespace');
  t.equal(isNamespaceRequest(request(row, { group: 'example.io', version: 'v1', kind: 'Namespace' })), false, 'a CRD named Namespace');
  t.equal(isNamespaceRequest(request(row, { group: '', version: 'v1', kind: 'Pod' })), false, 'another core kind');
});
