// The layering of DESIGN.md §6: imports flow one way, towards core/, and core/ does no I/O.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const SRC = resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** Which top-level folders of src/ each folder may import. */
const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  admission: ['core', 'admission'],
  snapshot: ['core', 'snapshot'],
  evidence: ['core', 'evidence'],
  config: ['core', 'config'],
  tls: ['core', 'tls'],
  telemetry: ['core', 'admission', 'telemetry'],
  authz: ['core', 'admission', 'authz'],
  http: ['core', 'admission', 'telemetry', 'config', 'http'],
  cli: ['core', 'admission', 'authz', 'snapshot', 'evidence', 'http', 'tls', 'config', 'telemetry', 'cli'],
};

const IMPORT = /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The imports of a source file. */
export function importsOf(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
}

t.test('the import scanner finds what it must (so the checks below can fail)', async (t) => {
  t.same(importsOf("import { readFile } from 'node:fs/promises';\nexport * from './x.js';\nconst m = await import('fs');"), ['node:fs/promises', './x.js', 'fs']);
});

for (const f of files(SRC)) {
  const layer = relative(SRC, f).split('/')[0]!;
  const text = readFileSync(f, 'utf8');
  t.test(relative(process.cwd(), f), async (t) => {
    for (const spec of importsOf(text)) {
      if (!spec.startsWith('.')) {
        t.not(layer, 'core', `core imports no package or built-in module (${spec})`);
        continue;
      }
      const target = relative(SRC, resolve(dirname(f), spec)).split('/')[0]!;
      t.ok(ALLOWED[layer]?.includes(target), `${layer}/ may import ${target}/ (${spec})`);
    }
    if (layer === 'core') {
      t.notMatch(text, /\bprocess\.|\bDate\.now\(|\bnew Date\(|\bMath\.random\(|\bconsole\.|\bsetTimeout\(|\brequire\(/, 'core reads no env, clock, randomness or logger');
    }
    if (layer !== 'config' && layer !== 'cli') t.notMatch(text, /process\.env/, 'only config/ and cli/ read the environment');
  });
}
