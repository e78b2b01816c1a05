import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { apiStatusOf, CertificateError } from '../core/model/errors.js';
import type { ServingSpec } from './certs.js';
import type { ServedPair, ServingSource } from './files.js';
import { notAfterMs } from './certs.js';
import {
  applyRotation,
  caBundle,
  planRotation,
  REAL_MAKER,
  type CertMaker,
  type CertState,
  type RotationPolicy,
  type RotationStep,
} from './rotation.js';

/** Keys of the Secret that holds self-managed certificates. */
export const SECRET_KEYS = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  nextCert: 'ca-next.crt',
  nextKey: 'ca-next.key',
  nextSince: 'ca-next.since',
  previous: 'ca-previous.crt',
  cert: 'tls.crt',
  key: 'tls.key',
} as const;

/** Where self-managed certificates live and whom they are published to. */
export interface SelfManagedOptions {
  readonly namespace: string;
  readonly secretName: string;
  /** ValidatingWebhookConfigurations whose every webhook gets the caBundle. */
  readonly webhookConfigurations: readonly string[];
  readonly spec: ServingSpec;
  readonly policy: RotationPolicy;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined): string | undefined => (s ? Buffer.from(s, 'base64').toString('utf8') : undefined);

/** Reads the state from Secret data (base64 values); missing or partial pairs read as absent. */
export function stateFromSecret(data: Readonly<Record<string, string>> | undefined): CertState {
  const d = (k: string): string | undefined => unb64(data?.[k]);
  const pair = (c: string, k: string) => {
    const certPem = d(c);
    const keyPem = d(k);
    return certPem && keyPem ? { certPem, keyPem } : undefined;
  };
  const ca = pair(SECRET_KEYS.caCert, SECRET_KEYS.caKey);
  const next = pair(SECRET_KEYS.nextCert, SECRET_KEYS.nextKey);
  const serving = pair(SECRET_KEYS.cert, SECRET_KEYS.key);
  const nextSince = d(SECRET_KEYS.nextSince);
  const previous = d(SECRET_KEYS.previous);
  return {
    ...(ca ? { ca } : {}),
    ...(next ? { next } : {}),
    ...(nextSince ? { nextSince } : {}),
    ...(previous ? { previous } : {}),
    ...(serving ? { serving } : {}),
  };
}

/** Writes the state as Secret data (base64 values). */
export function secretData(s: CertState): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: string | undefined): void => {
    if (v) out[k] = b64(v);
  };
  put(SECRET_KEYS.caCert, s.ca?.certPem);
  put(SECRET_KEYS.caKey, s.ca?.keyPem);
  put(SECRET_KEYS.nextCert, s.next?.certPem);
  put(SECRET_KEYS.nextKey, s.next?.keyPem);
  put(SECRET_KEYS.nextSince, s.nextSince);
  put(SECRET_KEYS.previous, s.previous);
  put(SECRET_KEYS.cert, s.serving?.certPem);
  put(SECRET_KEYS.key, s.serving?.keyPem);
  return out;
}

function describe(e: unknown, what: string): CertificateError {
  const status = apiStatusOf(e);
  const hint = status === 403 ? " (forbidden: check the ServiceAccount's Role and ClusterRole)" : status === 404 ? ' (not found)' : '';
  const body = (e as { body?: unknown }).body;
  const cause = (e as { cause?: { message?: string } }).cause?.message;
  const msg = typeof body === 'string' ? body : `${(e as Error).message}${cause ? ` (${cause})` : ''}`;
  return new CertificateError(`${what} failed${hint}: ${String(msg).slice(0, 300)}`);
}

/** What one reconcile did. */
export interface ReconcileResult {
  readonly state: CertState;
  readonly steps: readonly RotationStep[];
  /** Webhook configurations whose caBundle was patched. */
  readonly patched: readonly string[];
  /** Configurations that do not exist (yet): nothing to publish to. */
  readonly missing: readonly string[];
}

/**
 * Keeps a CA and serving certificate in one Secret and their bundle in the webhook
 * configurations. Replicas share the Secret: every write carries the resourceVersion it was
 * planned from, and a conflict means another replica won, so the loser re-reads and re-plans.
 */
export class SelfManagedCerts implements ServingSource {
  private readonly core: k8s.CoreV1Api;
  private readonly admission: k8s.AdmissionregistrationV1Api;
  private current: ServedPair | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;

  constructor(
    kc: k8s.KubeConfig,
    private readonly opts: SelfManagedOptions,
    private readonly clock: () => number,
    private readonly apply: (p: ServedPair) => void = () => {},
    private readonly onError: (e: Error) => void = () => {},
    private readonly onChange: (r: ReconcileResult) => void = () => {},
    private readonly make: CertMaker = REAL_MAKER,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.admission = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
  }

  /** The pair in service; throws before the first successful reconcile. */
  get served(): ServedPair {
    if (!this.current) throw new CertificateError('no serving certificate yet');
    return this.current;
  }

