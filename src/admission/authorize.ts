/**
 * The two permissions that let a user loosen the guard, as Kubernetes RBAC attributes, so that
 * cluster admins grant them with ordinary Roles (DESIGN.md §4). The webhook asks the API server
 * with a SubjectAccessReview; this module holds only the vocabulary and the port.
 */

/** The API group of mtls-guard's own RBAC attributes. No resource of it is served: RBAC needs none. */
export const AUTHZ_GROUP = 'mtls-guard.io';

/** Who made the request, as the API server authenticated them (AdmissionReview `request.userInfo`). */
export interface UserInfo {
  readonly username: string;
  readonly uid: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** One of the two permissions, in one namespace. */
export interface Permission {
  readonly verb: 'weaken' | 'acknowledge';
  readonly resource: 'modes' | 'breakages';
  readonly namespace: string;
  /** For `weaken`, the mode asked for, so that a Role may allow `warn` and not `off` (resourceNames). */
  readonly name?: string;
}

/** Weakening a namespace's mode (enforce > warn > dry-run > off). */
export function weakenPermission(namespace: string, to: string): Permission {
  return { verb: 'weaken', resource: 'modes', namespace, name: to };
}

/** Acknowledging a breakage of an object in this namespace (the root namespace for cluster-scoped ones). */
export function acknowledgePermission(namespace: string): Permission {
  return { verb: 'acknowledge', resource: 'breakages', namespace };
}

/** The API server's answer. `reason` is what its authorizers said, when anything. */
export interface AuthzAnswer {
  readonly allowed: boolean;
  readonly reason?: string;
}

/**
 * Asks whether a user holds a permission. Rejects (with an Error) when it cannot find out, for
 * example when the API server does not answer within `timeoutMs`; callers then refuse.
 */
export interface Authorizer {
  check(user: UserInfo, permission: Permission, timeoutMs: number): Promise<AuthzAnswer>;
}

/** For a webhook serving from files: no API server to ask, so no permission can be shown and loosening is refused. */
export const NO_AUTHORIZER: Authorizer = {
  check: async () => {
    throw new Error('mtls-guard serves from files and has no Kubernetes API server to ask');
  },
};

/** The names of the chart's two ClusterRoles, one per permission, under a prefix (the release's full name). */
export function clusterRoleFor(p: Permission, prefix: string): string {
  return `${prefix}-${p.verb === 'weaken' ? 'weaken-mode' : 'acknowledge-breakage'}`;
}

const SERVICE_ACCOUNT = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** kubectl's subject flag for a user: `--serviceaccount=ns:name` for ServiceAccounts, else `--user=`. */
function subjectFlag(username: string): string {
  const sa = SERVICE_ACCOUNT.exec(username);
  return sa ? `--serviceaccount=${sa[1]}:${sa[2]}` : `--user=${username}`;
}

/** A RoleBinding name from the user's name: lower case, [a-z0-9-], at most 63 characters. */
function bindingName(p: Permission, username: string): string {
  const who =
    username
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+/, '') || 'user';
  return `mtls-guard-${p.verb}-${who}`.slice(0, 63).replace(/-+$/, '');
}

/** The one kubectl line with which an admin grants the permission to this user. */
export function grantCommand(p: Permission, username: string, rolePrefix: string): string {
  return `kubectl create rolebinding ${bindingName(p, username)} -n ${p.namespace} --clusterrole=${clusterRoleFor(p, rolePrefix)} ${subjectFlag(username)}`;
}

/** `verb resource.group in namespace ns`, as RBAC names it. */
export function describePermission(p: Permission): string {
  return `verb "${p.verb}" on "${p.resource}.${AUTHZ_GROUP}" in namespace ${p.namespace}`;
}
