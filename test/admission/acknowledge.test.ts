// Which requests give an acknowledgement and which reasons are enough (src/admission/acknowledge.ts),
// table-driven from test/fixtures/admission/acknowledge.yaml.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { acknowledgementOf, reasonProblem } from '../../src/admission/acknowledge.js';
import { ACK_ANNOTATION } from '../../src/core/policy/modes.js';
import type { AdmissionRequest, Operation } from '../../src/admission/review.js';
import type { Json } from '../../src/core/model/objects.js';
import { admissionRequest } from '../helpers/app.js';

interface OfRow {
  name: string;
  operation: Operation;
  old?: unknown;
  new?: unknown;
  object?: 'none';
  want: { kind: string; reason?: string };
}
const table = parse(readFileSync('test/fixtures/admission/acknowledge.yaml', 'utf8')) as {
  of: OfRow[];
  reason: { reason: string; problem: string | null }[];
};

function object(annotation: unknown): Json {
  const metadata: Json = { name: 'default', namespace: 'foo' };
  if (annotation !== undefined) metadata['annotations'] = { [ACK_ANNOTATION]: annotation as string, other: 'x' };
  return { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata };
}

function request(row: OfRow): AdmissionRequest {
  return admissionRequest({
    operation: row.operation,
    object: row.object === 'none' ? null : object(row.new),
    oldObject: row.operation === 'CREATE' && row.old === undefined ? null : object(row.old),
  });
}

t.test('acknowledgementOf', async (t) => {
  for (const row of table.of) t.same(acknowledgementOf(request(row)), row.want, row.name);
});

t.test('reasonProblem', async (t) => {
  for (const row of table.reason) t.equal(reasonProblem(row.reason), row.problem ?? undefined, JSON.stringify(row.reason));
});
