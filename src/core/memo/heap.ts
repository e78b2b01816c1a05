/**
 * A binary min-heap over items that carry their own position, for merging many sorted streams
 * into one order (k-way merge): take the top, move its stream on, `siftDown(h, 0)`. Nothing here
 * knows what the streams hold.
 */

/** An item of the heap: its current position (infinity once it has nothing more). */
export interface Positioned {
  pos: number;
}

/** Orders a list as a binary min-heap by position. */
export function heapify(h: Positioned[]): void {
  for (let i = (h.length >> 1) - 1; i >= 0; i--) siftDown(h, i);
}

/** Restores the heap below `i` after its item's position grew. */
export function siftDown(h: Positioned[], i: number): void {
  const x = h[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= h.length) break;
    if (c + 1 < h.length && h[c + 1]!.pos < h[c]!.pos) c++;
    if (h[c]!.pos >= x.pos) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = x;
}
