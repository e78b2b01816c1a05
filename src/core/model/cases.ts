/**
 * How one server endpoint takes what a client sends it (or, for the last two, why a routed call
 * reaches no endpoint at all): the cases of Istio's data plane that the engine tells apart (docs/semantics.md §5, the outcome matrix). `traffic/outcome.ts` decides the
 * case of each endpoint; a connection rule (`rules/mg1nn-*.ts`) claims the failing cases it
 * explains; a case no rule claims works.
 */
export const Case = {
  /** No sidecar at the endpoint (a plain pod, a ServiceEntry host, the API server): it takes anything but Istio mTLS. */
  BareAccepts: 0,
  /** Istio mTLS reaches an endpoint without a sidecar that speaks TLS itself (the API server, a TLS port): the inner handshake fails. */
  BareGetsMtlsOverTls: 1,
  /** Istio mTLS reaches an endpoint without a sidecar: nothing there terminates it. */
  BareGetsMtls: 2,
  /** An ambient endpoint gets HBONE, or plaintext on a port that is not STRICT. */
  AmbientAccepts: 3,
  /** Istio mTLS from a sidecar reaches an ambient endpoint, which has no sidecar to terminate it. */
  AmbientGetsMtls: 4,
  /** Plaintext reaches a STRICT ambient endpoint: its ztunnel rejects it. */
  AmbientRejectsPlaintext: 5,
  /** A sidecar endpoint takes what it gets: HBONE, Istio mTLS on a port that is not DISABLE, plaintext on a port that is not STRICT, TLS the application speaks. */
  Accepts: 6,
  /** Istio mTLS reaches a sidecar endpoint whose port is DISABLE: its listener speaks plaintext only. */
  DisabledGetsMtls: 7,
  /** TLS that is not Istio's (DestinationRule SIMPLE or MUTUAL) reaches a STRICT sidecar endpoint: it wants an Istio client certificate. */
  StrictGetsTls: 8,
  /** TLS that is not Istio's reaches a sidecar endpoint that passes it to an application speaking plaintext. */
  TlsIntoPlainApp: 9,
  /** Plaintext from a client sidecar (DISABLE, auto mTLS off or gone) reaches a STRICT sidecar endpoint: refused. */
  StrictRejectsSidecarPlaintext: 10,
  /** Plaintext from a client without a sidecar reaches a STRICT sidecar endpoint: refused. */
  StrictRejectsPlaintext: 11,
  /** TLS that is not Istio's reaches a pod without a sidecar (or past it) whose application speaks plaintext on the port. */
  BareGetsTlsIntoPlainApp: 12,
  /** A VirtualService route names a subset that the client's DestinationRule does not define: its sidecar has no cluster for it. */
  SubsetUndefined: 13,
  /** A VirtualService route names a subset whose labels select no endpoint of the service: no healthy upstream. */
  SubsetEmpty: 14,
} as const;

/** One of the cases. */
export type Case = (typeof Case)[keyof typeof Case];

/** The number of cases, for tables indexed by case. */
export const CASE_COUNT = Object.keys(Case).length;
