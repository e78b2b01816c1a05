import type { InboundCapture, Labels, OutboundCapture } from '../model/model.js';

/** What a pod without capture annotations gets: everything goes through the proxy. */
export const CAPTURE_ALL: OutboundCapture = { excludedPorts: [], excludedRanges: [], includedPorts: [], includedRanges: '*' };

/** Inbound capture without annotations. */
export const INBOUND_ALL: InboundCapture = { includedPorts: '*', excludedPorts: [] };

const ANNOTATION = 'traffic.sidecar.istio.io/';

/** The capture a pod's annotations ask for; entries the injector would refuse are left out. */
export function captureOf(annotations: Labels): { outbound: OutboundCapture; inbound: InboundCapture } {
  const a = (k: string): string | undefined => annotations[ANNOTATION + k];
  const outbound: OutboundCapture = {
    excludedPorts: ports(a('excludeOutboundPorts')),
    excludedRanges: ranges(a('excludeOutboundIPRanges')),
    includedPorts: ports(a('includeOutboundPorts')),
    includedRanges: wildcardOr(a('includeOutboundIPRanges'), ranges),
  };
  const inbound: InboundCapture = {
    includedPorts: wildcardOr(a('includeInboundPorts'), ports),
    excludedPorts: ports(a('excludeInboundPorts')),
  };
  return {
    outbound: isAll(outbound) ? CAPTURE_ALL : outbound,
    inbound: inbound.includedPorts === '*' && inbound.excludedPorts.length === 0 ? INBOUND_ALL : inbound,
  };
}

/**
 * Whether a sidecar pod's proxy sees a connection to `port` at `address`. Without a known address
 * (a Service whose clusterIP the snapshot lacks, or a headless Service's pods), a list of IP ranges
 * is taken to hold it: only the port rules and an empty `includeOutboundIPRanges` decide.
 */
export function capturesOutbound(c: OutboundCapture, port: number, address: string | undefined): boolean {
  return outboundBypass(c, port, address) === null;
}

/** The annotation that lets a connection pass the sidecar, in words; null when the sidecar captures it. */
export function outboundBypass(c: OutboundCapture, port: number, address: string | undefined): string | null {
  if (c === CAPTURE_ALL) return null;
  if (c.excludedPorts.includes(port)) return `${ANNOTATION}excludeOutboundPorts names port ${port}`;
  const range = address === undefined ? undefined : c.excludedRanges.find((r) => inRange(address, r));
  if (range !== undefined) return `${ANNOTATION}excludeOutboundIPRanges has ${range}, which holds ${address}`;
  if (c.includedPorts.includes(port) || c.includedRanges === '*') return null;
  // An empty list captures no address at all, whichever one the application dials.
  if (c.includedRanges.length === 0) return `${ANNOTATION}includeOutboundIPRanges is empty`;
  if (address === undefined || c.includedRanges.some((r) => inRange(address, r))) return null;
  return `${ANNOTATION}includeOutboundIPRanges does not hold ${address}`;
}

/** Whether a sidecar pod's proxy sees connections arriving on its container port. */
export function capturesInbound(c: InboundCapture, containerPort: number): boolean {
  return inboundBypass(c, containerPort) === null;
}

/** The annotation that lets connections to a container port pass the sidecar, in words; null when captured. */
export function inboundBypass(c: InboundCapture, containerPort: number): string | null {
  if (c.includedPorts === '*') {
    return c.excludedPorts.includes(containerPort) ? `${ANNOTATION}excludeInboundPorts names port ${containerPort}` : null;
  }
  return c.includedPorts.includes(containerPort) ? null : `${ANNOTATION}includeInboundPorts leaves out port ${containerPort}`;
}

/** A short key that tells outbound captures apart: '' for capture of everything. */
export function outboundKey(c: OutboundCapture): string {
  if (c === CAPTURE_ALL) return '';
  const r = c.includedRanges === '*' ? '*' : c.includedRanges.join(',');
  return `${c.excludedPorts.join(',')}/${c.excludedRanges.join(',')}/${c.includedPorts.join(',')}/${r}`;
}

function isAll(c: OutboundCapture): boolean {
  return c.excludedPorts.length === 0 && c.excludedRanges.length === 0 && c.includedRanges === '*';
}

function wildcardOr<T>(v: string | undefined, parse: (v: string | undefined) => readonly T[]): '*' | readonly T[] {
  return v === undefined || v.trim() === '*' ? '*' : parse(v);
}

function ports(v: string | undefined): readonly number[] {
  if (!v) return [];
  const out: number[] = [];
  for (const x of v.split(',')) {
    const n = Number(x.trim());
    if (Number.isInteger(n) && n > 0 && n < 65536) out.push(n);
  }
  return out;
}

function ranges(v: string | undefined): readonly string[] {
  if (!v) return [];
  return v
    .split(',')
    .map((x) => x.trim())
    .filter((x) => parseCidr(x) !== null);
}

interface Cidr {
  readonly bits: readonly number[];
  readonly prefix: number;
}

/** An address as a list of bits (32 for IPv4, 128 for IPv6); null when it is not one. */
function addressBits(s: string): number[] | null {
  if (s.includes(':')) return ipv6Bits(s);
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const bits: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    pushBits(bits, Number(p), 8);
  }
  return bits;
}

function ipv6Bits(s: string): number[] | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string | undefined): string[] => (h ? h.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const bits: number[] = [];
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    pushBits(bits, Number.parseInt(g, 16), 16);
  }
  return bits;
}

function pushBits(into: number[], value: number, width: number): void {
  for (let i = width - 1; i >= 0; i--) into.push((value >> i) & 1);
}

function parseCidr(s: string): Cidr | null {
  const [addr, len, extra] = s.split('/');
  if (addr === undefined || extra !== undefined) return null;
  const bits = addressBits(addr);
  if (!bits) return null;
  const prefix = len === undefined ? bits.length : /^\d{1,3}$/.test(len) ? Number(len) : -1;
  return prefix >= 0 && prefix <= bits.length ? { bits, prefix } : null;
}

/** Whether an address lies in a CIDR range (IPv4 and IPv6 never match each other). */
export function inRange(address: string, range: string): boolean {
  const a = addressBits(address);
  const r = parseCidr(range);
  if (!a || !r || a.length !== r.bits.length) return false;
  for (let i = 0; i < r.prefix; i++) if (a[i] !== r.bits[i]) return false;
  return true;
}
