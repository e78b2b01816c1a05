import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import type { Evidence, Mode } from '../core/model/model.js';
import { EVIDENCE_ORDER, MODES } from '../core/model/model.js';
import { ConfigError } from '../core/model/errors.js';

/** Log levels pino accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The typed, validated configuration of `mtls-guard serve`, parsed once at start. */
export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** Manifest files to judge against; empty means the live cluster. */
  readonly cluster: readonly string[];
  /** The kubeconfig for the live cluster; undefined means in-cluster or the default. */
  readonly kubeconfig?: string;
  /** Past this age without news from the API server, responses carry a staleness warning. */
  readonly maxStalenessSeconds: number;
  /** A telemetry file (Prometheus text format); a URL goes to `prometheus` instead. */
  readonly telemetry?: string;
  /** Prometheus for traffic evidence, queried in the background. */
  readonly prometheus?: PrometheusConfig;
  readonly defaultMode: Mode;
  readonly denyOn: Evidence;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** `json` (one object per line, for collectors) or `human` (for a terminal, as the demo uses). */
  readonly logFormat: 'json' | 'human';
  readonly drainSeconds: number;
  readonly certReloadSeconds: number;
  readonly istioVersion?: string;
  readonly autoMtls?: boolean;
  /** The root namespace when the mesh config does not name one. */
  readonly rootNamespace?: string;
  /** Where the serving certificate comes from: `files` (tlsCert/tlsKey) or `self-managed` (a Secret). */
  readonly certMode: 'files' | 'self-managed';
  /** Set when certMode is self-managed. */
  readonly selfManaged?: SelfManagedConfig;
  /** A CA file: /validate then requires a client certificate it signed (the API server's, from its admission kubeconfig). */
  readonly clientCa?: string;
  /** The prefix of the chart's ClusterRoles that grant `weaken` and `acknowledge` (the release's full name). */
  readonly rolePrefix: string;
  /** `auto`: write PolicyReports where the cluster serves wgpolicyk8s.io/v1alpha2; `off`: never (docs/readiness.md). */
  readonly policyReports: 'auto' | 'off';
}

/** Where and how often to ask Prometheus. */
export interface PrometheusConfig {
  readonly url: string;
  readonly windowMs: number;
  readonly refreshMs: number;
  readonly timeoutMs: number;
  /** Past this age the evidence is degraded to `possible`. */
  readonly maxAgeMs: number;
  readonly bearerTokenFile?: string;
  readonly caFile?: string;
}

/** Settings of self-managed certificates. */
export interface SelfManagedConfig {
  readonly namespace: string;
  readonly secretName: string;
  readonly service: string;
  readonly webhookConfigurations: readonly string[];
  /** Extra SANs of the serving certificate, from `--cert-san`. */
  readonly ips: readonly string[];
  readonly dnsNames: readonly string[];
  /** Lifetimes given on the command line; the rest are tls/'s defaults. */
  readonly lifetimes: { readonly caValidityMs?: number; readonly servingValidityMs?: number; readonly propagationMs?: number };
}

/** Environment variables, each the fallback of the flag with the same name. */
export const ENV = {
  listen: 'MTLS_GUARD_LISTEN',
  tlsCert: 'MTLS_GUARD_TLS_CERT',
  tlsKey: 'MTLS_GUARD_TLS_KEY',
  cluster: 'MTLS_GUARD_CLUSTER',
  telemetry: 'MTLS_GUARD_TELEMETRY',
  defaultMode: 'MTLS_GUARD_DEFAULT_MODE',
  denyOn: 'MTLS_GUARD_DENY_ON',
  logLevel: 'MTLS_GUARD_LOG_LEVEL',
  drainSeconds: 'MTLS_GUARD_DRAIN_SECONDS',
  istioVersion: 'MTLS_GUARD_ISTIO_VERSION',
  kubeconfig: 'KUBECONFIG',
  maxStaleness: 'MTLS_GUARD_MAX_STALENESS_SECONDS',
  certMode: 'MTLS_GUARD_CERT_MODE',
  certSecret: 'MTLS_GUARD_CERT_SECRET',
  clientCa: 'MTLS_GUARD_CLIENT_CA',
  rolePrefix: 'MTLS_GUARD_ROLE_PREFIX',
  namespace: 'MTLS_GUARD_NAMESPACE',
  rootNamespace: 'MTLS_GUARD_ROOT_NAMESPACE',
  telemetryWindow: 'MTLS_GUARD_TELEMETRY_WINDOW',
  service: 'MTLS_GUARD_SERVICE',
  webhookConfiguration: 'MTLS_GUARD_WEBHOOK_CONFIGURATION',
  policyReports: 'MTLS_GUARD_POLICY_REPORTS',
} as const;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration such as `90s`, `15m`, `2160h` or `365d` into milliseconds (> 0). */
export function parseDuration(v: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  if (!(ms > 0)) throw new ConfigError(`${what} must be a duration like 90s, 15m, 2160h or 365d, not ${JSON.stringify(v)}`);
  return ms;
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function oneOf<T extends string>(v: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(v))
    throw new ConfigError(`${what} must be one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`);
  return v as T;
}

