// Self-managed certificate rotation, on an injected clock: the plan for each reconcile, the CA
// bundle during a switch, and the repairs of a damaged Secret. Pure: no API server, no timers.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import forge from 'node-forge';
import { parseDuration } from '../../src/config/serve.js';
import { generateCa, generateServing, type ServingSpec } from '../../src/tls/certs.js';
import { applyRotation, caBundle, planRotation, REAL_MAKER, type CertState, type RotationPolicy } from '../../src/tls/rotation.js';
import { secretData, stateFromSecret } from '../../src/tls/self-managed.js';

interface Row {
  at: string;
  published?: boolean;
  steps: string[];
  bundle: number;
  signer: string;
  why: string;
}
const fx = parse(readFileSync(new URL('../fixtures/tls/rotation.yaml', import.meta.url), 'utf8')) as {
  policy: Record<string, string | number>;
  spec: ServingSpec;
  timeline: Row[];
};
const policy: RotationPolicy = {
  caValidityMs: parseDuration(String(fx.policy['caValidity']), 'caValidity'),
  servingValidityMs: parseDuration(String(fx.policy['servingValidity']), 'servingValidity'),
  renewFraction: Number(fx.policy['renewFraction']),
  propagationMs: parseDuration(String(fx.policy['propagation']), 'propagation'),
};
const T0 = Date.parse('2030-01-01T00:00:00Z');
/** Durations like 20d14h30m. */
const offset = (s: string): number =>
  s === '0s' ? 0 : [...s.matchAll(/(\d+)(d|h|m|s)/g)].reduce((a, m) => a + parseDuration(`${m[1]}${m[2]}`, s), 0);
const count = (bundle: string): number => (bundle.match(/BEGIN CERTIFICATE/g) ?? []).length;

t.test('rotation timeline', async (t) => {
  let state: CertState = {};
  const cas: string[] = [];
  for (const row of fx.timeline) {
    const now = T0 + offset(row.at);
    const steps = planRotation(state, now, fx.spec, policy, row.published ?? false);
    t.same(
      steps.map((s) => s.kind),
      row.steps,
      `${row.at}: ${row.why}`,
    );
    for (const s of steps) t.ok(s.why.length > 0, `${row.at}: ${s.kind} says why`);
    const before = state;
    state = await applyRotation(state, steps, now, fx.spec, policy, REAL_MAKER);
    if (state.ca && !cas.includes(state.ca.certPem)) cas.push(state.ca.certPem);
    if (state.next && !cas.includes(state.next.certPem)) cas.push(state.next.certPem);
    const bundle = caBundle(state);
    t.equal(count(bundle), row.bundle, `${row.at}: ${row.bundle} CA(s) in the bundle`);
    const leaf = forge.pki.certificateFromPem(state.serving!.certPem);
    const signer = cas.findIndex((pem) => {
      try {
        return forge.pki.certificateFromPem(pem).verify(leaf);
      } catch {
        return false;
      }
    });
    t.equal(String.fromCharCode(65 + signer), row.signer, `${row.at}: CA ${row.signer} signed the serving certificate`);
    t.ok(bundle.includes(cas[signer]!.trim()), `${row.at}: the bundle trusts the serving certificate's CA`);
    if (before.ca && before.ca.certPem !== state.ca?.certPem)
      t.ok(bundle.includes(before.ca.certPem.trim()), `${row.at}: the old CA stays in the bundle across the switch`);
    t.same(
      planRotation(state, now, fx.spec, policy, row.published ?? false).filter((s) => s.kind !== 'promote-next-ca'),
      [],
      `${row.at}: a second reconcile at the same time changes nothing`,
    );
    t.same(stateFromSecret(secretData(state)), state, `${row.at}: the state survives a round trip through Secret data`);
  }
});

t.test('a damaged Secret is repaired, never served', async (t) => {
  const now = Date.now();
  const spec: ServingSpec = { service: 'mtls-guard', namespace: 'mtls-guard' };
  const good = await applyRotation({}, planRotation({}, now, spec, policy, false), now, spec, policy, REAL_MAKER);
  const other = await generateCa(new Date(now));
  const cases: { name: string; state: CertState; steps: string[]; spec?: ServingSpec }[] = [
    {
      name: 'CA certificate is not PEM',
      state: { ...good, ca: { certPem: 'garbage', keyPem: good.ca!.keyPem } },
      steps: ['new-ca', 'issue-serving'],
    },
    {
      name: 'CA key does not match its certificate',
      state: { ...good, ca: { certPem: good.ca!.certPem, keyPem: other.keyPem } },
      steps: ['new-ca', 'issue-serving'],
    },
    {
      name: 'CA expired',
      state: { ...good, ca: await generateCa(new Date(now - 40 * 86_400_000), 'old', 30 * 86_400_000) },
      steps: ['new-ca', 'issue-serving'],
    },
    {
      name: 'serving certificate signed by another CA',
      state: { ...good, serving: await generateServing(other, spec, new Date(now)) },
      steps: ['issue-serving'],
    },
    { name: 'serving certificate missing', state: { ca: good.ca! }, steps: ['issue-serving'] },
    {
      name: 'serving key does not match',
      state: { ...good, serving: { certPem: good.serving!.certPem, keyPem: other.keyPem } },
      steps: ['issue-serving'],
    },
    { name: 'service renamed', state: good, spec: { service: 'guard', namespace: 'mtls-guard' }, steps: ['issue-serving'] },
    {
      name: 'staged CA unreadable',
      state: { ...good, next: { certPem: 'x', keyPem: 'y' }, nextSince: new Date(now).toISOString() },
      steps: ['stage-next-ca'],
    },
    { name: 'retired CA unreadable', state: { ...good, previous: 'not a certificate' }, steps: ['drop-previous-ca'] },
  ];
  for (const c of cases)
    t.same(
      planRotation(c.state, now, c.spec ?? spec, policy, true).map((s) => s.kind),
      c.steps,
      c.name,
    );
});
