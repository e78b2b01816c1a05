/** What the webhook records as a Kubernetes Event for a deny or warning (never for dry-run requests). */
export interface AdmissionEvent {
  readonly uid: string;
  readonly object: string;
  readonly namespace: string;
  readonly name: string;
  readonly kind: string;
  readonly decision: 'deny' | 'warn';
  readonly message: string;
}

/** Where Events go. The cluster client implements it; files-only setups use NO_EVENTS. */
export interface EventSink {
  record(e: AdmissionEvent): void;
}

/** A sink that records nothing. */
export const NO_EVENTS: EventSink = { record() {} };