  private async readSecret(): Promise<{ state: CertState; rv?: string }> {
    const { namespace, secretName: name } = this.opts;
    try {
      const s = await this.core.readNamespacedSecret({ name, namespace });
      return { state: stateFromSecret(s.data), ...(s.metadata?.resourceVersion ? { rv: s.metadata.resourceVersion } : {}) };
    } catch (e) {
      if (apiStatusOf(e) === 404) return { state: {} };
      throw describe(e, `reading Secret ${namespace}/${name}`);
    }
  }

  /** Writes the state; false on a conflict (another replica wrote first). */
  private async writeSecret(state: CertState, rv: string | undefined): Promise<boolean> {
    const { namespace, secretName: name } = this.opts;
    const body: k8s.V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      data: secretData(state),
      metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'mtls-guard' }, ...(rv ? { resourceVersion: rv } : {}) },
    };
    try {
      if (rv) await this.core.replaceNamespacedSecret({ name, namespace, body });
      else await this.core.createNamespacedSecret({ namespace, body });
      return true;
    } catch (e) {
      if (apiStatusOf(e) === 409) return false;
      throw describe(e, `${rv ? 'updating' : 'creating'} Secret ${namespace}/${name}`);
    }
  }

  private async readConfigs(): Promise<Map<string, k8s.V1ValidatingWebhookConfiguration | null>> {
    const out = new Map<string, k8s.V1ValidatingWebhookConfiguration | null>();
    for (const name of this.opts.webhookConfigurations) {
      try {
        out.set(name, await this.admission.readValidatingWebhookConfiguration({ name }));
      } catch (e) {
        if (apiStatusOf(e) !== 404) throw describe(e, `reading ValidatingWebhookConfiguration ${name}`);
        out.set(name, null);
      }
    }
    return out;
  }

  /**
   * Sets every webhook's caBundle to `bundle`, guarded by the resourceVersion it read. `raced` means
   * someone else changed the configuration first: read it again.
   */
  private async publish(name: string, cfg: k8s.V1ValidatingWebhookConfiguration, bundle: string): Promise<'current' | 'patched' | 'raced'> {
    const want = b64(bundle);
    const ops: object[] = [];
    (cfg.webhooks ?? []).forEach((w, i) => {
      if (w.clientConfig.caBundle !== want) ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: want });
    });
    if (ops.length === 0) return 'current';
    const body = [{ op: 'test', path: '/metadata/resourceVersion', value: cfg.metadata?.resourceVersion }, ...ops];
    try {
      await this.admission.patchValidatingWebhookConfiguration(
        { name, body },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
      );
      return 'patched';
    } catch (e) {
      const status = apiStatusOf(e);
      // A failed test op comes back as 409 or 422.
      if (status === 409 || status === 422) return 'raced';
      throw describe(e, `patching the caBundle of ValidatingWebhookConfiguration ${name}`);
    }
  }

  /** One round: read, plan, write (retrying on conflicts), publish the bundle. */
  async reconcile(): Promise<ReconcileResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { state, rv } = await this.readSecret();
      const configs = await this.readConfigs();
      const nextPem = state.next?.certPem.trim();
      const published =
        !!nextPem &&
        [...configs.values()].every(
          (c) => c !== null && (c.webhooks ?? []).every((w) => (unb64(w.clientConfig.caBundle) ?? '').includes(nextPem)),
        );
      const now = this.clock();
      const steps = planRotation(state, now, this.opts.spec, this.opts.policy, published);
      let next = state;
      if (steps.length) {
        next = await applyRotation(state, steps, now, this.opts.spec, this.opts.policy, this.make);
        if (!(await this.writeSecret(next, rv))) continue;
      }
      const bundle = caBundle(next);
      const patched: string[] = [];
      const missing: string[] = [];
      let raced = false;
      for (const [name, cfg] of configs) {
        if (!cfg) {
          missing.push(name);
          continue;
        }
        const r = await this.publish(name, cfg, bundle);
        if (r === 'patched') patched.push(name);
        raced ||= r === 'raced';
      }
      if (raced && attempt < 4) continue;
      return { state: next, steps, patched, missing };
    }
    throw new CertificateError(
      `gave up after 5 conflicting writes to Secret ${this.opts.namespace}/${this.opts.secretName} or its webhook configurations`,
    );
  }

  /** Reconciles once and applies a changed serving pair; throws what went wrong. */
  private async refresh(): Promise<boolean> {
    const r = await this.reconcile();
    if (r.steps.length || r.patched.length) this.onChange(r);
    const { certPem: cert, keyPem: key } = r.state.serving!;
    const stamp = createHash('sha256').update(cert).update(key).digest('hex');
    if (stamp === this.current?.stamp) return false;
    const pair: ServedPair = { cert, key, notAfterMs: notAfterMs(cert), stamp };
    if (this.current) this.apply(pair);
    this.current = pair;
    return true;
  }

  /** Reconciles once (one round at a time); true when a new serving pair was applied. */
  check(): Promise<boolean> {
    this.running ??= this.refresh()
      .catch((e: Error) => {
        this.onError(e);
        return false;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** The first reconcile; throws with the reason when it cannot produce a serving certificate. */
  async first(): Promise<ServedPair> {
    await this.refresh();
    return this.served;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
