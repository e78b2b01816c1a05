import * as k8s from '@kubernetes/client-node';
import { AUTHZ_GROUP, type Authorizer, type AuthzAnswer, type Permission, type UserInfo } from '../admission/authorize.js';

/** The shortest and longest wait for the API server's answer, whatever the request's budget. */
const MIN_WAIT_MS = 200;
const MAX_WAIT_MS = 5_000;

/**
 * Asks the API server with a SubjectAccessReview whether the user of an admission request holds a
 * permission. Its groups and extra go with it: `system:masters` passes every review, so cluster
 * admins are never locked out. No answer within the time left refuses (the caller says so).
 */
export function subjectAccessReviews(kc: k8s.KubeConfig): Authorizer {
  const api = kc.makeApiClient(k8s.AuthorizationV1Api);
  return {
    async check(user: UserInfo, p: Permission, timeoutMs: number): Promise<AuthzAnswer> {
      const body: k8s.V1SubjectAccessReview = {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.username,
          uid: user.uid,
          groups: [...user.groups],
          extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])),
          resourceAttributes: {
            group: AUTHZ_GROUP,
            resource: p.resource,
            verb: p.verb,
            namespace: p.namespace,
            ...(p.name ? { name: p.name } : {}),
          },
        },
      };
      const wait = Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, timeoutMs));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the API server did not answer a SubjectAccessReview within ${wait} ms`)), wait);
      });
      try {
        const r = await Promise.race([api.createSubjectAccessReview({ body }), late]);
        return {
          allowed: r.status?.allowed === true && r.status.denied !== true,
          ...(r.status?.reason ? { reason: r.status.reason } : {}),
        };
      } catch (e) {
        const code = (e as { code?: number }).code;
        throw new Error(code ? `SubjectAccessReview failed with HTTP ${code}` : (e as Error).message);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
