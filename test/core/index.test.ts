// MeshIndex.apply over long chains of changes (a live source applies every Istio event in place).
import t from 'tap';
import type { PeerAuthentication } from '../../src/core/model/model.js';
import { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import { generateMesh } from '../../bench/engine/generate.js';

const meta = { created: '', annotations: {}, apiVersion: 'security.istio.io/v1' };

function pa(ns: number, name: string, mode: PeerAuthentication['mode'], at: number): PeerAuthentication {
  return {
    kind: 'PeerAuthentication',
    name,
    namespace: `ns-${ns}`,
    ...meta,
    created: new Date(Date.UTC(2025, 0, 1, 0, 0, at)).toISOString(),
    selector: null,
    mode,
    portLevel: {},
  };
}

// Lengths around and past the point where the chain of derived indexes is flattened.
for (const steps of [5, 33, 100, 250]) {
  t.test(`${steps} changes applied one by one equal one build of the result`, async (t) => {
    const base = generateMesh(11, { namespaces: 10, services: 20, pods: 40, noSidecar: 0.3 });
    let idx = MeshIndex.build(base);
    const live = new Map<string, PeerAuthentication>();
    for (const o of base.peerAuthentications) live.set(`${o.namespace}/${o.name}`, o);
    for (let i = 0; i < steps; i++) {
      const o = pa(i % 10, `p-${i % 7}`, i % 3 ? 'STRICT' : 'PERMISSIVE', i);
      const key = `${o.namespace}/${o.name}`;
      if (i % 5 === 4 && live.has(key)) {
        idx = idx.apply({ operation: 'DELETE', object: o });
        live.delete(key);
      } else {
        // An update carries the creation time of the object it replaces, as the API server's do.
        const object = live.has(key) ? { ...o, created: live.get(key)!.created } : o;
        idx = idx.apply({ operation: live.has(key) ? 'UPDATE' : 'CREATE', object });
        live.set(key, object);
      }
    }
    const fresh = MeshIndex.build({ ...base, peerAuthentications: [...live.values()] as PeerAuthentication[] });
    for (let n = 0; n < 10; n++) {
      const ns = `ns-${n}`;
      const names = (x: MeshIndex): string[] => x.peerAuthentications(ns).map((p) => `${p.name} ${p.mode} ${p.created}`);
      t.same(names(idx), names(fresh), `${ns}: same policies, in the same order`);
    }
    for (const [key, o] of live) t.equal((idx.find(o) as PeerAuthentication | undefined)?.mode, o.mode, `find ${key}`);
    t.equal(idx.find(pa(0, 'never', 'STRICT', 0)), undefined, 'an object never created is not found');
  });
}
