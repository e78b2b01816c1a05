import type { Change, IstioObject } from '../core/model/model.js';
import { MtlsGuardError, UnsupportedKindError } from '../core/model/errors.js';
import { clip, describeValue, isObject, parseIstioObject, parseIstioRef, type Json } from '../core/model/objects.js';
import type { MeshIndex } from '../core/mesh/mesh-index.js';
import type { UserInfo } from './authorize.js';

/** A body that is JSON but not an `admission.k8s.io/v1` AdmissionReview with a request. */
export class NotAdmissionReviewError extends MtlsGuardError {
  constructor(why: string) {
    super('E_NOT_ADMISSION_REVIEW', `not an admission.k8s.io/v1 AdmissionReview: ${why}`);
  }
}

/** The operations of an AdmissionReview request. */
export const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;
/** One of `OPERATIONS`. */
export type Operation = (typeof OPERATIONS)[number];

/** The parts of an AdmissionReview request that mtls-guard reads. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly operation: Operation;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly namespace: string;
  readonly name: string;
  /** The same as `user.username`. */
  readonly username: string;
  readonly user: UserInfo;
  readonly dryRun: boolean;
  readonly object: Json | null;
  readonly oldObject: Json | null;
}

/**
 * Bounds on what a request may carry. The API server stays far inside them; anything past them
 * was not sent by an API server, and is refused rather than carried into logs, metrics or a
 * SubjectAccessReview.
 */
export const REQUEST_LIMITS = {
  /** Kubernetes UIDs are 36 characters. */
  uid: 128,
  /** Names, namespaces, kinds, groups, versions and operations: a DNS subdomain at most. */
  name: 253,
  username: 1024,
  groups: 1000,
  extraKeys: 100,
  extraValues: 100,
} as const;

/** A string field, or '' when absent or not a string; cut to `max` so that nothing unbounded travels on. */
function field(v: unknown, max: number = REQUEST_LIMITS.name): string {
  return typeof v === 'string' ? v.slice(0, max) : '';
}

function strings(v: unknown, max: number, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new NotAdmissionReviewError(`${what} is not a list`);
  if (v.length > max) throw new NotAdmissionReviewError(`${what} has more than ${max} entries`);
  for (const x of v)
    if (typeof x !== 'string' || x.length > REQUEST_LIMITS.username)
      throw new NotAdmissionReviewError(`${what} holds something other than short strings`);
  return v as string[];
}

function userInfo(v: unknown): UserInfo {
  const u = isObject(v) ? v : {};
  const username = u['username'];
  if (username !== undefined && (typeof username !== 'string' || username.length > REQUEST_LIMITS.username)) {
    throw new NotAdmissionReviewError(`request.userInfo.username is not a string of at most ${REQUEST_LIMITS.username} characters`);
  }
  const extra: Record<string, string[]> = {};
  if (isObject(u['extra'])) {
    const keys = Object.keys(u['extra']);
    if (keys.length > REQUEST_LIMITS.extraKeys)
      throw new NotAdmissionReviewError(`request.userInfo.extra has more than ${REQUEST_LIMITS.extraKeys} keys`);
    for (const k of keys) {
      if (k.length > REQUEST_LIMITS.name) throw new NotAdmissionReviewError('request.userInfo.extra has a key that is too long');
      extra[k] = strings(u['extra'][k], REQUEST_LIMITS.extraValues, 'request.userInfo.extra');
    }
  }
  return {
    username: typeof username === 'string' ? username : '',
    uid: field(u['uid'], REQUEST_LIMITS.uid),
    groups: strings(u['groups'], REQUEST_LIMITS.groups, 'request.userInfo.groups'),
    extra,
  };
}

/**
 * Validates the envelope (DESIGN.md §5). Throws NotAdmissionReviewError; never anything else. The
 * body is untrusted: only strings are read as strings, and nothing in it is serialised whole.
 */
export function decodeReview(body: unknown): AdmissionRequest {
  if (!isObject(body)) throw new NotAdmissionReviewError('the body is not a JSON object');
  if (body['apiVersion'] !== 'admission.k8s.io/v1')
    throw new NotAdmissionReviewError(`apiVersion is ${describeValue(body['apiVersion'] ?? null)}`);
  if (body['kind'] !== 'AdmissionReview') throw new NotAdmissionReviewError(`kind is ${describeValue(body['kind'] ?? null)}`);
  const r = body['request'];
  if (!isObject(r)) throw new NotAdmissionReviewError('request is missing');
  const uid = r['uid'];
  if (typeof uid !== 'string' || uid === '') throw new NotAdmissionReviewError('request.uid is missing');
  if (uid.length > REQUEST_LIMITS.uid) throw new NotAdmissionReviewError(`request.uid is longer than ${REQUEST_LIMITS.uid} characters`);
  const operation = r['operation'];
  // The API server sends only these; anything else is not its request, and is refused rather than allowed.
  if (!OPERATIONS.includes(operation as Operation))
    throw new NotAdmissionReviewError(`request.operation is ${describeValue(operation ?? null)}; expected one of ${OPERATIONS.join(', ')}`);
  const kind = isObject(r['kind']) ? r['kind'] : {};
  const user = userInfo(r['userInfo']);
  return {
    uid,
    operation: operation as Operation,
    kind: { group: field(kind['group']), version: field(kind['version']), kind: field(kind['kind']) },
    namespace: field(r['namespace']),
    name: field(r['name']),
    username: user.username,
    user,
    dryRun: r['dryRun'] === true,
    object: isObject(r['object']) ? r['object'] : null,
    oldObject: isObject(r['oldObject']) ? r['oldObject'] : null,
  };
}

/** What a request asks the engine to judge, or why it is not judged. */
export type Decoded = { readonly kind: 'change'; readonly change: Change } | { readonly kind: 'skip'; readonly why: string };

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
  if (op === 'DELETE' && EXEMPT_DELETERS.includes(req.username))
    return { kind: 'skip', why: `deletes by ${req.username} are never denied` };
  const ns = req.namespace || 'default';
  const raw = op === 'DELETE' ? req.oldObject : req.object;
  let object: IstioObject | undefined;
  if (raw) object = parseIstioObject(raw, ns);
  else if (op === 'DELETE' && idx) {
    const ref = parseIstioRef(
      { apiVersion: `${req.kind.group}/${req.kind.version}`, kind: req.kind.kind, metadata: { name: req.name, namespace: ns } },
      ns,
    );
    object = idx.find(ref);
    if (!object)
      return { kind: 'skip', why: `${ref.kind} ${ref.namespace}/${ref.name} is not in the snapshot, so deleting it changes nothing` };
  }
  if (!object)
    throw new UnsupportedKindError(
      `${clip(`${req.kind.group}/${req.kind.version}`)} ${clip(req.kind.kind)} without ${op === 'DELETE' ? 'oldObject' : 'object'}`,
    );
  return { kind: 'change', change: { operation: op, object } };
}
