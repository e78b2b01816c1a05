import type { Change, IstioObject } from '../core/model.js';
import { MtlsGuardError, UnsupportedKindError } from '../core/errors.js';
import { isObject, parseIstioObject, parseIstioRef, type Json } from '../core/objects.js';
import type { MeshIndex } from '../core/index.js';

/** A body that is JSON but not an `admission.k8s.io/v1` AdmissionReview with a request. */
export class NotAdmissionReviewError extends MtlsGuardError {
  constructor(why: string) {
    super('E_NOT_ADMISSION_REVIEW', `not an admission.k8s.io/v1 AdmissionReview: ${why}`);
  }
}

/** The parts of an AdmissionReview request that mtls-guard reads. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly operation: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly namespace: string;
  readonly name: string;
  readonly username: string;
  readonly dryRun: boolean;
  readonly object: Json | null;
  readonly oldObject: Json | null;
}

/** Validates the envelope (DESIGN.md §5). Throws NotAdmissionReviewError; never anything else. */
export function decodeReview(body: unknown): AdmissionRequest {
  if (!isObject(body)) throw new NotAdmissionReviewError('the body is not a JSON object');
  if (body['apiVersion'] !== 'admission.k8s.io/v1') throw new NotAdmissionReviewError(`apiVersion is ${JSON.stringify(body['apiVersion'] ?? null)}`);
  if (body['kind'] !== 'AdmissionReview') throw new NotAdmissionReviewError(`kind is ${JSON.stringify(body['kind'] ?? null)}`);
  const r = body['request'];
  if (!isObject(r)) throw new NotAdmissionReviewError('request is missing');
  if (typeof r['uid'] !== 'string' || r['uid'] === '') throw new NotAdmissionReviewError('request.uid is missing');
  const kind = isObject(r['kind']) ? r['kind'] : {};
  const user = isObject(r['userInfo']) ? r['userInfo'] : {};
  return {
    uid: r['uid'],
    operation: typeof r['operation'] === 'string' ? r['operation'] : '',
    kind: { group: String(kind['group'] ?? ''), version: String(kind['version'] ?? ''), kind: String(kind['kind'] ?? '') },
    namespace: typeof r['namespace'] === 'string' ? r['namespace'] : '',
    name: typeof r['name'] === 'string' ? r['name'] : '',
    username: typeof user['username'] === 'string' ? user['username'] : '',
    dryRun: r['dryRun'] === true,
    object: isObject(r['object']) ? r['object'] : null,
    oldObject: isObject(r['oldObject']) ? r['oldObject'] : null,
  };
}

/** What a request asks the engine to judge, or why it is not judged. */
export type Decoded =
  | { readonly kind: 'change'; readonly change: Change }
  | { readonly kind: 'skip'; readonly why: string };

/** The controllers whose deletes are never denied (DESIGN.md §5). */
export const EXEMPT_DELETERS: readonly string[] = [
  'system:serviceaccount:kube-system:namespace-controller',
  'system:serviceaccount:kube-system:generic-garbage-collector',
];

/**
 * The change a request proposes. DELETE reads `oldObject` (or, when the API server sends none, the
 * object in the snapshot). Throws InvalidObjectError or UnsupportedKindError for objects that cannot
 * be evaluated; the caller allows those with a warning.
 */
export function toChange(req: AdmissionRequest, idx: MeshIndex | null): Decoded {
  const op = req.operation;
  if (op === 'CONNECT') return { kind: 'skip', why: 'CONNECT is not judged' };
  if (op !== 'CREATE' && op !== 'UPDATE' && op !== 'DELETE') return { kind: 'skip', why: `unknown operation ${JSON.stringify(op)}` };
  if (op === 'DELETE' && EXEMPT_DELETERS.includes(req.username)) return { kind: 'skip', why: `deletes by ${req.username} are never denied` };
  const ns = req.namespace || 'default';
  const raw = op === 'DELETE' ? req.oldObject : req.object;
  let object: IstioObject | undefined;
  if (raw) object = parseIstioObject(raw, ns);
  else if (op === 'DELETE' && idx) {
    const ref = parseIstioRef({ apiVersion: `${req.kind.group}/${req.kind.version}`, kind: req.kind.kind, metadata: { name: req.name, namespace: ns } }, ns);
    object = idx.find(ref);
    if (!object) return { kind: 'skip', why: `${ref.kind} ${ref.namespace}/${ref.name} is not in the snapshot, so deleting it changes nothing` };
  }
  if (!object) throw new UnsupportedKindError(`${req.kind.group}/${req.kind.version} ${req.kind.kind} without ${op === 'DELETE' ? 'oldObject' : 'object'}`);
  return { kind: 'change', change: { operation: op, object } };
}
