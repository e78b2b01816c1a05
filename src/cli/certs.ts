import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/model/errors.js';
import { generateCa, generateServing, type KeyPair } from '../tls/certs.js';
import { CERT_FILES, writeCerts } from '../tls/files.js';
import { EXIT, type Io } from './io.js';

/** What `certs` makes. */
export interface CertsOptions {
  readonly out: string;
  readonly service: string;
  readonly namespace: string;
  readonly ips: readonly string[];
  readonly dnsNames: readonly string[];
}

/** Makes a CA (reusing one already in `out`) and a serving certificate; returns the caBundle. */
export async function makeCerts(o: CertsOptions, now: Date): Promise<string> {
  let ca: KeyPair;
  try {
    ca = { certPem: await readFile(join(o.out, CERT_FILES.caCert), 'utf8'), keyPem: await readFile(join(o.out, CERT_FILES.caKey), 'utf8') };
  } catch {
    ca = await generateCa(now);
  }
  const serving = await generateServing(ca, { service: o.service, namespace: o.namespace, ips: o.ips, dnsNames: o.dnsNames }, now);
  await writeCerts(o.out, ca, serving);
  return Buffer.from(ca.certPem).toString('base64');
}

/** `mtls-guard certs --out certs/`: writes the PEMs and prints the caBundle. */
export async function runCerts(argv: readonly string[], io: Io): Promise<number> {
  let v: Record<string, unknown>;
  try {
    ({ values: v } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: 'string' },
        service: { type: 'string' },
        namespace: { type: 'string' },
        ip: { type: 'string', multiple: true },
        dns: { type: 'string', multiple: true },
      },
    }));
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const ips = (v['ip'] as string[] | undefined) ?? [];
  for (const ip of ips) if (!isIP(ip)) throw new ConfigError(`--ip must be an IP address, not ${JSON.stringify(ip)}`);
  const out = (v['out'] as string | undefined) ?? 'certs';
  const bundle = await makeCerts(
    {
      out,
      service: (v['service'] as string) ?? 'mtls-guard',
      namespace: (v['namespace'] as string) ?? 'mtls-guard',
      ips,
      dnsNames: (v['dns'] as string[] | undefined) ?? [],
    },
    new Date(),
  );
  io.err(`wrote ${join(out, CERT_FILES.caCert)}, ${join(out, CERT_FILES.cert)} and their keys\ncaBundle:\n`);
  io.out(`${bundle}\n`);
  return EXIT.ok;
}
