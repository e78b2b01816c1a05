// Client signatures, server shapes and verdicts, table by table (src/core/traffic/shapes.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import type { MeshIndex } from '../../../src/core/mesh/mesh-index.js';
import type { DestinationRule, MeshKind, Service } from '../../../src/core/model/model.js';
import { portPolicy, type PortPolicy } from '../../../src/core/policy/destination-rule.js';
import type { ResolvedMode } from '../../../src/core/policy/peer-auth.js';
import { classAt, clientClasses, type ClientClass } from '../../../src/core/traffic/classes.js';
import {
  classSignature,
  knownVerdict,
  serverShape,
  shapeOnce,
  shapeWithBase,
  sharedRule,
  sharedRuleAfter,
  sharedSignature,
  signatureGroups,
  signatureOf,
  verdictOf,
  type ClientSig,
  type ServerShape,
} from '../../../src/core/traffic/shapes.js';
import { buildIndex, portAt, webRule, workloadAt } from '../../helpers/engine.js';

type Shape = { lead: number; parts: number[]; key: number | string };
type RuleRef = string | null;

interface Fixture {
  mesh: string;
  signatures: { name: string; rule?: Record<string, unknown> | null; policy?: PortPolicy; version?: string; sig: string }[];
  kinds: { name: string; kind: MeshKind; tls?: 'ISTIO_MUTUAL'; sig: string }[];
  wire: { name: string; client: string; to: string; sig: string }[];
  groups: { name: string; port: string; groups: Record<string, string[]>; same: string[]; other: string[] }[];
  shapes: { name: string; port: string; shape: Shape | null; same?: string[]; other?: string[] }[];
  transforms: {
    name: string;
    from: string | { lead: number; parts: number[] };
    base: ResolvedMode['mode'];
    disabled: boolean;
    same?: string;
    shape: Shape;
  }[];
  verdicts: {
    name: string;
    client: string;
    to: string;
    sig?: string;
    verdict: { code: string; cause: string | null; failed: boolean; certain: boolean; key: string };
    kept: boolean;
  }[];
  sharedRules: { name: string; rules: string; rule: RuleRef }[];
  sharedRulesAfter: { name: string; before: string; after: string; ns: string; rule: RuleRef }[];
}

const fx = parse(readFileSync('test/fixtures/core/units/shapes.yaml', 'utf8')) as Fixture;

const indexes = new Map<string, Promise<MeshIndex>>();
/** The index of the fixture's mesh (built once per Istio version); `fresh` builds one that nothing has read. */
function mesh(version = '', fresh = false): Promise<MeshIndex> {
  const build = () => buildIndex({ rule: 'shapes', base: 'examples/mesh-current', add: fx.mesh, ...(version ? { version } : {}) });
  if (fresh) return build();
  let p = indexes.get(version);
  if (!p) indexes.set(version, (p = build()));
  return p;
}

function shapeAt(idx: MeshIndex, ref: string): ServerShape | null {
  const { svc, port } = portAt(idx, ref);
  return serverShape(idx, svc, port);
}

/** A workload named `ns/name`, and its class towards a port. */
function classOf(idx: MeshIndex, client: string, svc: Service): ClientClass {
  return classAt(idx, workloadAt(idx, client), svc);
}

const plain = (s: ServerShape | null) => (s ? { lead: s.lead, parts: [...s.parts], key: s.key } : null);
const named = (r: DestinationRule | null | undefined) => (r === undefined ? 'varies' : r && `${r.namespace}/${r.name}`);

// What a sidecar sends under a DestinationRule's policy for the port, row by row.
t.test('signatureOf and sharedSignature', async (t) => {
  for (const row of fx.signatures) {
    await t.test(row.name, async (t) => {
      const idx = await mesh(row.version);
      const sidecar = clientClasses(idx).fallbacks.find((c) => c.kind === 'sidecar')!;
      // The rule goes through the parser, as a user's would.
      const rule = row.rule ? webRule(row.rule) : null;
      const policy = row.policy ?? portPolicy(rule?.trafficPolicy ?? null, 80);
      t.equal(signatureOf(idx, sidecar, { rule, ...policy }), row.sig, 'signatureOf');
      if (!row.policy) t.equal(sharedSignature(idx, rule, portAt(idx, 'shop/web:80').port), row.sig, 'sharedSignature');
    });
  }
});

