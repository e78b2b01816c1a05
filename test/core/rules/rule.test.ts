// What connection rules read from a break: the container port behind a Service port, and the
// DestinationRule that set the client's TLS (src/core/rules/rule.ts).
import t from 'tap';
import type { Service } from '../../../src/core/model/model.js';
import { containerPortOf, ruleOf, type BreakContext } from '../../../src/core/rules/rule.js';
import { buildIndex } from '../../helpers/engine.js';

const ADD = `
apiVersion: v1
kind: Service
metadata: {name: named, namespace: foo}
spec: {selector: {app: named}, ports: [{name: web, port: 80, targetPort: http}, {name: other, port: 81, targetPort: nothing}]}
---
apiVersion: v1
kind: Pod
metadata: {name: named, namespace: foo, labels: {app: named}}
spec: {containers: [{name: c, image: c, ports: [{name: admin, containerPort: 9000}, {name: http, containerPort: 8080}]}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dr, namespace: foo}
spec: {host: named}
`;

t.test('containerPortOf and ruleOf', async (t) => {
  const idx = await buildIndex({ rule: 'rule', base: 'examples/mesh-current', add: ADD });
  const svc = (ns: string, name: string): Service => idx.services(ns).find((s) => s.name === name)!;
  const ctx = (s: Service, port: number, rule?: string) =>
    ({ after: idx, service: s, port: s.ports.find((p) => p.port === port)!, now: { rule } }) as unknown as BreakContext;
  t.equal(containerPortOf(ctx(svc('foo', 'httpbin'), 8000)), 80, 'a numbered targetPort');
  t.equal(containerPortOf(ctx(svc('foo', 'named'), 80)), 8080, 'a named targetPort, found on the endpoints');
  t.equal(containerPortOf(ctx(svc('foo', 'named'), 81)), undefined, 'a name no endpoint has');
  const named = svc('foo', 'named');
  t.equal(ruleOf(ctx(named, 80, 'DestinationRule foo/dr'))?.name, 'dr', 'the rule the outcome names');
  for (const rule of [
    'DestinationRule foo/missing',
    'auto mTLS',
    'PeerAuthentication foo/dr',
    'DestinationRule foo/dr (subset v1)',
    undefined,
  ])
    t.equal(ruleOf(ctx(named, 80, rule)), undefined, `none for ${rule}`);
});