function seconds(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || v.trim() === '')
    throw new ConfigError(`${what} must be a number of seconds ≥ 0, not ${JSON.stringify(v)}`);
  return n;
}

/** Parses `host:port` (IPv6 in brackets); port 0 picks a free port. */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 0 || port > 65535) throw new ConfigError(`--listen must be host:port, not ${JSON.stringify(v)}`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** Parses `serve` flags, falling back to environment variables, then defaults. */
export function parseServeArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ServeConfig {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      strict: true,
      options: {
        listen: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        cluster: { type: 'string', multiple: true },
        telemetry: { type: 'string' },
        'default-mode': { type: 'string' },
        'deny-on': { type: 'string' },
        'log-level': { type: 'string' },
        'drain-seconds': { type: 'string' },
        'cert-reload-seconds': { type: 'string' },
        'istio-version': { type: 'string' },
        'auto-mtls': { type: 'string' },
        kubeconfig: { type: 'string' },
        'max-staleness-seconds': { type: 'string' },
        'cert-mode': { type: 'string' },
        'root-namespace': { type: 'string' },
        'telemetry-window': { type: 'string' },
        'telemetry-refresh': { type: 'string' },
        'telemetry-timeout': { type: 'string' },
        'telemetry-max-age': { type: 'string' },
        'telemetry-bearer-token-file': { type: 'string' },
        'telemetry-ca-file': { type: 'string' },
        'cert-secret': { type: 'string' },
        namespace: { type: 'string' },
        service: { type: 'string' },
        'webhook-configuration': { type: 'string', multiple: true },
        'cert-san': { type: 'string', multiple: true },
        'ca-validity': { type: 'string' },
        'cert-validity': { type: 'string' },
        'ca-propagation': { type: 'string' },
        'client-ca': { type: 'string' },
        'role-prefix': { type: 'string' },
        'log-format': { type: 'string' },
        'policy-reports': { type: 'string' },
      },
    }));
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const flag = (k: string, e?: string): string | undefined => (values[k] as string | undefined) ?? (e ? env[e] : undefined);
  const cluster = (values['cluster'] as string[] | undefined) ?? (env[ENV.cluster] ? env[ENV.cluster]!.split(',').filter(Boolean) : []);
  const kubeconfig = flag('kubeconfig', ENV.kubeconfig);
  const { host, port } = parseListen(flag('listen', ENV.listen) ?? '0.0.0.0:8443');
  const auto = flag('auto-mtls');
  const telemetry = flag('telemetry', ENV.telemetry);
  const version = flag('istio-version', ENV.istioVersion);
  const root = flag('root-namespace', ENV.rootNamespace);
  if (root !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(root))
    throw new ConfigError(`--root-namespace must be a namespace name, not ${JSON.stringify(root)}`);
  const prometheus = telemetry && isTelemetryUrl(telemetry) ? prometheusConfig(telemetry, flag) : undefined;
  const certMode = oneOf(flag('cert-mode', ENV.certMode) ?? 'files', ['files', 'self-managed'] as const, '--cert-mode');
  const selfManaged = certMode === 'self-managed' ? selfManagedConfig(values, flag, env) : undefined;
  const clientCa = flag('client-ca', ENV.clientCa);
  const rolePrefix = flag('role-prefix', ENV.rolePrefix) ?? 'mtls-guard';
  if (!/^[a-z0-9]([-a-z0-9.]{0,200}[a-z0-9])?$/.test(rolePrefix))
    throw new ConfigError(`--role-prefix must be a ClusterRole name prefix, not ${JSON.stringify(rolePrefix)}`);
  return {
    ...(clientCa ? { clientCa } : {}),
    rolePrefix,
    policyReports: oneOf(flag('policy-reports', ENV.policyReports) ?? 'auto', ['auto', 'off'] as const, '--policy-reports'),
    ...(prometheus ? { prometheus } : {}),
    certMode,
    ...(selfManaged ? { selfManaged } : {}),
    ...(root ? { rootNamespace: root } : {}),
    host,
    port,
    cluster,
    // With manifest files, the kubeconfig is only for managing certificates.
    ...(kubeconfig && (cluster.length === 0 || certMode === 'self-managed') ? { kubeconfig } : {}),
    maxStalenessSeconds: seconds(flag('max-staleness-seconds', ENV.maxStaleness) ?? '300', '--max-staleness-seconds'),
    tlsCert: flag('tls-cert', ENV.tlsCert) ?? 'certs/tls.crt',
    tlsKey: flag('tls-key', ENV.tlsKey) ?? 'certs/tls.key',
    defaultMode: oneOf(flag('default-mode', ENV.defaultMode) ?? 'enforce', MODES, '--default-mode'),
    denyOn: oneOf(flag('deny-on', ENV.denyOn) ?? 'declared', EVIDENCE_ORDER, '--deny-on'),
    logLevel: oneOf(flag('log-level', ENV.logLevel) ?? 'info', LOG_LEVELS, '--log-level'),
    logFormat: oneOf(flag('log-format') ?? 'json', ['json', 'human'] as const, '--log-format'),
    drainSeconds: seconds(flag('drain-seconds', ENV.drainSeconds) ?? '5', '--drain-seconds'),
    certReloadSeconds: seconds(flag('cert-reload-seconds') ?? '10', '--cert-reload-seconds') || 10,
    ...(telemetry && !prometheus ? { telemetry } : {}),
    ...(version ? { istioVersion: version } : {}),
    ...(auto !== undefined ? { autoMtls: oneOf(auto, ['on', 'off'] as const, '--auto-mtls') === 'on' } : {}),
  };
}

