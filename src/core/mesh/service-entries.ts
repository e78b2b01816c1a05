/**
 * ServiceEntries as destinations: each host of an entry is a service that clients dial by that
 * name. A `workloadSelector` makes the selected pods of the entry's namespace its endpoints, with
 * their sidecars and `tlsMode` labels, as a Kubernetes Service's pods; without one the endpoints
 * are addresses or DNS names outside the snapshot: hosts with no sidecar
 * (docs/semantics.md §3.8).
 */
import type { Service, ServiceEntry } from '../model/model.js';
import { serviceFqdn } from './hosts.js';

/**
 * The services the entries add: one per exact host (a wildcard host is not something a client
 * dials), skipping hosts that are already a Kubernetes Service's name (the Service's endpoints
 * win) and hosts an older entry declared.
 */
export function servicesFromEntries(entries: readonly ServiceEntry[], services: readonly Service[], domain: string): Service[] {
  const taken = new Set(services.map((s) => s.host ?? serviceFqdn(s.name, s.namespace, domain)));
  const out: Service[] = [];
  for (const se of entries) {
    for (const host of se.hosts) {
      if (host.startsWith('*') || taken.has(host) || se.ports.length === 0) continue;
      taken.add(host);
      out.push({
        name: host,
        namespace: se.namespace,
        selector: se.workloadSelector,
        ports: se.ports,
        headless: false,
        type: 'ServiceEntry',
        host,
        entry: `ServiceEntry ${se.namespace}/${se.name}`,
        ...(se.origin ? { origin: se.origin } : {}),
      });
    }
  }
  return out;
}
