// Host names as Istio compares them, and Istio versions, row by row (docs/semantics.md §3.3;
// src/core/mesh/hosts.ts, src/core/mesh/version.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { compareSpecificity, hostMatches, resolveShortName } from '../../../src/core/mesh/hosts.js';
import { features, parseVersion, type VersionFeatures } from '../../../src/core/mesh/version.js';

const fx = parse(readFileSync('test/fixtures/core/units/hosts.yaml', 'utf8')) as {
  shortNames: [string, string, string][];
  matches: [string, string, boolean][];
  specificity: string[][];
  versions: [string, string | null][];
  features: [string, Partial<VersionFeatures>][];
};

t.test('resolveShortName', async (t) => {
  for (const [host, ns, want] of fx.shortNames) t.equal(resolveShortName(host, ns, 'cluster.local'), want, `${host} in ${ns}`);
});

t.test('hostMatches', async (t) => {
  for (const [pattern, host, want] of fx.matches) t.equal(hostMatches(pattern, host), want, `${pattern} against ${host}`);
});

t.test('compareSpecificity', async (t) => {
  for (const order of fx.specificity) {
    // Every starting order sorts to the same one.
    t.same([...order].reverse().sort(compareSpecificity), order, 'from the reverse');
    t.same([...order].sort().sort(compareSpecificity), order, 'from alphabetical');
    for (const h of order) t.equal(compareSpecificity(h, h), 0, `${h} equals itself`);
  }
});

t.test('parseVersion', async (t) => {
  for (const [text, want] of fx.versions) {
    const v = parseVersion(text);
    t.equal(v && `${v.major}.${v.minor}.${v.patch}`, want, JSON.stringify(text));
    if (v) t.equal(v.raw, text.trim(), `${JSON.stringify(text)}: raw is the trimmed text`);
  }
});

t.test('features', async (t) => {
  for (const [version, want] of fx.features) {
    const f = features(parseVersion(version)!);
    t.same(Object.fromEntries(Object.keys(want).map((k) => [k, f[k as keyof VersionFeatures]])), want, version);
  }
});
