/**
 * Writes the PolicyReports a round calls for, and deletes the ones it no longer does, only where
 * the cluster serves `wgpolicyk8s.io/v1alpha2`. Each report is written with server-side apply
 * under one field manager, so that a write creates or updates in place and replicas writing the
 * same report agree instead of conflicting.
 */
import * as k8s from '@kubernetes/client-node';
import { apiStatusOf } from '../core/model/errors.js';
import { PolicyReportError, type ReportOperation } from './errors.js';
import { MANAGED_BY, MANAGED_BY_LABEL, POLICY_REPORT_API_VERSION, REPORT_NAME, type PolicyReport } from './policy-report.js';

/** The field manager of every write, as `kubectl get -o yaml --show-managed-fields` names it. */
export const FIELD_MANAGER = 'mtls-guard';

/** Where reports go; the publisher needs only this. */
export interface ReportSink {
  /** Makes the cluster's reports match `desired` (by namespace). Never throws: failures are returned and retried later. */
  sync(desired: ReadonlyMap<string, PolicyReport>): Promise<SyncResult>;
  /** True when a sync left something to do (a failed write, a CRD to look for again, a periodic full pass) and it is time. */
  due(nowMs: number): boolean;
}

/** What one sync did. */
export interface SyncResult {
  /** False when the cluster does not serve PolicyReports: nothing was written. */
  readonly served: boolean;
  readonly applied: readonly string[];
  readonly deleted: readonly string[];
  readonly failed: readonly PolicyReportError[];
}

/** Timing and hooks of the writer. */
export interface WriterOptions {
  /** Logs what an operator should know: the CRD is absent (once), appeared, or writes fail. */
  readonly log: (level: 'info' | 'warn', msg: string) => void;
  /** Each write and delete, for the metrics. */
  readonly onWrite?: (operation: 'apply' | 'delete', ok: boolean) => void;
  readonly now?: () => number;
  /** How often to look again for a CRD that is not served. */
  readonly rediscoverMs?: number;
  /** How soon to try again after a failed write. */
  readonly retryMs?: number;
  /** How often to list the cluster's reports again and rewrite them all, repairing reports deleted or edited by hand. */
  readonly resyncMs?: number;
  /** Writes in flight at once. */
  readonly concurrency?: number;
}

const GROUP = 'wgpolicyk8s.io';
const VERSION = 'v1alpha2';

/** The PolicyReport writer against a live API server. */
export class PolicyReportWriter implements ReportSink {
  private readonly api: k8s.KubernetesObjectApi;
  private readonly apis: k8s.ApisApi;
  private readonly o: Required<Omit<WriterOptions, 'onWrite'>> & Pick<WriterOptions, 'onWrite'>;
  private served: boolean | undefined;
  private checkedAt = -Infinity;
  private saidAbsent = false;
  /** The report text last written per namespace; '' for a report found in the cluster but not written by this process. */
  private known: Map<string, string> | undefined;
  private listedAt = -Infinity;
  private retryAt: number | undefined;
  private lastError = '';

  constructor(kc: k8s.KubeConfig, opts: WriterOptions) {
    this.api = k8s.KubernetesObjectApi.makeApiClient(kc);
    this.apis = kc.makeApiClient(k8s.ApisApi);
    this.o = { now: () => Date.now(), rediscoverMs: 60_000, retryMs: 30_000, resyncMs: 600_000, concurrency: 4, ...opts };
  }

  due(nowMs: number): boolean {
    if (this.served === false) return nowMs - this.checkedAt >= this.o.rediscoverMs;
    return (this.retryAt !== undefined && nowMs >= this.retryAt) || (this.served === true && nowMs - this.listedAt >= this.o.resyncMs);
  }

  async sync(desired: ReadonlyMap<string, PolicyReport>): Promise<SyncResult> {
    const failed: PolicyReportError[] = [];
    const result = (served: boolean, applied: string[] = [], deleted: string[] = []): SyncResult => {
      this.retryAt = failed.length ? this.o.now() + this.o.retryMs : undefined;
      this.report(failed);
      return { served, applied, deleted, failed };
    };
    try {
      if (!(await this.isServed())) return result(false);
      if (!this.known || this.o.now() - this.listedAt >= this.o.resyncMs) await this.listExisting();
    } catch (e) {
      failed.push(e as PolicyReportError);
      return result(this.served === true);
    }
    const known = this.known!;
    const applied: string[] = [];
    const deleted: string[] = [];
    const jobs: (() => Promise<void>)[] = [];
    for (const [ns, report] of desired) {
      const text = JSON.stringify(report);
      if (known.get(ns) === text) continue;
      jobs.push(async () => {
        const err = await this.attempt('apply', ns, () =>
          this.api.patch(report, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply),
        );
        if (err) failed.push(err);
        else {
          known.set(ns, text);
          applied.push(ns);
        }
      });
    }
    for (const ns of known.keys()) {
      if (desired.has(ns)) continue;
      jobs.push(async () => {
        const err = await this.attempt('delete', ns, () =>
          this.api.delete({ apiVersion: POLICY_REPORT_API_VERSION, kind: 'PolicyReport', metadata: { name: REPORT_NAME, namespace: ns } }),
        );
        if (err) failed.push(err);
        else {
          known.delete(ns);
          deleted.push(ns);
        }
      });
    }
    await pool(jobs, this.o.concurrency);
    return result(true, applied.sort(), deleted.sort());
  }

