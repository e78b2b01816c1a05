/**
 * What the webhook records as a Kubernetes Event (never for dry-run requests): a deny, a warning,
 * a breakage acknowledged, a mode weakened, or a loosening refused.
 */
export interface AdmissionEvent {
  readonly uid: string;
  readonly object: string;
  /** '' for cluster-scoped objects (Namespaces, MeshPolicies): their Events go to `default`. */
  readonly namespace: string;
  readonly name: string;
  readonly kind: string;
  readonly decision: 'deny' | 'warn' | 'acknowledged' | 'weakened' | 'refused';
  readonly message: string;
}

/** Where Events go. The cluster client implements it; files-only setups use NO_EVENTS. */
export interface EventSink {
  record(e: AdmissionEvent): void;
}

/** A sink that records nothing. */
export const NO_EVENTS: EventSink = { record() {} };
