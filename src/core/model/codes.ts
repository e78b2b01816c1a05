/**
 * The one table of finding codes. The README lists every code, and a test checks that each code
 * is documented there and produced by at least one test.
 */

/** What a finding is about. */
export type CodeKind = 'connection' | 'config' | 'note';

/** A row of the codes table. */
export interface CodeInfo {
  readonly code: string;
  readonly name: string;
  readonly kind: CodeKind;
  /** One line for documentation. */
  readonly summary: string;
  /** A few words of fix for an admission warning, which must stay short. */
  readonly hint: string;
}

/** Every finding code mtls-guard emits. */
export const CODES = {
  MG101: {
    code: 'MG101',
    name: 'plaintext-client-into-strict',
    kind: 'connection',
    summary: 'A client without a sidecar sends plaintext to a port that becomes STRICT: connection reset (000, curl exit 56).',
    hint: 'inject a sidecar into the client or keep the port PERMISSIVE',
  },
  MG102: {
    code: 'MG102',
    name: 'sidecar-plaintext-into-strict',
    kind: 'connection',
    summary:
      'A sidecar client sends plaintext (DestinationRule DISABLE, auto mTLS off, namespace DISABLE, headless service) to a STRICT port: 503.',
    hint: 'send ISTIO_MUTUAL (DR) or keep the port PERMISSIVE',
  },
  MG103: {
    code: 'MG103',
    name: 'istio-mtls-into-no-sidecar',
    kind: 'connection',
    summary: 'A sidecar client sends Istio mTLS to a server without a sidecar: 503.',
    hint: 'add a DestinationRule with tls.mode DISABLE for the host',
  },
  MG104: {
    code: 'MG104',
    name: 'istio-mtls-into-disable',
    kind: 'connection',
    summary: 'A sidecar client sends Istio mTLS to a sidecar whose port is DISABLE (or plaintext-only legacy policy): 503.',
    hint: 'add a DestinationRule with tls.mode DISABLE, or use PERMISSIVE',
  },
  MG105: {
    code: 'MG105',
    name: 'istio-mtls-wraps-app-tls',
    kind: 'connection',
    summary:
      'Istio mTLS wraps an application TLS connection to a server outside the mesh, such as the Kubernetes API server: 000, curl exit 35.',
    hint: 'add a DestinationRule DISABLE for kubernetes.default',
  },
  MG106: {
    code: 'MG106',
    name: 'tls-origination-into-sidecar',
    kind: 'connection',
    summary: 'A DestinationRule SIMPLE or MUTUAL originates TLS that a sidecar server does not accept.',
    hint: 'use ISTIO_MUTUAL towards sidecar servers',
  },
  MG107: {
    code: 'MG107',
    name: 'plaintext-into-ambient-strict',
    kind: 'connection',
    summary: 'A client without a proxy sends plaintext to an ambient workload that becomes STRICT: rejected by ztunnel.',
    hint: 'enrol the client in the mesh or keep PERMISSIVE',
  },
  MG108: {
    code: 'MG108',
    name: 'tls-origination-into-plaintext-app',
    kind: 'connection',
    summary:
      'A DestinationRule SIMPLE or MUTUAL originates TLS towards a pod without a sidecar whose application speaks plaintext: 503 on HTTP ports.',
    hint: 'use DISABLE towards servers without a sidecar that speak plaintext',
  },
  MG109: {
    code: 'MG109',
    name: 'route-to-missing-subset',
    kind: 'connection',
    summary:
      'A VirtualService sends calls to a DestinationRule subset that is not defined, or selects no endpoint: 503 on HTTP ports, the connection closed elsewhere.',
    hint: 'keep the subset until no route sends to it',
  },
  MG201: {
    code: 'MG201',
    name: 'probe-on-strict-port',
    kind: 'config',
    summary: 'An HTTP or gRPC kubelet probe targets a STRICT port and is not rewritten: the pod restarts or goes unready.',
    hint: 'enable probe rewriting or keep the probe port PERMISSIVE',
  },
  MG202: {
    code: 'MG202',
    name: 'authz-mtls-fields-on-plaintext',
    kind: 'config',
    summary: 'An AuthorizationPolicy uses mTLS-only fields on a workload that still accepts plaintext.',
    hint: 'make the workload STRICT first',
  },
  MG203: {
    code: 'MG203',
    name: 'same-level-conflict',
    kind: 'config',
    summary: 'Another policy already holds this level; Istio uses the oldest and silently ignores the newer one.',
    hint: 'merge into the older object',
  },
  MG204: {
    code: 'MG204',
    name: 'root-selector-ignored',
    kind: 'config',
    summary: 'A PeerAuthentication with a selector in the root namespace is ignored by Istio.',
    hint: 'move it out of the root namespace',
  },
  MG205: {
    code: 'MG205',
    name: 'not-in-this-version',
    kind: 'config',
    summary: 'The object or field has no effect in the Istio version of this mesh.',
    hint: 'this Istio version ignores it',
  },
  MG206: {
    code: 'MG206',
    name: 'port-level-without-selector',
    kind: 'config',
    summary: 'portLevelMtls on a PeerAuthentication without a selector is ignored.',
    hint: 'put portLevelMtls on a workload policy',
  },
  MG207: {
    code: 'MG207',
    name: 'unknown-target-port',
    kind: 'config',
    summary: 'A legacy Policy or a port-level setting names a port that the Service or workload does not have.',
    hint: 'use the port the setting is keyed by',
  },
  MG208: {
    code: 'MG208',
    name: 'legacy-name-ignored',
    kind: 'config',
    summary: 'A MeshPolicy, or a Policy without targets, that is not named `default` is ignored by Istio.',
    hint: 'name it "default"',
  },
  MG301: {
    code: 'MG301',
    name: 'version-assumed',
    kind: 'note',
    summary: 'No Istio version was found in the snapshot; a default was assumed.',
    hint: 'pass --istio-version',
  },
  MG302: {
    code: 'MG302',
    name: 'evidence-degraded',
    kind: 'note',
    summary: 'Traffic evidence is missing, stale or unavailable; findings fall back to `possible`.',
    hint: 'check the telemetry source',
  },
  MG303: {
    code: 'MG303',
    name: 'not-evaluated',
    kind: 'note',
    summary: 'The object could not be evaluated, or evaluation ran out of time; it is allowed with this warning.',
    hint: 'check the mtls-guard logs',
  },
} as const satisfies Record<string, CodeInfo>;

/** A finding code. */
export type Code = keyof typeof CODES;

/** All rows of the table, in code order. */
export const ALL_CODES: readonly CodeInfo[] = Object.values(CODES);