// What a client sends by the kind of its proxy, whatever its rule says.
t.test('signatureOf by class kind', async (t) => {
  const idx = await mesh();
  for (const row of fx.kinds) {
    const c = clientClasses(idx).fallbacks.find((x) => x.kind === row.kind)!;
    const dr = row.tls ? { rule: null, ...portPolicy({ tls: { mode: row.tls }, portLevel: [] }, 80) } : null;
    t.equal(signatureOf(idx, c, dr), row.sig, row.name);
  }
});

// What a client workload's class sends towards a port: its proxy, its capture, its Sidecar scope, routes and self-calls.
t.test('classSignature', async (t) => {
  const idx = await mesh();
  for (const row of fx.wire) {
    const { svc, port } = portAt(idx, row.to);
    const c = classOf(idx, row.client, svc);
    t.equal(classSignature(idx, c, svc, port), row.sig.replaceAll('{class}', c.key), row.name);
  }
});

// The classes at a port grouped by signature, and the ports that share one list.
t.test('signatureGroups', async (t) => {
  const idx = await mesh();
  const groupsAt = (ref: string) => {
    const { svc, port } = portAt(idx, ref);
    return signatureGroups(idx, svc, port);
  };
  for (const row of fx.groups) {
    await t.test(row.name, async (t) => {
      const g = groupsAt(row.port);
      const got: Record<string, string[]> = {};
      for (const { sig, classes } of g) {
        const own = sig.startsWith('self:') || sig.startsWith('route:') ? sig.replaceAll(classes[0]!.key, '{class}') : sig;
        got[own] = classes.flatMap((c) => c.members.map((w) => `${w.namespace}/${w.name}`)).sort();
      }
      t.same(got, row.groups, 'workloads by signature');
      t.equal(g.length, Object.keys(row.groups).length, 'one group per signature');
      for (const ref of row.same) t.equal(groupsAt(ref), g, `${ref} shares the list`);
      for (const ref of row.other) t.not(groupsAt(ref), g, `${ref} has a list of its own`);
    });
  }
});

// The server shape of a port: protocol, service mode and the distinct endpoint parts, interned.
t.test('serverShape', async (t) => {
  const idx = await mesh();
  // shapeOnce on an index that nothing else reads computes what serverShape memoises.
  const fresh = await mesh('', true);
  for (const row of fx.shapes) {
    await t.test(row.name, async (t) => {
      const s = shapeAt(idx, row.port);
      t.same(plain(s), row.shape, 'shape');
      const { svc, port } = portAt(idx, row.port);
      t.equal(shapeOnce(idx, svc, port), s, 'shapeOnce reads the memo');
      const f = portAt(fresh, row.port);
      t.same(plain(shapeOnce(fresh, f.svc, f.port)), row.shape, 'shapeOnce without a memo');
      for (const ref of row.same ?? []) t.equal(shapeAt(idx, ref), s, `${ref} shares the shape`);
      for (const ref of row.other ?? []) t.not(shapeAt(idx, ref), s, `${ref} has a shape of its own`);
    });
  }
});

