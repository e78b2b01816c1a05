import { fileURLToPath } from 'node:url';
import { access } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parseServeArgs } from '../config/serve.js';
import { CERT_FILES } from '../tls/files.js';
import { makeCerts } from './certs.js';
import { serveUntilSignal, startServer } from './serve.js';
import { EXIT, type Io } from './io.js';

/** The repository root, wherever the command is run from. */
export function repoDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/**
 * `mtls-guard demo` (`npm start`): makes dev certificates if missing, then serves the webhook on
 * https://127.0.0.1:8443 with the example mesh and its telemetry, and prints a curl line to try.
 */
export async function runDemo(
  argv: readonly string[],
  io: Io,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const root = repoDir();
  const rel = (...p: string[]): string => relative(process.cwd(), join(root, ...p)) || '.';
  const certs = rel('certs');
  try {
    await access(join(certs, CERT_FILES.cert));
    await access(join(certs, CERT_FILES.key));
  } catch {
    io.err(`generating development certificates in ${certs}/ (CA and a serving certificate for 127.0.0.1 and localhost)\n`);
    await makeCerts(
      { out: certs, service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'], dnsNames: ['localhost'] },
      new Date(),
    );
  }
  const cfg = parseServeArgs(
    [
      '--listen',
      '127.0.0.1:8443',
      '--tls-cert',
      join(certs, CERT_FILES.cert),
      '--tls-key',
      join(certs, CERT_FILES.key),
      '--cluster',
      rel('examples', 'mesh-current'),
      '--cluster',
      rel('examples', 'webhook-demo'),
      '--telemetry',
      rel('examples', 'telemetry', 'legacy-plaintext.prom'),
      '--drain-seconds',
      '0',
      '--log-format',
      'human',
      ...argv,
    ],
    env,
  );
  const running = await startServer(cfg, io);
  const curl = (f: string): string =>
    `curl -s --cacert ${join(certs, CERT_FILES.caCert)} -H 'Content-Type: application/json' ${running.url}/validate -d @${rel('examples', 'reviews', f)}`;
  io.out(
    [
      `mtls-guard is serving the example mesh on ${running.url} (Ctrl-C to stop).`,
      'Try a PeerAuthentication STRICT for namespace foo, which legacy/sleep still calls in plaintext:',
      `  ${curl('strict-denied.json')}`,
      `Others in ${rel('examples', 'reviews')}/: strict-warn-namespace.json, allowed.json, delete-denied.json, dry-run.json,`,
      "  namespace-mode-off.json (a tenant weakening a namespace's mode; serving from files, no permission can be checked)",
      '',
    ].join('\n'),
  );
  await serveUntilSignal(running);
  return EXIT.ok;
}
