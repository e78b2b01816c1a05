// Certificate files on disk: keys readable by their owner only, whether or not they existed.
import t from 'tap';
import { mkdtempSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { generateCa, generateServing } from '../../src/tls/certs.js';
import { CERT_FILES, writeCerts } from '../../src/tls/files.js';

const ca = await generateCa(new Date());
const serving = await generateServing(ca, { service: 'mtls-guard', namespace: 'mtls-guard' }, new Date());
const mode = (f: string): number => statSync(f).mode & 0o777;

for (const existing of [false, true]) {
  t.test(`keys are written 0600 ${existing ? 'over existing 0644 files' : 'into an empty folder'}`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-files-'));
    if (existing) {
      for (const f of Object.values(CERT_FILES)) writeFileSync(join(dir, f), 'old', { mode: 0o644 });
      t.equal(mode(join(dir, CERT_FILES.key)), 0o644, 'the old key was world-readable');
    }
    await writeCerts(dir, ca, serving);
    t.equal(mode(join(dir, CERT_FILES.key)), 0o600, 'tls.key is 0600');
    t.equal(mode(join(dir, CERT_FILES.caKey)), 0o600, 'ca.key is 0600');
    t.equal(readFileSync(join(dir, CERT_FILES.key), 'utf8'), serving.keyPem, 'tls.key holds the new key');
    t.equal(readFileSync(join(dir, CERT_FILES.caKey), 'utf8'), ca.keyPem, 'ca.key holds the CA key');
    t.equal(readFileSync(join(dir, CERT_FILES.cert), 'utf8'), serving.certPem, 'tls.crt holds the new certificate');
  });
}
