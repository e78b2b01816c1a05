// The mode that guards an object, row by row (DESIGN.md §4; src/core/policy/modes.ts).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import type { IstioObject, Labels, Mode } from '../../../src/core/model/model.js';
import { labelMode, modeFor, weakens } from '../../../src/core/policy/modes.js';
import { buildIndex } from '../../helpers/engine.js';

interface Row {
  name: string;
  object: { kind: string; namespace: string };
  default: Mode;
  live?: Record<string, Labels>;
  want: { mode: Mode; source: string; invalid?: string };
}
const fx = parse(readFileSync('test/fixtures/core/units/modes.yaml', 'utf8')) as {
  mesh: string;
  modeFor: Row[];
  labelMode: [string | null, Mode, Mode][];
  weakens: [Mode, Mode, boolean][];
};

t.test('modeFor', async (t) => {
  const idx = await buildIndex({ rule: 'modes', add: fx.mesh });
  for (const r of fx.modeFor) {
    const o = { ...r.object, name: 'x' } as unknown as IstioObject;
    const live = r.live && ((ns: string) => r.live![ns]);
    const got = modeFor(idx, o, r.default, live);
    t.same({ mode: got.mode, source: got.source }, { mode: r.want.mode, source: r.want.source }, r.name);
    if (r.want.invalid) t.match(got.invalid, r.want.invalid, `${r.name}: the label is reported`);
    else t.equal(got.invalid, undefined, `${r.name}: nothing to report`);
  }
});

t.test('labelMode', async (t) => {
  for (const [value, dflt, want] of fx.labelMode) t.equal(labelMode(value ?? undefined, dflt), want, `${value} with default ${dflt}`);
});

t.test('weakens', async (t) => {
  for (const [from, to, want] of fx.weakens) t.equal(weakens(from, to), want, `${from} to ${to}`);
});
