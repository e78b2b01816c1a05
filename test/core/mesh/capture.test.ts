// What a sidecar's iptables rules capture, row by row (docs/semantics.md §6.4).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import {
  capturesInbound,
  capturesOutbound,
  captureOf,
  inboundBypass,
  inRange,
  outboundBypass,
  outboundKey,
} from '../../../src/core/mesh/capture.js';

interface Row {
  annotations: Record<string, string>;
  port: number;
  address?: string;
  captured: boolean;
}
const table = parse(readFileSync('test/fixtures/core/units/capture.yaml', 'utf8')) as {
  outbound: Row[];
  inbound: Row[];
  keys: { annotations: Record<string, string>; key: string }[];
  inRange: [string, string, boolean][];
};
const prefixed = (a: Record<string, string>) => Object.fromEntries(Object.entries(a).map(([k, v]) => [`traffic.sidecar.istio.io/${k}`, v]));

t.test('outbound', async (t) => {
  for (const r of table.outbound) {
    const c = captureOf(prefixed(r.annotations)).outbound;
    const name = `${JSON.stringify(r.annotations)} to ${r.address ?? '(unknown)'}:${r.port}`;
    t.equal(capturesOutbound(c, r.port, r.address), r.captured, name);
    // A bypass always names the annotation that caused it.
    const why = outboundBypass(c, r.port, r.address);
    if (!r.captured) t.match(why, /^traffic\.sidecar\.istio\.io\/\w+/, `${name}: says why`);
  }
});

t.test('inbound', async (t) => {
  for (const r of table.inbound) {
    const c = captureOf(prefixed(r.annotations)).inbound;
    const name = `${JSON.stringify(r.annotations)} on ${r.port}`;
    t.equal(capturesInbound(c, r.port), r.captured, name);
    if (!r.captured) t.match(inboundBypass(c, r.port), /^traffic\.sidecar\.istio\.io\/\w+/, `${name}: says why`);
  }
});

t.test('outboundKey: pods that capture alike share a key, and only accepted entries count', async (t) => {
  for (const r of table.keys) t.equal(outboundKey(captureOf(prefixed(r.annotations)).outbound), r.key, JSON.stringify(r.annotations));
});

t.test('inRange', async (t) => {
  for (const [address, range, inside] of table.inRange) t.equal(inRange(address, range), inside, `${address} in ${range}`);
});
