import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/model/errors.js';
import { notAfterMs, type KeyPair } from './certs.js';

/** File names inside a certificate folder, as `mtls-guard certs` writes them. */
export const CERT_FILES = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' } as const;

/**
 * Writes a key readable by its owner only, whether or not the file existed: a new file is made
 * with mode 0600 and renamed over the old one, so the key is never readable by others, not even
 * for a moment, and an old file's looser mode does not survive.
 */
async function writeKey(path: string, pem: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  await writeFile(tmp, pem, { mode: 0o600, flag: 'wx' });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Writes the CA and the serving pair; keys are readable by the owner only. */
export async function writeCerts(dir: string, ca: KeyPair, serving: KeyPair): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, CERT_FILES.caCert), ca.certPem);
  await writeKey(join(dir, CERT_FILES.caKey), ca.keyPem);
  await writeFile(join(dir, CERT_FILES.cert), serving.certPem);
  await writeKey(join(dir, CERT_FILES.key), serving.keyPem);
}

/** A serving key pair as read from disk, with what identifies its version. */
export interface ServedPair {
  readonly cert: string;
  readonly key: string;
  readonly notAfterMs: number;
  readonly stamp: string;
}

async function stampOf(paths: readonly string[]): Promise<string> {
  const s = await Promise.all(paths.map((p) => stat(p)));
  return s.map((x) => `${x.mtimeMs}:${x.size}:${x.ino}`).join('|');
}

/** Reads a serving certificate and key. Throws InputError naming the file. */
export async function readPair(certPath: string, keyPath: string): Promise<ServedPair> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  } catch (e) {
    throw new InputError(`cannot read the serving certificate: ${(e as Error).message}`);
  }
  let after: number;
  try {
    after = notAfterMs(cert);
  } catch (e) {
    throw new InputError(`${certPath}: not a PEM certificate: ${(e as Error).message}`);
  }
  return { cert, key, notAfterMs: after, stamp: await stampOf([certPath, keyPath]) };
}

/** Where the serving pair comes from: files, or a Secret mtls-guard manages itself. */
export interface ServingSource {
  /** The pair in service. */
  readonly served: ServedPair;
  /** Looks for a new pair once; true when one was applied. */
  check(): Promise<boolean>;
  start(intervalMs: number): void;
  stop(): void;
}

/**
 * Polls the certificate files and hands a new pair to `apply` when they change. Polling (rather
 * than fs.watch) also sees Kubernetes' Secret volumes, which swap a symlink.
 */
export class CertReloader implements ServingSource {
  private timer: NodeJS.Timeout | undefined;
  private current: ServedPair;

  constructor(
    private readonly certPath: string,
    private readonly keyPath: string,
    first: ServedPair,
    private readonly apply: (p: ServedPair) => void,
    private readonly onError: (e: Error) => void,
  ) {
    this.current = first;
  }

  /** The pair in service. */
  get served(): ServedPair {
    return this.current;
  }

  /** Checks the files once; resolves true when a new pair was applied. */
  async check(): Promise<boolean> {
    try {
      const stamp = await stampOf([this.certPath, this.keyPath]);
      if (stamp === this.current.stamp) return false;
      const next = await readPair(this.certPath, this.keyPath);
      this.apply(next);
      this.current = next;
      return true;
    } catch (e) {
      this.onError(e as Error);
      return false;
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
