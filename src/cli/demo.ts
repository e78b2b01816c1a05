import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { runSimulate } from './simulate.js';
import { runCheck } from './check.js';
import type { Io } from './io.js';

/** The repository's examples/ folder, wherever the command is run from. */
export function examplesDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');
}

/**
 * `mtls-guard demo`: the offline engine on the bundled example mesh. Prints the seed's traffic
 * matrix after a mesh-wide STRICT policy, then judges a namespace STRICT with observed plaintext.
 */
export async function runDemo(_argv: readonly string[], io: Io): Promise<number> {
  const ex = examplesDir();
  const rel = (p: string): string => relative(process.cwd(), join(ex, p)) || '.';
  const step = async (title: string, argv: string[], cmd: (a: readonly string[], io: Io) => Promise<number>): Promise<number> => {
    io.out(`\n$ mtls-guard ${argv.join(' ')}\n# ${title}\n`);
    const code = await cmd(argv.slice(1), io);
    io.out(`(exit ${code})\n`);
    return code;
  };
  await step('the 1.4 demo mesh after a mesh-wide STRICT MeshPolicy: sidecars 503, legacy 000',
    ['simulate', '-f', rel('mesh-1.4'), '-f', rel('changes/meshpolicy-strict.yaml'), '--client', 'sleep.*', '--service', 'httpbin.*', '--format', 'table'], runSimulate);
  await step('would STRICT for namespace foo break anything? telemetry shows legacy/sleep calling httpbin.foo in plaintext',
    ['check', '-f', rel('changes/strict-foo.yaml'), '--cluster', rel('mesh-current'), '--telemetry', rel('telemetry/legacy-plaintext.prom')], runCheck);
  return 0;
}
