// One read of a live cluster for the CLI (`check`, `simulate`, `plan` without manifests, and the
// kubectl plugin): the kubeconfig chosen as kubectl chooses it, every kind the snapshot needs listed
// once by `ClusterSnapshot.listOnce` (the discovery, lists and pruning `serve` uses), within a time
// limit, and every failure turned into one sentence. Only this module, loaded on demand, brings the
// Kubernetes client into the CLI.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { apiStatusOf, InputError } from '../core/model/errors.js';
import { ClusterSnapshot } from './cluster.js';
import { PooledKubeConfig } from './kubeconfig.js';
import type { LoadedDoc } from './manifests.js';

/** Which cluster to read, and how long the read may take. */
export interface LiveSource {
  /** A kubeconfig file; else KUBECONFIG, else ~/.kube/config, else the pod's service account. */
  readonly kubeconfig?: string;
  /** A context of the kubeconfig; else its current context. */
  readonly context?: string;
  /** The longest the whole read may take, in ms. */
  readonly timeoutMs: number;
}

/** What was read: the documents the projection reads, and notes for stderr. */
export interface LiveRead {
  readonly docs: LoadedDoc[];
  readonly notes: readonly string[];
  /** The context and API server read, for messages. */
  readonly context: string;
  readonly server: string;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

type RequestContext = Parameters<k8s.KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** A pooled kubeconfig whose every request ends when the read's deadline passes. */
class DeadlineKubeConfig extends PooledKubeConfig {
  private readonly used = new Set<Dispatcher>();

  constructor(
    private readonly signal: AbortSignal,
    private readonly connectTimeoutMs: number,
  ) {
    super();
  }

  /**
   * An Agent of its own even without TLS material (rather than the process-wide one, which
   * `destroy` cannot reach), whose connections give up at the deadline: undici leaves a TCP or TLS
   * handshake in progress to its own connect timeout (10 s), whatever the request's signal says.
   */
  override createDispatcherOptions(...a: Parameters<k8s.KubeConfig['createDispatcherOptions']>): k8s.DispatcherOptions {
    const o = super.createDispatcherOptions(...a);
    const timeout = this.connectTimeoutMs;
    if (o.type === 'none') return { type: 'agent', connect: { keepAlive: true, keepAliveInitialDelay: 30_000, timeout } };
    return o.type === 'socks' ? o : { ...o, connect: { ...o.connect, timeout } };
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setSignal(this.signal);
    const d = context.getDispatcher();
    if (d) this.used.add(d);
  }

  /**
   * Ends every connection, so that the process exits as soon as the read is over (a handshake
   * still in progress ends by the deadline, at its connect timeout).
   */
  async destroy(): Promise<void> {
    await this.close();
    await Promise.all([...this.used].map((d) => d.destroy().catch(() => {})));
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/\.$/, '');
}

/** Loads one kubeconfig file; a file that is not one is a sentence naming it. */
function loadFile(file: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (e) {
    const msg = (e as Error).message;
    const why = /reading '(clusters|contexts|users)'/.test(msg) ? 'it is empty or not a kubeconfig' : firstLine(msg);
    throw new InputError(`cannot read the kubeconfig ${file}: ${why}`);
  }
  return kc;
}

/**
 * The kubeconfig as kubectl loads it: `--kubeconfig`, else the files KUBECONFIG lists (missing
 * ones skipped; the first to name a cluster, user or context, or to set the current context, wins),
 * else ~/.kube/config, else the service account of the pod it runs in.
 */
function loadKubeconfig(
  src: LiveSource,
  env: Readonly<Record<string, string | undefined>>,
): { kc: { clusters: k8s.Cluster[]; users: k8s.User[]; contexts: k8s.Context[]; currentContext: string }; from: string } {
  let files: string[];
  let from: string;
  if (src.kubeconfig) {
    if (!existsSync(src.kubeconfig)) throw new InputError(`--kubeconfig ${src.kubeconfig}: no such file`);
    files = [src.kubeconfig];
    from = `the kubeconfig ${src.kubeconfig}`;
  } else if (env['KUBECONFIG']) {
    const listed = env['KUBECONFIG'].split(delimiter).filter((f) => f !== '');
    files = listed.filter((f) => existsSync(f));
    if (files.length === 0)
      throw new InputError(
        `no kubeconfig: KUBECONFIG names ${listed.join(delimiter)}, and no such file exists; fix KUBECONFIG or give --kubeconfig FILE`,
      );
    from = `the kubeconfig ${files.join(delimiter)} (KUBECONFIG)`;
  } else {
    const home = join(env['HOME'] ?? homedir(), '.kube', 'config');
    if (existsSync(home)) {
      files = [home];
      from = `the kubeconfig ${home}`;
    } else if (env['KUBERNETES_SERVICE_HOST'] && existsSync(SERVICE_ACCOUNT_TOKEN)) {
      const kc = new k8s.KubeConfig();
      kc.loadFromCluster();
      return { kc, from: "the pod's service account" };
    } else {
      throw new InputError(
        `no kubeconfig: KUBECONFIG is not set and ${home} does not exist; give --kubeconfig FILE, or manifests to work offline`,
      );
    }
  }
  const clusters = new Map<string, k8s.Cluster>();
  const users = new Map<string, k8s.User>();
  const contexts = new Map<string, k8s.Context>();
  let current = '';
  for (const f of files) {
    const kc = loadFile(f);
    for (const c of kc.clusters) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.users) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.contexts) if (!contexts.has(c.name)) contexts.set(c.name, c);
    current ||= kc.currentContext ?? '';
  }
  return {
    kc: { clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext: current },
    from,
  };
}

