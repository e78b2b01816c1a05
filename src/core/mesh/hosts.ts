/**
 * Host names as Istio compares them (docs/semantics.md §3.3).
 */

/** The FQDN of a Kubernetes Service. */
export function serviceFqdn(name: string, namespace: string, domain: string): string {
  return `${name}.${namespace}.svc.${domain}`;
}

/**
 * Expands a DestinationRule host relative to the rule's namespace. Only dot-less names are
 * expanded; `*` and names with a dot are taken literally, which is why `reviews.prod` never
 * matches `reviews.prod.svc.cluster.local`.
 */
export function resolveShortName(host: string, namespace: string, domain: string): string {
  if (host === '*' || host.includes('.') || host.includes(':')) return host;
  return serviceFqdn(host, namespace, domain);
}

/** True when a (possibly wildcard) host pattern matches a concrete host. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (pattern.charCodeAt(0) !== 42 /* '*' */) return false;
  // The suffix after `*`, compared in place: this runs per (rule, service) and must not allocate.
  const n = pattern.length - 1;
  const off = host.length - n;
  if (off < 0) return false;
  for (let i = 0; i < n; i++) if (host.charCodeAt(off + i) !== pattern.charCodeAt(i + 1)) return false;
  return true;
}

/**
 * Istio's `MoreSpecific`: an exact host beats any wildcard, a longer wildcard beats a shorter one,
 * and equal lengths are ordered alphabetically. Negative when `a` is more specific than `b`.
 */
export function compareSpecificity(a: string, b: string): number {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw !== bw) return aw ? 1 : -1;
  if (a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when a host pattern is a wildcard. */
export function isWildcard(host: string): boolean {
  return host.startsWith('*');
}
