// A real Chromium for the browser tests: Debian's `chromium`, driven with playwright-core.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where Debian and other distributions put Chromium when it is not on PATH. */
const KNOWN_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium', '/snap/bin/chromium'];

function which(): string | undefined {
  const found = spawnSync('bash', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).stdout.trim();
  return found || KNOWN_PATHS.find((p) => existsSync(p));
}

/**
 * The Chromium binary: MTLS_GUARD_CHROMIUM, else on PATH or at a known path, else Debian's package
 * installed with apt-get (as root). Returns why not when none can be had, for the test to skip with.
 */
export function chromiumPath(): { path: string } | { missing: string } {
  const env = process.env['MTLS_GUARD_CHROMIUM'];
  if (env) return existsSync(env) ? { path: env } : { missing: `MTLS_GUARD_CHROMIUM=${env} does not exist` };
  const found = which();
  if (found) return { path: found };
  if (process.getuid?.() !== 0)
    return { missing: 'chromium is not installed and this is not root: apt-get install chromium (or set MTLS_GUARD_CHROMIUM)' };
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 900_000 });
  let r = apt(['install', '-y', '--no-install-recommends', 'chromium']);
  if (r.status !== 0) {
    apt(['update']);
    r = apt(['install', '-y', '--no-install-recommends', 'chromium']);
  }
  const installed = which();
  return installed ? { path: installed } : { missing: `installing Debian's chromium failed: ${(r.stderr ?? String(r.error)).slice(-500)}` };
}