// The shape of a port after a namespace- or mesh-level mode change, from its shape before.
t.test('shapeWithBase', async (t) => {
  const idx = await mesh();
  for (const row of fx.transforms) {
    await t.test(row.name, async (t) => {
      const before = typeof row.from === 'string' ? shapeAt(idx, row.from)! : { key: `given ${row.name}`, ...row.from };
      const s = shapeWithBase(idx, before, row.base, row.disabled);
      t.same(plain(s), row.shape, 'shape');
      if (row.same) t.equal(s, shapeAt(idx, row.same), `the shape of ${row.same}`);
      t.equal(shapeWithBase(idx, before, row.base, row.disabled), s, 'the same object again');
    });
  }

  t.test('a transform is memoised per shape, base mode and DISABLE', async (t) => {
    let reads = 0;
    const parts = [6, 16];
    const before: ServerShape = {
      key: 'counted',
      lead: 3,
      get parts() {
        reads++;
        return parts;
      },
    };
    const first = shapeWithBase(idx, before, 'STRICT', false);
    const n = reads;
    t.ok(n > 0, 'the first call reads the shape');
    t.equal(shapeWithBase(idx, before, 'STRICT', false), first, 'a second call gives the same object');
    t.equal(reads, n, 'without reading the shape again');
    t.same(plain(shapeWithBase(idx, before, 'STRICT', true)), { lead: 2, parts: [5, 16], key: 3625 }, 'DISABLE is a transform of its own');
    t.same(plain(shapeWithBase(idx, before, 'DISABLE', false)), { lead: 3, parts: [7, 16], key: 5388 }, 'so is another base mode');
    t.equal(shapeWithBase(idx, before, 'STRICT', false), first, 'the first is still kept');
  });
});

// The verdict of a (signature, shape) pair, from a real connection, and whether it is kept.
t.test('verdictOf', async (t) => {
  for (const row of fx.verdicts) {
    await t.test(row.name, async (t) => {
      // Verdicts are kept per index: each row starts from one that has none.
      const idx = await mesh('', true);
      const { svc, port } = portAt(idx, row.to);
      const c = classOf(idx, row.client, svc);
      const sig = row.sig ? (row.sig.replaceAll('{class}', c.key) as ClientSig) : classSignature(idx, c, svc, port);
      const shape = serverShape(idx, svc, port)!;
      t.equal(knownVerdict(idx, sig, shape), undefined, 'not known before');
      const v = verdictOf(idx, c, sig, shape, svc, port);
      t.same({ ...v, cause: v.cause ?? null }, row.verdict, 'verdict');
      t.equal(knownVerdict(idx, sig, shape), row.kept ? v : undefined, row.kept ? 'known after' : 'still not known after');
      const again = verdictOf(idx, c, sig, shape, svc, port);
      if (row.kept) t.equal(again, v, 'the kept verdict again');
      else t.not(again, v, 'computed again');
    });
  }
});

// The rule every sidecar class without a rule of its own namespace uses for foo/httpbin.
t.test('sharedRule', async (t) => {
  for (const row of fx.sharedRules) {
    await t.test(row.name, async (t) => {
      const idx = await buildIndex({ rule: row.name, base: 'examples/mesh-current', add: row.rules });
      const svc = portAt(idx, 'foo/httpbin:8000').svc;
      const r = sharedRule(idx, svc);
      t.equal(named(r), row.rule);
      t.equal(sharedRule(idx, svc), r, 'memoised');
    });
  }
});

// sharedRule after a rule change in one namespace, from the one before.
t.test('sharedRuleAfter', async (t) => {
  for (const row of fx.sharedRulesAfter) {
    await t.test(row.name, async (t) => {
      const before = await buildIndex({ rule: row.name, base: 'examples/mesh-current', add: row.before });
      const after = await buildIndex({ rule: row.name, base: 'examples/mesh-current', add: row.after });
      const was = sharedRule(before, portAt(before, 'foo/httpbin:8000').svc);
      const svc = portAt(after, 'foo/httpbin:8000').svc;
      const r = sharedRuleAfter(after, row.ns, svc, after.fqdn(svc), was);
      if (row.rule === 'was') {
        t.ok(was, 'there was a rule');
        t.equal(r, was, 'the rule before');
      } else if (row.rule === null || row.rule === 'varies') t.equal(named(r), row.rule);
      else {
        const [ns, name] = row.rule.split('/');
        const rule = after.destinationRules(ns!).find((d) => d.name === name);
        t.equal(r, rule, `${row.rule} of the index after`);
      }
    });
  }
});
