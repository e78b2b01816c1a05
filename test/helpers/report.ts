// Shared by the report's tests: the matrix, cell by cell, against `simulate`.
import { simulate } from '../../src/core/evaluate.js';
import type { MeshIndex } from '../../src/core/mesh/mesh-index.js';
import { cellAt, type MatrixState, type TrafficMatrix } from '../../src/report/matrix.js';
import type { TapTest } from './tap.js';

/** Every cell of one state as `client to service:port: code: reason`, the words `simulate` would give. */
function matrixLines(m: TrafficMatrix, state: MatrixState): string[] {
  const out: string[] = [];
  for (const [i, c] of m.clients.entries()) {
    for (const [j, col] of m.columns.entries()) {
      const o = cellAt(m, state, i, j);
      if (o) out.push(`${c.id} to ${col.service}:${col.port}: ${o.code}${o.exit !== undefined ? ` exit ${o.exit}` : ''}: ${o.reason}`);
    }
  }
  return out.sort();
}

function simulateLines(idx: MeshIndex): string[] {
  return simulate(idx)
    .map(
      (c) =>
        `${c.client} to ${c.service}:${c.port}: ${c.outcome.code}${c.outcome.exit !== undefined ? ` exit ${c.outcome.exit}` : ''}: ${c.outcome.reason}`,
    )
    .sort();
}

/** Asserts the matrix of one state is exactly `simulate`'s output on that mesh. */
export function sameAsSimulate(t: TapTest, m: TrafficMatrix, state: MatrixState, idx: MeshIndex, what: string): void {
  const mine = matrixLines(m, state);
  const theirs = simulateLines(idx);
  t.equal(mine.length, theirs.length, `${what}: as many cells as simulate has connections`);
  t.same(mine, theirs, `${what}: every cell is simulate's outcome and reason`);
}
