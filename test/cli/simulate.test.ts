// simulate on a large mesh: the filters are applied before anything is computed, and a request
// for more connections than anyone can read is refused with a clear message instead of running
// the process out of memory.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../src/cli/run.js';
import { MAX_CONNECTIONS } from '../../src/cli/simulate.js';

const dir = mkdtempSync(join(tmpdir(), 'mg-simulate-'));
const file = join(dir, 'big.yaml');
const n = Math.ceil(Math.sqrt(MAX_CONNECTIONS)) + 1;
const docs: string[] = [];
for (let i = 0; i < n; i++) {
  docs.push(
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app-${i}, namespace: ns-${i % 10}}\nspec: {template: {metadata: {labels: {app: app-${i}}}, spec: {containers: [{name: c, image: c}]}}}`,
  );
  docs.push(
    `apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}, namespace: ns-${i % 10}}\nspec: {selector: {app: app-${i}}, ports: [{name: http, port: 80, targetPort: 8080}]}`,
  );
}
writeFileSync(file, docs.join('\n---\n'));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}

t.test(`more than ${MAX_CONNECTIONS} connections is refused with a clear message`, async (t) => {
  const r = await run(['simulate', '-f', file, '--istio-version', '1.28.0']);
  t.equal(r.code, 2);
  t.match(
    r.err,
    /simulate would compute [\d,]+ connections \(clients × service ports\), more than 1,000,000; narrow it with --client GLOB and --service GLOB/,
  );
  t.equal(r.out, '', 'nothing printed');
});

t.test('the filters narrow what is computed', async (t) => {
  const r = await run(['simulate', '-f', file, '--istio-version', '1.28.0', '--client', 'app-1.*', '--service', 'svc-2.*']);
  t.equal(r.code, 0, r.err);
  t.same(r.out.trim().split('\n'), ['app-1.ns-1 to svc-2.ns-2:80: 200']);
});
