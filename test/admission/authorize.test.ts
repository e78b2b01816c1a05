// The permissions that loosen the guard and the words a denial uses for them
// (src/admission/authorize.ts), table-driven from test/fixtures/admission/authorize.yaml.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  acknowledgePermission,
  clusterRoleFor,
  describePermission,
  grantCommand,
  NO_AUTHORIZER,
  type Permission,
  weakenPermission,
} from '../../src/admission/authorize.js';

interface Row {
  name: string;
  permission: { weaken: string; to: string } | { acknowledge: string };
  username: string;
  prefix?: string;
  want: { permission?: Partial<Permission>; role?: string; described?: string; grant?: string };
}
const rows = parse(readFileSync('test/fixtures/admission/authorize.yaml', 'utf8')) as Row[];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const p =
      'weaken' in row.permission
        ? weakenPermission(row.permission.weaken, row.permission.to)
        : acknowledgePermission(row.permission.acknowledge);
    const prefix = row.prefix ?? 'mtls-guard';
    if (row.want.permission) t.match(p, row.want.permission);
    if ('acknowledge' in row.permission) t.notOk('name' in p, 'an acknowledgement names no mode');
    if (row.want.role !== undefined) t.equal(clusterRoleFor(p, prefix), row.want.role);
    if (row.want.described !== undefined) t.equal(describePermission(p), row.want.described);
    if (row.want.grant !== undefined) t.equal(grantCommand(p, row.username, prefix), row.want.grant);
  });
}

t.test('a webhook serving from files can show no permission: every check rejects', async (t) => {
  await t.rejects(
    NO_AUTHORIZER.check({ username: 'root', uid: '', groups: ['system:masters'], extra: {} }, acknowledgePermission('foo'), 1000),
    {
      message: /serves from files/,
    },
  );
});
