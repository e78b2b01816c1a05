import * as k8s from '@kubernetes/client-node';
import type { AdmissionEvent, EventSink } from '../admission/events.js';

/** The Event reason of each decision. */
const REASONS: Readonly<Record<AdmissionEvent['decision'], string>> = {
  deny: 'MtlsBreakageDenied',
  warn: 'MtlsBreakageWarned',
  acknowledged: 'MtlsBreakageAcknowledged',
  weakened: 'MtlsGuardModeWeakened',
  refused: 'MtlsGuardLooseningRefused',
};

/** Kubernetes truncates Event messages past this length. */
const MAX_MESSAGE = 1024;

/**
 * Records denies and warnings as core/v1 Events on the judged object. Fire-and-forget: a failure
 * is reported to `onError` and never delays or changes an admission response.
 */
export function clusterEvents(kc: k8s.KubeConfig, onError: (e: Error) => void, now: () => Date = () => new Date()): EventSink {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return {
    record(e: AdmissionEvent): void {
      const namespace = e.namespace || 'default';
      const t = now();
      const body: k8s.CoreV1Event = {
        metadata: { generateName: 'mtls-guard-', namespace },
        involvedObject: { kind: e.kind, name: e.name, ...(e.namespace ? { namespace: e.namespace } : {}) },
        reason: REASONS[e.decision],
        message: e.message.slice(0, MAX_MESSAGE),
        type: 'Warning',
        source: { component: 'mtls-guard' },
        firstTimestamp: t,
        lastTimestamp: t,
        count: 1,
      };
      core.createNamespacedEvent({ namespace, body }).catch((err: Error) => onError(err));
    },
  };
}
