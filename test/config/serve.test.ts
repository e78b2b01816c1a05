import t from 'tap';
import { parseServeArgs } from '../../src/config/serve.js';

const base = ['--cluster', 'examples/mesh-current'];

t.test('defaults, flags and environment', async (t) => {
  const d = parseServeArgs(base, {});
  t.match(d, {
    host: '0.0.0.0',
    port: 8443,
    tlsCert: 'certs/tls.crt',
    defaultMode: 'enforce',
    denyOn: 'declared',
    logLevel: 'info',
    drainSeconds: 5,
  });
  const e = parseServeArgs([], { MTLS_GUARD_CLUSTER: 'a,b', MTLS_GUARD_DEFAULT_MODE: 'warn', MTLS_GUARD_LISTEN: '[::1]:9443' });
  t.match(e, { cluster: ['a', 'b'], defaultMode: 'warn', host: '::1', port: 9443 });
  t.equal(
    parseServeArgs([...base, '--default-mode', 'dry-run'], { MTLS_GUARD_DEFAULT_MODE: 'warn' }).defaultMode,
    'dry-run',
    'flags win over env',
  );
  t.match(
    parseServeArgs([], { KUBECONFIG: '/k' }),
    { cluster: [], kubeconfig: '/k', maxStalenessSeconds: 300 },
    'without --cluster the live cluster is used',
  );
  t.match(d, { certMode: 'files' }, 'certificates come from files by default');
  t.notOk(d.selfManaged, 'no self-managed settings with files');
});

t.test('telemetry: a file, or Prometheus by URL', async (t) => {
  t.match(parseServeArgs([...base, '--telemetry', 'x.prom'], {}), { telemetry: 'x.prom' });
  const p = parseServeArgs(
    [...base, '--telemetry', 'https://prom.example:9090/', '--telemetry-window', '30m', '--telemetry-ca-file', '/ca.pem'],
    {},
  );
  t.notOk(p.telemetry, 'a URL is not a file');
  t.same(p.prometheus, {
    url: 'https://prom.example:9090',
    windowMs: 1_800_000,
    refreshMs: 30_000,
    timeoutMs: 10_000,
    maxAgeMs: 300_000,
    caFile: '/ca.pem',
  });
  t.match(parseServeArgs(base, { MTLS_GUARD_TELEMETRY: 'http://p:9090', MTLS_GUARD_TELEMETRY_WINDOW: '2h' }).prometheus, {
    url: 'http://p:9090',
    windowMs: 7_200_000,
  });
});

t.test('self-managed certificates', async (t) => {
  const c = parseServeArgs(
    ['--cert-mode', 'self-managed', '--cert-san', '127.0.0.1', '--ca-validity', '30d', '--cert-validity', '12h', '--ca-propagation', '90s'],
    { MTLS_GUARD_NAMESPACE: 'guard', MTLS_GUARD_WEBHOOK_CONFIGURATION: 'a, b' },
  );
  t.match(c.selfManaged, {
    namespace: 'guard',
    secretName: 'mtls-guard-certs',
    service: 'mtls-guard',
    webhookConfigurations: ['a', 'b'],
    ips: ['127.0.0.1'],
    dnsNames: [],
    lifetimes: { caValidityMs: 30 * 86_400_000, servingValidityMs: 12 * 3_600_000, propagationMs: 90_000 },
  });
  const d = parseServeArgs([], { MTLS_GUARD_CERT_MODE: 'self-managed', MTLS_GUARD_NAMESPACE: 'x' });
  t.match(d.selfManaged, { webhookConfigurations: ['mtls-guard'], lifetimes: {} }, 'defaults: tls/ decides');
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
  [[...base, '--cert-mode', 'magic'], {}, /--cert-mode must be one of files, self-managed/],
  [[...base, '--policy-reports', 'on'], {}, /--policy-reports must be one of auto, off/],
  [[...base, '--telemetry', 'http://'], {}, /--telemetry must be a file or an http\(s\) URL of Prometheus/],
  [[...base, '--telemetry', 'http://p:9090', '--telemetry-window', 'an hour'], {}, /--telemetry-window must be a duration/],
  [[...base, '--telemetry', 'http://p:9090', '--telemetry-refresh', '10m'], {}, /--telemetry-max-age must be at least --telemetry-refresh/],
  [[...base, '--cert-mode', 'self-managed'], {}, /needs --namespace/],
  [[...base, '--cert-mode', 'self-managed', '--namespace', 'n', '--ca-validity', '10 years'], {}, /--ca-validity must be a duration/],
  [[...base, '--cert-mode', 'self-managed', '--namespace', 'n', '--cert-validity', '0s'], {}, /--cert-validity must be a duration/],
  [
    [...base, '--cert-mode', 'self-managed', '--namespace', 'n', '--cert-san', 'Not_A_Name'],
    {},
    /--cert-san must be an IP address or a DNS name/,
  ],
] as const) {
  t.test(`bad value: ${[...argv].join(' ')} ${JSON.stringify(env)}`, async (t) => {
    t.throws(() => parseServeArgs([...argv], env), { code: 'E_CONFIG', message: msg });
  });
}

t.test('--policy-reports: auto by default, off by flag or environment', async (t) => {
  t.equal(parseServeArgs(base, {}).policyReports, 'auto');
  t.equal(parseServeArgs([...base, '--policy-reports', 'off'], {}).policyReports, 'off');
  t.equal(parseServeArgs(base, { MTLS_GUARD_POLICY_REPORTS: 'off' }).policyReports, 'off');
});
