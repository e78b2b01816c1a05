import t from 'tap';
import { parseManifests } from '../../src/snapshot/manifests.js';
import { projectSnapshot } from '../../src/snapshot/project.js';

t.test('multi-document YAML, JSON and List kinds', async (t) => {
  const docs = parseManifests('a: 1\nkind: X\n---\n---\nkind: List\nitems: [{kind: Y}, {kind: Z}]\n', 'f.yaml');
  t.same(
    docs.map((d) => [d.obj['kind'], d.doc, d.item]),
    [
      ['X', 1, undefined],
      ['Y', 3, 1],
      ['Z', 3, 2],
    ],
  );
  t.same(
    parseManifests('{"kind": "Pod"}', 'f.json').map((d) => d.obj['kind']),
    ['Pod'],
  );
});

t.test('malformed input names file and document', async (t) => {
  t.throws(() => parseManifests('kind: A\n---\nkey: [1,\n', 'm.yaml'), {
    code: 'E_INPUT',
    message: /^m\.yaml \(document 2, line \d+\): malformed YAML/,
  });
  t.throws(() => parseManifests('- 1\n- 2\n', 'l.yaml'), {
    code: 'E_INPUT',
    message: /l\.yaml \(document 1\): expected a Kubernetes object, got a list/,
  });
  t.throws(() => parseManifests('a: 1\na: 2\n', 'd.yaml'), { message: /d\.yaml \(document 1.*malformed YAML/ });
});

t.test('the workload is the owning Deployment (through its ReplicaSet), else the pod', async (t) => {
  const docs = parseManifests(
    `
apiVersion: v1
kind: Pod
metadata: {name: web-7d4b9c8f5-abcde, namespace: a, labels: {app: web, pod-template-hash: 7d4b9c8f5}, ownerReferences: [{kind: ReplicaSet, name: web-7d4b9c8f5, controller: true}]}
spec: {containers: [{name: web}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: a, ownerReferences: [{kind: StatefulSet, name: db, controller: true}]}
spec: {containers: [{name: db}]}
---
apiVersion: v1
kind: Pod
metadata: {name: lonely, namespace: a}
spec: {containers: [{name: c}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web}]}}}
`,
    'w.yaml',
  );
  const { data } = projectSnapshot(docs);
  t.same(data.workloads.map((w) => `${w.kind}/${w.name}/${w.pods}`).sort(), ['Deployment/web/1', 'Pod/lonely/1', 'StatefulSet/db/1']);
});

t.test("a workload keeps its pods' addresses (distinct, at most 16), which a headless Service is dialled at", async (t) => {
  const pod = (i: number, ip: string): string =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: db-${i}, namespace: a, ownerReferences: [{kind: StatefulSet, name: db, controller: true}]}\n` +
    `spec: {containers: [{name: db}]}\nstatus: {podIP: "${ip}"}\n`;
  const many = Array.from({ length: 20 }, (_, i) => pod(i, `10.244.0.${i % 18}`));
  const docs = parseManifests(
    [
      ...many,
      'apiVersion: v1\nkind: Pod\nmetadata: {name: bare, namespace: a}\nspec: {containers: [{name: c}]}\nstatus: {podIP: ""}\n',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: odd, namespace: a}\nspec: {containers: [{name: c}]}\nstatus: {podIP: "<script>"}\n',
    ].join('---\n'),
    'ips.yaml',
  );
  const { data } = projectSnapshot(docs);
  const db = data.workloads.find((w) => w.name === 'db')!;
  t.equal(db.pods, 20, 'every pod counts');
  t.same(
    db.addresses,
    Array.from({ length: 16 }, (_, i) => `10.244.0.${i}`),
    'the first 16 distinct addresses',
  );
  t.equal(data.workloads.find((w) => w.name === 'bare')!.addresses, undefined, 'an empty podIP is no address');
  t.equal(data.workloads.find((w) => w.name === 'odd')!.addresses, undefined, 'nor is one that cannot be an address');
});

t.test('the Istio version comes from istiod, a flag overrides it, and unread kinds are noted', async (t) => {
  const docs = parseManifests(
    `
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec: {template: {spec: {containers: [{name: discovery, image: "gcr.io/istio-release/pilot:1.22.3-distroless"}]}}}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
`,
    'v.yaml',
  );
  const p = projectSnapshot(docs);
  t.equal(p.data.version.raw, '1.22.3-distroless');
  t.equal(p.data.versionSource, 'istiod');
  t.match(p.notes, [/Secret \(1\)/]);
  t.equal(projectSnapshot(docs, { istioVersion: '1.9' }).data.version.minor, 9);
  t.throws(() => projectSnapshot(docs, { istioVersion: 'banana' }), { message: /--istio-version.*banana/ });
});