/** The kubeconfig to read with, on the chosen context; a choice that cannot work is a sentence. */
function configure(
  src: LiveSource,
  signal: AbortSignal,
  env: Readonly<Record<string, string | undefined>>,
): { kc: DeadlineKubeConfig; context: string; server: string } {
  const { kc: loaded, from } = loadKubeconfig(src, env);
  const names = loaded.contexts.map((c) => c.name);
  const known = names.length ? `its contexts: ${names.join(', ')}` : 'it has no contexts';
  if (names.length === 0) throw new InputError(`${from} defines no contexts; is it a kubeconfig?`);
  const name = src.context ?? loaded.currentContext;
  if (!name) throw new InputError(`${from} sets no current context; choose one with --context NAME (${known})`);
  const ctx = loaded.contexts.find((c) => c.name === name);
  if (!ctx)
    throw new InputError(
      src.context
        ? `${from} has no context ${JSON.stringify(name)} (${known})`
        : `the current context ${JSON.stringify(name)} is not in ${from} (${known})`,
    );
  const cluster = loaded.clusters.find((c) => c.name === ctx.cluster);
  if (!cluster?.server) throw new InputError(`context ${name} names cluster ${JSON.stringify(ctx.cluster)}, which ${from} does not define`);
  const kc = new DeadlineKubeConfig(signal, src.timeoutMs);
  kc.loadFromOptions({ ...loaded, currentContext: name });
  return { kc, context: name, server: cluster.server };
}

/** The message of a Kubernetes Status body, when the API server sent one. */
function statusMessage(e: unknown): string | undefined {
  const raw = (e as { body?: unknown }).body;
  let body = raw;
  if (typeof raw === 'string') {
    try {
      body = JSON.parse(raw);
    } catch {
      return raw.trim() ? firstLine(raw.trim()).slice(0, 300) : undefined;
    }
  }
  const m = (body as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' && m ? firstLine(m) : undefined;
}

/** One sentence for a failed read. */
function describe(e: unknown, where: string, context: string, timedOut: number | undefined): string {
  if (timedOut !== undefined)
    return `${where} did not answer within ${timedOut / 1000}s (context ${context}); is it reachable? A larger --timeout gives it longer`;
  const status = apiStatusOf(e);
  if (typeof status === 'number') {
    const said = statusMessage(e);
    if (status === 401)
      return `${where} did not accept the credentials of context ${context} (401 Unauthorized); log in again or fix the user in the kubeconfig`;
    if (status === 403)
      return `${said ?? 'listing is forbidden'} (403 Forbidden from ${where}, context ${context}); mtls-guard needs list permission, cluster-wide, on every kind it reads (see docs/cli.md)`;
    return `${where} answered ${status}${said ? `: ${said}` : ''} (context ${context})`;
  }
  const err = e as Error & { cause?: { message?: string } };
  const cause = err.cause?.message;
  if (err.message === 'fetch failed' || cause) return `cannot reach ${where} (context ${context}): ${firstLine(cause ?? err.message)}`;
  return `reading ${where} failed (context ${context}): ${firstLine(err.message ?? String(e))}`;
}

/**
 * Reads the cluster once: every kind the webhook's snapshot lists, pruned as it prunes them. The
 * documents project (with `unique: true`) to exactly the snapshot `serve` would hold. `env` is the
 * environment kubeconfig discovery reads (`KUBECONFIG`, `HOME`): the CLI passes its own.
 */
export async function readCluster(src: LiveSource, env: Readonly<Record<string, string | undefined>>): Promise<LiveRead> {
  const abort = new AbortController();
  const { kc, context, server } = configure(src, abort.signal, env);
  const where = `the API server at ${server}`;
  let timedOut: number | undefined;
  const timer = setTimeout(() => {
    timedOut = src.timeoutMs;
    abort.abort();
  }, src.timeoutMs);
  try {
    const snap = new ClusterSnapshot(kc);
    const docs = await snap.listOnce();
    const missing = snap.missing.filter((m) => /peerauthentications|destinationrules/.test(m));
    const notes = [
      `read the cluster of context ${context} (${server})`,
      ...(missing.length ? [`this cluster does not serve Istio's ${missing.join(', ')}; the mesh is judged without them`] : []),
    ];
    return { docs, notes, context, server };
  } catch (e) {
    throw new InputError(describe(e, where, context, timedOut));
  } finally {
    clearTimeout(timer);
    // Requests still running (the other lists, after one failed) end now, so the process can exit.
    abort.abort();
    await kc.destroy();
  }
}