  /** One write; a 404 on delete means it is gone already, which is what was asked. */
  private async attempt(op: 'apply' | 'delete', ns: string, call: () => Promise<unknown>): Promise<PolicyReportError | undefined> {
    try {
      await call();
    } catch (e) {
      const status = apiStatusOf(e);
      if (!(op === 'delete' && status === 404)) {
        this.o.onWrite?.(op, false);
        // The CRD may have been removed: look again before the next write.
        if (op === 'apply' && status === 404) this.served = undefined;
        return new PolicyReportError(op, ns, status, messageOf(e));
      }
    }
    this.o.onWrite?.(op, true);
    return undefined;
  }

  /** Whether the cluster serves wgpolicyk8s.io/v1alpha2, looked up again only now and then while it does not. */
  private async isServed(): Promise<boolean> {
    const now = this.o.now();
    if (this.served === true || (this.served === false && now - this.checkedAt < this.o.rediscoverMs)) return this.served;
    let served: boolean;
    try {
      const list = await this.apis.getAPIVersions();
      served = list.groups.some((g) => g.name === GROUP && g.versions.some((v) => v.version === VERSION));
    } catch (e) {
      throw wrap('discover', '', e);
    }
    this.checkedAt = now;
    if (!served && !this.saidAbsent) {
      this.saidAbsent = true;
      this.o.log(
        'info',
        `PolicyReports: ${GROUP}/${VERSION} is not served by this cluster, so none are written (readiness is still in /metrics); ` +
          'install the PolicyReport CRD (kubernetes-sigs/wg-policy-prototypes) to get them',
      );
    } else if (served && this.saidAbsent) {
      this.saidAbsent = false;
      this.o.log('info', `PolicyReports: ${GROUP}/${VERSION} is served now; writing them`);
    }
    if (!served) this.known = undefined;
    this.served = served;
    return served;
  }

  /** The reports this writer owns in the cluster: those named mtls-guard with its label. */
  private async listExisting(): Promise<void> {
    const known = new Map<string, string>();
    let cont: string | undefined;
    try {
      do {
        const page = await this.api.list(
          POLICY_REPORT_API_VERSION,
          'PolicyReport',
          undefined,
          undefined,
          undefined,
          undefined,
          `metadata.name=${REPORT_NAME}`,
          `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
          500,
          cont,
        );
        for (const item of page.items) if (item.metadata?.namespace) known.set(item.metadata.namespace, '');
        cont = page.metadata?._continue || undefined;
      } while (cont);
    } catch (e) {
      throw wrap('list', '', e);
    }
    // Texts are forgotten: every desired report is applied again (an unchanged one is a no-op for
    // the API server), which repairs a report that someone edited or deleted by hand.
    this.known = known;
    this.listedAt = this.o.now();
  }

  /** Logs failures when they change, not on every retry; says so once they stop. */
  private report(failed: readonly PolicyReportError[]): void {
    const first = failed[0]?.message ?? '';
    if (first === this.lastError) return;
    if (first) {
      const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
      this.o.log('warn', `PolicyReports: ${first}${more}; trying again in ${Math.round(this.o.retryMs / 1000)} s`);
    } else this.o.log('info', 'PolicyReports: written again after the failures above');
    this.lastError = first;
  }
}

function messageOf(e: unknown): string {
  const body = (e as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      const m = (JSON.parse(body) as { message?: unknown }).message;
      if (typeof m === 'string') return m;
    } catch {
      // Not JSON: the text itself follows.
    }
    return body.slice(0, 256);
  }
  const m = (body as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' ? m : ((e as Error)?.message ?? String(e));
}

function wrap(op: ReportOperation, ns: string, e: unknown): PolicyReportError {
  return new PolicyReportError(op, ns, apiStatusOf(e), messageOf(e));
}

/** Runs jobs with at most `n` in flight. */
async function pool(jobs: readonly (() => Promise<void>)[], n: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
}
