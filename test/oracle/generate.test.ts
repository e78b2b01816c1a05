// The random meshes of differential testing (tools/istio-oracle/generate.ts): seeded, small, valid
// for the engine's loader, and free of contradictions about what an application speaks.
import t from 'tap';
import { sampleMeshes } from '../../tools/istio-oracle/differential.js';
import {
  DEFAULT_LIMITS,
  type GenMesh,
  type GenServicePort,
  ISTIOD_IMAGE,
  meshObjects,
  meshToYaml,
  portProtocolClass,
  ROOT_NAMESPACE,
} from '../../tools/istio-oracle/generate.js';
import { parseManifests } from '../../src/snapshot/manifests.js';
import { projectSnapshot } from '../../src/snapshot/project.js';

t.test('a seed gives the same meshes every time, another seed others', async (t) => {
  const a = sampleMeshes(17, 20).map(meshToYaml);
  t.same(sampleMeshes(17, 20).map(meshToYaml), a, 'same seed, same manifests');
  t.not(sampleMeshes(18, 20).map(meshToYaml).join(), a.join(), 'another seed, other manifests');
});

t.test('meshes stay small and read cleanly', async (t) => {
  const meshes = sampleMeshes(3, 200);
  const kinds = new Map<string, number>();
  const oversized: string[] = [];
  const misread: string[] = [];
  for (const [i, m] of meshes.entries()) {
    const objects = meshObjects(m);
    for (const o of objects) kinds.set(String(o['kind']), (kinds.get(String(o['kind'])) ?? 0) + 1);
    const nss = objects.filter((o) => o['kind'] === 'Namespace').length - 1;
    const workloads = objects.filter(
      (o) => (o['kind'] === 'Pod' || o['kind'] === 'Deployment') && (o['metadata'] as { name: string }).name !== 'istiod',
    );
    const services = objects.filter((o) => o['kind'] === 'Service');
    const [nMin, nMax] = DEFAULT_LIMITS.namespaces;
    const [wMin, wMax] = DEFAULT_LIMITS.workloads;
    const ok =
      nss >= nMin && nss <= nMax && workloads.length >= wMin && workloads.length <= wMax && services.length >= 1 && services.length <= 6;
    if (!ok) oversized.push(`mesh ${i}: ${nss} namespaces, ${workloads.length} workloads, ${services.length} services`);
    const { data } = projectSnapshot(parseManifests(meshToYaml(m), `mesh-${i}.yaml`));
    if (data.version.raw !== ISTIOD_IMAGE.split(':').pop() || data.mesh.rootNamespace !== ROOT_NAMESPACE)
      misread.push(`mesh ${i}: the engine reads Istio ${data.version.raw}, root ${data.mesh.rootNamespace}`);
  }
  t.same(oversized, [], `every mesh within ${JSON.stringify(DEFAULT_LIMITS)}`);
  t.same(misread, [], 'the engine reads every mesh, with the Istio release of its istiod and its root namespace');
  for (const k of ['Pod', 'Deployment', 'Service', 'PeerAuthentication', 'DestinationRule', 'ConfigMap'])
    t.ok((kinds.get(k) ?? 0) > 0, `some meshes have a ${k}`);
});

t.test('every form the brief asks for turns up', async (t) => {
  const text = sampleMeshes(5, 300).map(meshToYaml).join('\n---\n');
  const forms: [string, RegExp][] = [
    ['an injected namespace', /istio-injection: enabled/],
    ['an injected-looking pod', /sidecar\.istio\.io\/status/],
    ['a headless Service', /clusterIP: None/],
    ['a named targetPort', /targetPort: [a-z]/],
    ['a numeric targetPort', /targetPort: \d/],
    ['an appProtocol', /appProtocol: grpc/],
    ['portLevelMtls', /portLevelMtls:/],
    ['a mesh-level policy', /kind: PeerAuthentication\nmetadata:\n {2}name: \S+\n {2}namespace: istio-system/],
    ['a workload selector', /workloadSelector:/],
    ['host *.local', /host: "\*\.local"/],
    ['a namespace wildcard host', /host: "\*\.\w+\.svc\.cluster\.local"/],
    ['a host name.namespace', /host: \w+\.(foo|bar|baz|qux)\n/],
    ['exportTo', /exportTo:/],
    ['portLevelSettings', /portLevelSettings:/],
    ['subsets', /subsets:/],
    ['a load balancer', /simple: PASSTHROUGH/],
    ['tls: {}', /tls: \{\}/],
    ['ISTIO_MUTUAL', /mode: ISTIO_MUTUAL/],
    ['enableAutoMtls: false', /enableAutoMtls: false/],
  ];
  for (const [what, re] of forms) t.match(text, re, what);
});

t.test('the protocol Istio reads from a Service port', async (t) => {
  const table: [Partial<GenServicePort>, ReturnType<typeof portProtocolClass>][] = [
    [{ name: 'http' }, 'http'],
    [{ name: 'http-web' }, 'http'],
    [{ name: 'grpc-api' }, 'http2'],
    [{ name: 'tcp', appProtocol: 'http' }, 'http'],
    [{ name: 'http', appProtocol: 'tcp' }, 'tcp'],
    [{ name: 'mongo' }, 'tcp'],
    [{ name: 'https' }, 'tls'],
    [{ appProtocol: 'kubernetes.io/h2c' }, 'http2'],
    [{ name: 'web' }, 'sniffed'],
    [{}, 'sniffed'],
  ];
  for (const [p, want] of table)
    t.equal(portProtocolClass({ name: p.name ?? null, appProtocol: p.appProtocol ?? null }), want, JSON.stringify(p));
});

t.test('no container port is declared with two protocols', async (t) => {
  // One Service targets web's container port 80 four times: as HTTP twice, as TCP, and as gRPC
  // through the port's name. Only the declarations that agree with the first stay.
  const port = (port: number, name: string, targetPort: number | string): GenServicePort => ({ port, name, appProtocol: null, targetPort });
  const m: GenMesh = {
    namespaces: [{ injection: 'enabled' }],
    workloads: [
      {
        ns: 0,
        kind: 'Deployment',
        app: 'web',
        version: 'v1',
        shape: 'plain',
        tlsMode: 'istio',
        inject: null,
        ports: [{ port: 80, name: 'http' }],
        excludeInbound: [],
        excludeOutbound: [],
        capture: null,
        replicas: null,
      },
    ],
    services: [
      {
        of: 0,
        ns: 0,
        app: 'web',
        selector: true,
        headless: false,
        ports: [port(80, 'http', 80), port(8080, 'tcp', 80), port(9000, 'grpc', 'http'), port(8000, 'http-web', 80)],
      },
      // A second Service of the same app and namespace is the same object: the first one stays.
      { of: 0, ns: 0, app: 'web', selector: true, headless: true, ports: [port(5432, 'tcp', 5432)] },
    ],
    peerAuthentications: [],
    destinationRules: [],
    virtualServices: [],
    meshConfig: null,
  };
  const services = meshObjects(m).filter((o) => o['kind'] === 'Service') as { spec: { ports: { port: number }[]; clusterIP?: string } }[];
  t.equal(services.length, 1, 'one web Service');
  t.same(
    services[0]!.spec.ports.map((p) => p.port),
    [80, 8000],
    'the TCP and gRPC declarations of container port 80 are dropped',
  );
  t.equal(services[0]!.spec.clusterIP, '10.96.1.1', 'the first of the two web Services (not headless) is kept, with the first address');
});
