// The k-way merge heap (src/core/memo/heap.ts), as properties: any sorted streams merge into one
// sorted order, whatever their number, lengths and ties.
import fc from 'fast-check';
import t from 'tap';
import { heapify, siftDown, type Positioned } from '../../../src/core/memo/heap.js';

/** A stream of sorted positions, read one at a time through `pos`. */
interface Stream extends Positioned {
  readonly items: readonly number[];
  at: number;
}

function merge(lists: readonly (readonly number[])[]): number[] {
  const h: Stream[] = lists.map((items) => ({ items, at: 0, pos: items[0] ?? Number.POSITIVE_INFINITY }));
  heapify(h);
  const out: number[] = [];
  while (h.length && h[0]!.pos !== Number.POSITIVE_INFINITY) {
    const s = h[0]!;
    out.push(s.pos);
    s.at++;
    s.pos = s.items[s.at] ?? Number.POSITIVE_INFINITY;
    siftDown(h, 0);
  }
  return out;
}

const sorted = fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 12 }).map((l) => [...l].sort((a, b) => a - b));

t.test('sorted streams merge into one sorted order, every item once', async (t) => {
  fc.assert(
    fc.property(fc.array(sorted, { maxLength: 9 }), (lists) => {
      const want = lists.flat().sort((a, b) => a - b);
      t.same(merge(lists), want);
      return true;
    }),
    { numRuns: 300 },
  );
});

t.test('heapify puts the smallest position on top, from any order', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 1, maxLength: 20 }), (ps) => {
      const h = ps.map((pos) => ({ pos }));
      heapify(h);
      // Every parent is at most its children.
      for (let i = 1; i < h.length; i++) if (h[(i - 1) >> 1]!.pos > h[i]!.pos) return false;
      return h[0]!.pos === Math.min(...ps);
    }),
    { numRuns: 300 },
  );
  t.pass('heap order holds');
});
