import t from 'tap';
import { parseServeArgs } from '../../src/config/serve.js';

const base = ['--cluster', 'examples/mesh-current'];

t.test('defaults, flags and environment', async (t) => {
  const d = parseServeArgs(base, {});
  t.match(d, { host: '0.0.0.0', port: 8443, tlsCert: 'certs/tls.crt', defaultMode: 'enforce', denyOn: 'declared', logLevel: 'info', drainSeconds: 5 });
  const e = parseServeArgs([], { MTLS_GUARD_CLUSTER: 'a,b', MTLS_GUARD_DEFAULT_MODE: 'warn', MTLS_GUARD_LISTEN: '[::1]:9443' });
  t.match(e, { cluster: ['a', 'b'], defaultMode: 'warn', host: '::1', port: 9443 });
  t.equal(parseServeArgs([...base, '--default-mode', 'dry-run'], { MTLS_GUARD_DEFAULT_MODE: 'warn' }).defaultMode, 'dry-run', 'flags win over env');
  t.match(parseServeArgs([], { KUBECONFIG: '/k' }), { cluster: [], kubeconfig: '/k', maxStalenessSeconds: 300 }, 'without --cluster the live cluster is used');
});

for (const [argv, env, msg] of [
  [[...base, '--max-staleness-seconds', 'soon'], {}, /--max-staleness-seconds must be a number of seconds/],
  [[...base, '--default-mode', 'loud'], {}, /--default-mode must be one of enforce, warn, dry-run, off/],
  [[...base], { MTLS_GUARD_DENY_ON: 'maybe' }, /--deny-on must be one of/],
  [[...base, '--listen', 'localhost'], {}, /--listen must be host:port/],
  [[...base, '--listen', ':70000'], {}, /--listen must be host:port/],
  [[...base, '--drain-seconds=-1'], {}, /--drain-seconds must be a number of seconds/],
  [[...base, '--log-level', 'chatty'], {}, /--log-level must be one of/],
  [[...base, '--bogus'], {}, /Unknown option '--bogus'/],
] as const) {
  t.test(`bad value: ${[...argv].join(' ')} ${JSON.stringify(env)}`, async (t) => {
    t.throws(() => parseServeArgs([...argv], env), { code: 'E_CONFIG', message: msg });
  });
}
