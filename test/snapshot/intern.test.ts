// What the live snapshot keeps per object: its name and the text of its shape, shared by equal shapes.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { compact, materializer, Store } from '../../src/snapshot/intern.js';
import type { Json } from '../../src/core/model/objects.js';

interface Case {
  name: string;
  ops: ({ set: string; owner: string } | { delete: string })[];
  uses: Record<string, number>;
  names: string[];
}
const cases = parse(readFileSync(new URL('../fixtures/snapshot/store.yaml', import.meta.url), 'utf8')) as Case[];

const pod = (name: string, owner: string): Json => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'foo',
    labels: { app: owner },
    ownerReferences: [{ kind: 'ReplicaSet', name: `${owner}-1`, controller: true }],
  },
  spec: { containers: [{ name: 'app', ports: [{ containerPort: 8080 }] }] },
});
const shapeOf = (owner: string): string => compact(pod('x', owner)).shape;

for (const c of cases) {
  t.test(c.name, async (t) => {
    const s = new Store(true);
    const kept = new Map<string, string>();
    for (const op of c.ops) {
      if ('set' in op) {
        const k = s.set('foo', compact(pod(op.set, op.owner)));
        kept.set(op.set, k.shape);
        t.equal(k.name, op.set, `set ${op.set} keeps its name`);
      } else s.delete('foo', op.delete);
    }
    for (const [owner, n] of Object.entries(c.uses)) t.equal(s.usesOf(shapeOf(owner)), n, `${owner}'s shape used ${n} times`);
    t.same([...s.values()].map((v) => v.name).sort(), c.names, 'names held');
    const materialize = materializer();
    for (const v of s.values()) {
      t.same(
        materialize(v),
        JSON.parse(JSON.stringify(pod(v.name, JSON.parse(v.shape).metadata.labels.app))),
        `${v.name} materializes to the projection it was`,
      );
    }
  });
}

t.test('equal shapes are one kept string, and one parsed object per rebuild', async (t) => {
  const s = new Store(true);
  s.set('foo', compact(pod('a', 'web')));
  const b = s.set('foo', compact(pod('b', 'web')));
  const materialize = materializer();
  const [ma, mb] = [...s.values()].map((v) => materialize(v));
  t.equal(b.shape, s.get('foo', 'a')!.shape, 'the same text');
  t.equal(ma!['spec'], mb!['spec'], 'Pods of one shape share the parsed spec within a rebuild');
  t.not(ma!['metadata'], mb!['metadata'], 'but not their metadata, which holds the name');
});

t.test('a kind that is not shared keeps each shape as it came', async (t) => {
  const s = new Store(false);
  s.set('foo', compact(pod('a', 'web')));
  s.set('foo', compact(pod('b', 'web')));
  t.equal(s.usesOf(shapeOf('web')), 0, 'not counted');
  t.equal(s.get('foo', 'b')?.name, 'b');
});
