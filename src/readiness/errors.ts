import { MtlsGuardError } from '../core/model/errors.js';

/** What the PolicyReport writer was doing when the API server refused or failed. */
export type ReportOperation = 'discover' | 'list' | 'apply' | 'delete';

/**
 * A PolicyReport could not be discovered, listed, written or deleted (RBAC, a terminating
 * namespace, an API server away). Never fatal: the report is written again on a later round.
 */
export class PolicyReportError extends MtlsGuardError {
  readonly operation: ReportOperation;
  /** The namespace of the report; empty for discovery and the cluster-wide list. */
  readonly namespace: string;
  /** The API server's HTTP status, when it answered. */
  readonly status: number | undefined;
  constructor(operation: ReportOperation, namespace: string, status: number | undefined, cause: string) {
    const what = namespace ? `${operation} PolicyReport ${namespace}/mtls-guard` : `${operation} PolicyReports`;
    super('E_POLICY_REPORT', `${what} failed${status ? ` (HTTP ${status})` : ''}: ${cause}`);
    this.operation = operation;
    this.namespace = namespace;
    this.status = status;
  }
}