function selfManagedConfig(
  values: Record<string, unknown>,
  flag: (k: string, e?: string) => string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): SelfManagedConfig {
  const namespace = flag('namespace', ENV.namespace);
  if (!namespace)
    throw new ConfigError(`--cert-mode self-managed needs --namespace (or ${ENV.namespace}): the namespace of its Secret and Service`);
  const list = (k: string, e: string): string[] =>
    (values[k] as string[] | undefined) ??
    (env[e]
      ? env[e]!.split(',')
          .map((x) => x.trim())
          .filter(Boolean)
      : []);
  const sans = (values['cert-san'] as string[] | undefined) ?? [];
  for (const s of sans)
    if (!isIP(s) && !DNS_NAME.test(s)) throw new ConfigError(`--cert-san must be an IP address or a DNS name, not ${JSON.stringify(s)}`);
  const configs = list('webhook-configuration', ENV.webhookConfiguration);
  const lifetimes = {
    ...(flag('ca-validity') ? { caValidityMs: parseDuration(flag('ca-validity')!, '--ca-validity') } : {}),
    ...(flag('cert-validity') ? { servingValidityMs: parseDuration(flag('cert-validity')!, '--cert-validity') } : {}),
    ...(flag('ca-propagation') ? { propagationMs: parseDuration(flag('ca-propagation')!, '--ca-propagation') } : {}),
  };
  return {
    namespace,
    secretName: flag('cert-secret', ENV.certSecret) ?? 'mtls-guard-certs',
    service: flag('service', ENV.service) ?? 'mtls-guard',
    webhookConfigurations: configs.length ? configs : ['mtls-guard'],
    lifetimes,
    ips: sans.filter((x) => isIP(x)),
    dnsNames: sans.filter((x) => !isIP(x)),
  };
}

/** True for `--telemetry` values that name Prometheus; other schemes are refused, plain paths are files. */
export function isTelemetryUrl(v: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(v)?.[1];
  if (scheme && !/^https?$/i.test(scheme))
    throw new ConfigError(`--telemetry must be a file or an http(s) URL of Prometheus, not ${JSON.stringify(v)}`);
  return scheme !== undefined;
}

/** Parses `--telemetry URL` and its companions; the defaults suit a 30 s scrape interval. */
export function prometheusConfig(url: string, flag: (k: string, e?: string) => string | undefined): PrometheusConfig {
  if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/i.test(url))
    throw new ConfigError(`--telemetry must be a file or an http(s) URL of Prometheus, not ${JSON.stringify(url)}`);
  const refreshMs = parseDuration(flag('telemetry-refresh') ?? '30s', '--telemetry-refresh');
  const c: PrometheusConfig = {
    url: url.replace(/\/+$/, ''),
    windowMs: parseDuration(flag('telemetry-window', ENV.telemetryWindow) ?? '1h', '--telemetry-window'),
    refreshMs,
    timeoutMs: parseDuration(flag('telemetry-timeout') ?? '10s', '--telemetry-timeout'),
    maxAgeMs: parseDuration(flag('telemetry-max-age') ?? '5m', '--telemetry-max-age'),
    ...(flag('telemetry-bearer-token-file') ? { bearerTokenFile: flag('telemetry-bearer-token-file')! } : {}),
    ...(flag('telemetry-ca-file') ? { caFile: flag('telemetry-ca-file')! } : {}),
  };
  if (c.maxAgeMs < c.refreshMs)
    throw new ConfigError('--telemetry-max-age must be at least --telemetry-refresh, or every answer would already be too old');
  return c;
}
