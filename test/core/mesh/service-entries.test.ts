// The services ServiceEntries add, row by row (docs/semantics.md §3.8; src/core/mesh/service-entries.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { servicesFromEntries } from '../../../src/core/mesh/service-entries.js';
import type { Service, ServiceEntry } from '../../../src/core/model/model.js';

interface Row {
  name: string;
  services: string[];
  entries: { name: string; namespace: string; hosts: string[]; selector: Record<string, string> | null; ports: number }[];
  want: string[];
}
const rows = parse(readFileSync('test/fixtures/core/units/service-entries.yaml', 'utf8')) as Row[];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const services: Service[] = row.services.map((s) => {
      const [name, namespace] = s.split('.') as [string, string];
      return { name, namespace, selector: { app: name }, ports: [], headless: false, type: 'ClusterIP' };
    });
    const entries: ServiceEntry[] = row.entries.map((e, i) => ({
      name: e.name,
      namespace: e.namespace,
      hosts: e.hosts,
      location: 'MESH_INTERNAL',
      ports: Array.from({ length: e.ports }, (_, j) => ({ port: 443 + j, targetPort: 443 + j, protocol: 'TCP', appProtocol: 'tls' })),
      workloadSelector: e.selector,
      origin: { file: 'entries.yaml', doc: i },
    }));
    const out = servicesFromEntries(entries, services, 'cluster.local');
    t.same(
      out.map((s) => `${s.host} from ${s.entry!.replace('ServiceEntry ', '')}${s.selector ? ` ${JSON.stringify(s.selector)}` : ''}`),
      row.want,
    );
    for (const s of out) {
      const e = entries.find((x) => `ServiceEntry ${x.namespace}/${x.name}` === s.entry)!;
      t.same(
        { name: s.name, namespace: s.namespace, type: s.type, ports: s.ports, origin: s.origin },
        { name: s.host, namespace: e.namespace, type: 'ServiceEntry', ports: e.ports, origin: e.origin },
        `${s.host}: named by its host, in the entry's namespace, with its ports and origin`,
      );
    }
  });
}
