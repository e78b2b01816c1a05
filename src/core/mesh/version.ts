import type { IstioVersion } from '../model/model.js';

/** The version assumed when neither the snapshot nor a flag names one. */
export const DEFAULT_ISTIO_VERSION = '1.28.0';

/**
 * Parses an Istio version or image tag: `1.4.6`, `v1.22`, `1.20.0-distroless`.
 * Returns null when the string does not start with a major.minor version.
 */
export function parseVersion(raw: string): IstioVersion | null {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(raw.trim());
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), raw: raw.trim() };
}

/** True when `v` is at least `major.minor`. */
export function atLeast(v: IstioVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** Version switches that change mTLS behaviour (docs/semantics.md §1–§4). */
export interface VersionFeatures {
  /** PeerAuthentication exists (1.5+). */
  readonly peerAuthentication: boolean;
  /** authentication.istio.io/v1alpha1 Policy/MeshPolicy are read (≤1.5). */
  readonly legacyPolicies: boolean;
  /** 1.5 only: alpha policies apply to workloads that no PeerAuthentication covers. */
  readonly legacyCoexistence: boolean;
  /** Auto mTLS default when mesh config does not set it. */
  readonly autoMtlsDefault: boolean;
  /** Auto mTLS exists at all (1.4+). */
  readonly autoMtlsAvailable: boolean;
  /** Auto mTLS consults the endpoint's own PeerAuthentication (1.12+). */
  readonly autoMtlsChecksWorkloadPolicy: boolean;
  /** DestinationRule workloadSelector is honoured (1.14+). */
  readonly drWorkloadSelector: boolean;
  /** DestinationRule lookup is the 1.0 global most-specific match (newest wins for equal hosts). */
  readonly drGlobalLookup: boolean;
  /**
   * Rules for one host in one namespace with different exportTo stay apart instead of merging
   * (ENABLE_ENHANCED_DESTINATIONRULE_MERGE, on by default from 1.24).
   */
  readonly drKeepExportsApart: boolean;
  /** credentialName on a sidecar DR without workloadSelector yields no TLS (1.14+). */
  readonly credentialNameNeedsSelector: boolean;
  /** HTTP probes are rewritten by default (1.6+). */
  readonly probeRewriteDefault: boolean;
}

/** The feature switches for a version. */
export function features(v: IstioVersion): VersionFeatures {
  const is15 = v.major === 1 && v.minor === 5;
  return {
    peerAuthentication: atLeast(v, 1, 5),
    legacyPolicies: !atLeast(v, 1, 6),
    legacyCoexistence: is15,
    autoMtlsDefault: atLeast(v, 1, 5),
    autoMtlsAvailable: atLeast(v, 1, 4),
    autoMtlsChecksWorkloadPolicy: atLeast(v, 1, 12),
    drWorkloadSelector: atLeast(v, 1, 14),
    drGlobalLookup: !atLeast(v, 1, 1),
    drKeepExportsApart: atLeast(v, 1, 24),
    credentialNameNeedsSelector: atLeast(v, 1, 14),
    probeRewriteDefault: atLeast(v, 1, 6),
  };
}
