// Golden text files: what users read, pinned word for word. After a deliberate change of wording,
// write them again with MTLS_GUARD_UPDATE_WORDING=1 and review the diff.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TapTest } from './tap.js';

const UPDATE = process.env['MTLS_GUARD_UPDATE_WORDING'] === '1';

/**
 * Asserts that `text` is the golden file's text (writing it first under MTLS_GUARD_UPDATE_WORDING=1),
 * and on a difference shows the first differing line with two lines around it.
 */
export function matchesGolden(t: TapTest, golden: string, text: string, what: string): void {
  if (UPDATE) {
    mkdirSync(dirname(golden), { recursive: true });
    writeFileSync(golden, text);
  }
  t.ok(existsSync(golden), `${golden} exists (MTLS_GUARD_UPDATE_WORDING=1 writes it)`);
  const want = existsSync(golden) ? readFileSync(golden, 'utf8').split('\n') : [];
  const got = text.split('\n');
  const first = got.findIndex((l, i) => l !== want[i]);
  const at = first === -1 && got.length !== want.length ? Math.min(got.length, want.length) : first;
  t.equal(at, -1, `${what}: the words are those of ${golden}`, {
    line: at + 1,
    expected: want.slice(Math.max(0, at - 2), at + 3),
    actual: got.slice(Math.max(0, at - 2), at + 3),
  });
}
