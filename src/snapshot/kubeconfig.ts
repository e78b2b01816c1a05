import { createHash } from 'node:crypto';
import type { RequestOptions } from 'node:https';
import * as k8s from '@kubernetes/client-node';

type RequestContext = Parameters<k8s.KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * A kubeconfig whose requests share one connection pool. client-node 2 gives every request a new
 * undici Agent, so each list page, watch and Event opened its own TLS connection (HTTP/2 session
 * included) and held it until idle: 80 of them, about 4 MB of heap, right after a 10k-Pod sync.
 * The pool is kept while the TLS material stays the same, and replaced (the old one closed once
 * its requests end) when a rotated certificate or CA changes it.
 */
export class PooledKubeConfig extends k8s.KubeConfig {
  private pool: { key: string; dispatcher: Dispatcher } | undefined;
  private closed = false;

  /** A pooled copy of a loaded kubeconfig: the same clusters, users, contexts and current context. */
  static from(kc: k8s.KubeConfig): PooledKubeConfig {
    const p = new PooledKubeConfig();
    p.loadFromOptions({ clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
    return p;
  }

  /** client-node's per-request setup, with the request's fresh Agent swapped for the pool. */
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    // An Agent that has not dispatched holds no socket: the fresh one is simply dropped.
    if (!context.getDispatcher() || this.closed) return;
    const key = await this.tlsKey();
    if (this.pool?.key !== key) {
      const old = this.pool?.dispatcher;
      this.pool = { key, dispatcher: context.getDispatcher()! };
      void old?.close().catch(() => {});
    }
    context.setDispatcher(this.pool.dispatcher);
  }

  /** Closes the pool once its requests have ended; later requests get their own Agent again. */
  async close(): Promise<void> {
    this.closed = true;
    const d = this.pool?.dispatcher;
    this.pool = undefined;
    await d?.close().catch(() => {});
  }

  /** What the connection depends on: the server, the proxy and the TLS material, hashed. */
  private async tlsKey(): Promise<string> {
    const o: RequestOptions = {};
    await this.applyToHTTPSOptions(o);
    const c = this.getCurrentCluster();
    const h = createHash('sha256').update(JSON.stringify([c?.server, c?.proxyUrl, o.rejectUnauthorized, o.servername]));
    for (const part of [o.ca, o.cert, o.key, o.pfx])
      for (const x of [part ?? ''].flat()) h.update('\0').update(typeof x === 'string' || Buffer.isBuffer(x) ? x : JSON.stringify(x));
    return h.digest('hex');
  }
}

/** A kubeconfig from a file, else in-cluster or ~/.kube/config, with its requests sharing one connection pool. */
export function loadKubeConfig(file?: string): PooledKubeConfig {
  const kc = new k8s.KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return PooledKubeConfig.from(kc);
}
