// Memo tables and their layers (src/core/memo/layers.ts): each table finds its own slot in its
// own layer, so no two tables share a map.
import t from 'tap';
import { LAYERS, MEMO_TABLES, memoTable, newLayer } from '../../../src/core/memo/layers.js';

t.test('every table is declared with its layer, its slot and its name', async (t) => {
  const slots = new Set<number>();
  for (const name of MEMO_TABLES) {
    const m = memoTable(name);
    const layer = name.slice(0, name.indexOf(':'));
    t.equal(m.layer, layer, `${name}: layer`);
    t.equal(LAYERS[m.layerIndex], layer, `${name}: layer index`);
    t.equal(MEMO_TABLES[m.slot], name, `${name}: slot`);
    t.equal(m.name, name, `${name}: name`);
    slots.add(m.slot);
  }
  t.equal(slots.size, MEMO_TABLES.length, 'no two tables share a slot');
});

t.test('a new layer is empty and its own', async (t) => {
  const a = newLayer();
  const b = newLayer();
  t.same([a.values.size, a.slots.length], [0, 0]);
  a.values.set('k', 1);
  t.equal(b.values.size, 0, 'layers share nothing');
});
