// A Service port's protocol, endpoints and dialled addresses, row by row (docs/semantics.md §5.3).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import {
  dialledAddresses,
  endpointsOf,
  isApiServer,
  portProtocol,
  protocolAt,
  resolveTargetPort,
  type Endpoint,
} from '../../../src/core/mesh/endpoints.js';
import type { MeshIndex } from '../../../src/core/mesh/mesh-index.js';
import type { ContainerPort, Service, ServicePort, Workload } from '../../../src/core/model/model.js';
import { buildIndex, portAt } from '../../helpers/engine.js';

type Protocol = ReturnType<typeof portProtocol>;
interface Fixture {
  protocols: { name: string; port: Partial<ServicePort> & { port: number }; protocol: Protocol }[];
  targetPorts: { name: string; ports: ContainerPort[]; target: number | string; port: number | null }[];
  apiServers: { name: string; service: Pick<Service, 'name' | 'namespace' | 'selector'>; apiServer: boolean }[];
  mesh: string;
  protocolsAt: { name: string; port: string; protocol: Protocol }[];
  endpoints: { name: string; port: string; endpoints: { kind: string; workload: string | null; port: number }[] }[];
  dialled: { name: string; port: string; addresses: (string | null)[] }[];
}

const fx = parse(readFileSync('test/fixtures/core/units/endpoints.yaml', 'utf8')) as Fixture;

let shared: Promise<MeshIndex> | undefined;
/** The index of the fixture's mesh, built once; `fresh` builds one that nothing has read. */
function mesh(fresh = false): Promise<MeshIndex> {
  const build = () => buildIndex({ rule: 'endpoints', add: fx.mesh });
  if (fresh) return build();
  shared ??= build();
  return shared;
}

const plain = (es: readonly Endpoint[]) =>
  es.map((e) => ({ kind: e.kind, workload: e.workload ? `${e.workload.namespace}/${e.workload.name}` : null, port: e.containerPort }));
// YAML has no undefined: null stands for it.
const addresses = (as: readonly (string | undefined)[]) => as.map((a) => (a === undefined ? null : a));

t.test('portProtocol', async (t) => {
  for (const row of fx.protocols) {
    await t.test(row.name, async (t) => {
      const p: ServicePort = { targetPort: row.port.port, protocol: 'TCP', ...row.port };
      t.equal(portProtocol(p), row.protocol);
    });
  }
});

t.test('resolveTargetPort', async (t) => {
  for (const row of fx.targetPorts) {
    await t.test(row.name, async (t) => {
      const w = { ports: row.ports } as unknown as Workload;
      t.equal(resolveTargetPort(w, row.target), row.port);
    });
  }
});

t.test('isApiServer', async (t) => {
  for (const row of fx.apiServers) {
    await t.test(row.name, async (t) => {
      const s: Service = { ...row.service, ports: [], headless: false, type: 'ClusterIP' };
      t.equal(isApiServer(s), row.apiServer);
    });
  }
});

t.test('protocolAt', async (t) => {
  const idx = await mesh();
  for (const row of fx.protocolsAt) {
    await t.test(row.name, async (t) => {
      const { port } = portAt(idx, row.port);
      t.equal(protocolAt(idx, port), row.protocol, 'protocol');
      t.equal(protocolAt(idx, port), row.protocol, 'memoised, the same again');
      t.equal(portProtocol(port), row.protocol, 'as portProtocol says');
    });
  }
});

t.test('endpointsOf', async (t) => {
  const idx = await mesh();
  for (const row of fx.endpoints) {
    await t.test(row.name, async (t) => {
      const { svc, port } = portAt(idx, row.port);
      t.strictSame(plain(endpointsOf(idx, svc, port)), row.endpoints, 'endpoints');
      t.strictSame(plain(endpointsOf(idx, svc, port)), row.endpoints, 'memoised, the same again');
    });
  }
});

t.test('dialledAddresses', async (t) => {
  const idx = await mesh();
  // On an index that nothing has read, a headless Service's addresses come before its endpoints are known.
  const fresh = await mesh(true);
  for (const row of fx.dialled) {
    await t.test(row.name, async (t) => {
      const { svc, port } = portAt(idx, row.port);
      t.strictSame(addresses(dialledAddresses(idx, svc, port)), row.addresses, 'addresses');
      t.strictSame(addresses(dialledAddresses(idx, svc, port)), row.addresses, 'memoised, the same again');
      const f = portAt(fresh, row.port);
      t.strictSame(addresses(dialledAddresses(fresh, f.svc, f.port)), row.addresses, 'on a fresh index');
    });
  }
});
