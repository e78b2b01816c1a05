import forge from 'node-forge';
import { DAY_MS, generateCa, generateServing, serviceDnsNames, type KeyPair, type ServingSpec } from './certs.js';

/**
 * The certificates mtls-guard keeps in its own Secret when it manages them itself. Every field is
 * PEM text except `nextSince`, the ISO time the next CA was staged.
 */
export interface CertState {
  /** The CA that signs the serving certificate. */
  readonly ca?: KeyPair;
  /** A CA staged in the bundle, not yet signing: the first half of a CA switch. */
  readonly next?: KeyPair;
  readonly nextSince?: string;
  /** The CA the last switch retired; trusted until it expires, for servers still holding its leaf. */
  readonly previous?: string;
  readonly serving?: KeyPair;
}

/** Lifetimes and margins of self-managed certificates. */
export interface RotationPolicy {
  readonly caValidityMs: number;
  readonly servingValidityMs: number;
  /** Renew once less than this fraction of a certificate's lifetime remains. */
  readonly renewFraction: number;
  /** A staged CA signs only after it has been in the bundle this long, so every API server trusts it first. */
  readonly propagationMs: number;
}

/** Five-year CA, 90-day serving certificate, renewal at one third of life left, one minute to propagate. */
export const DEFAULT_ROTATION: RotationPolicy = {
  caValidityMs: 5 * 365 * DAY_MS,
  servingValidityMs: 90 * DAY_MS,
  renewFraction: 1 / 3,
  propagationMs: 60_000,
};

/** One change to the state, in the order a plan lists them. */
export type RotationStep =
  | { readonly kind: 'new-ca'; readonly why: string }
  | { readonly kind: 'stage-next-ca'; readonly why: string }
  | { readonly kind: 'promote-next-ca'; readonly why: string }
  | { readonly kind: 'drop-previous-ca'; readonly why: string }
  | { readonly kind: 'issue-serving'; readonly why: string };

interface Parsed {
  readonly cert: forge.pki.Certificate;
  readonly from: number;
  readonly to: number;
}

function parse(pem: string | undefined): Parsed | null {
  if (!pem) return null;
  try {
    const cert = forge.pki.certificateFromPem(pem);
    return { cert, from: cert.validity.notBefore.getTime(), to: cert.validity.notAfter.getTime() };
  } catch {
    return null;
  }
}

function keyMatches(pair: KeyPair, p: Parsed): boolean {
  try {
    const key = forge.pki.privateKeyFromPem(pair.keyPem) as forge.pki.rsa.PrivateKey;
    const pub = p.cert.publicKey as forge.pki.rsa.PublicKey;
    return key.n.equals(pub.n) && key.e.equals(pub.e);
  } catch {
    return false;
  }
}

function renewalDue(p: Parsed, now: number, fraction: number): boolean {
  return p.to - now < (p.to - p.from) * fraction;
}

function signedBy(ca: Parsed, leaf: Parsed): boolean {
  try {
    return ca.cert.verify(leaf.cert);
  } catch {
    return false;
  }
}

function coversSpec(leaf: Parsed, spec: ServingSpec): boolean {
  const san = leaf.cert.getExtension('subjectAltName') as { altNames?: { type: number; value?: string; ip?: string }[] } | null;
  const names = new Set((san?.altNames ?? []).map((a) => (a.type === 7 ? a.ip : a.value)));
  return [...serviceDnsNames(spec), ...(spec.ips ?? [])].every((n) => names.has(n));
}

/** A usable CA key pair: parses, key matches, valid now. */
function usableCa(pair: KeyPair | undefined, now: number): Parsed | null {
  const p = parse(pair?.certPem);
  return p && pair && keyMatches(pair, p) && p.from <= now && now < p.to ? p : null;
}

/**
 * What must change in `state` at `now`. Pure: the same inputs give the same plan, so replicas that
 * race on one Secret agree once they read the same version. `nextPublished` says whether every
 * webhook configuration already trusts the staged CA; it gates the switch.
 */
export function planRotation(
  state: CertState,
  now: number,
  spec: ServingSpec,
  policy: RotationPolicy,
  nextPublished: boolean,
): RotationStep[] {
  const ca = usableCa(state.ca, now);
  if (!ca) {
    const why = state.ca ? 'the CA in the Secret is unusable or expired' : 'no CA yet';
    return [
      { kind: 'new-ca', why },
      { kind: 'issue-serving', why },
    ];
  }
  const steps: RotationStep[] = [];
  const next = usableCa(state.next, now);
  let signer = ca;
  if (state.next && !next) steps.push({ kind: 'stage-next-ca', why: 'the staged CA is unusable' });
  else if (!next && renewalDue(ca, now, policy.renewFraction))
    steps.push({ kind: 'stage-next-ca', why: `the CA expires ${new Date(ca.to).toISOString()}` });
  else if (next) {
    const since = Date.parse(state.nextSince ?? '');
    const aged = Number.isFinite(since) && now - since >= policy.propagationMs;
    if (aged && nextPublished) {
      steps.push({ kind: 'promote-next-ca', why: 'the staged CA has been in every caBundle long enough' });
      signer = next;
    }
  }
  const prev = parse(state.previous);
  if (state.previous && (!prev || prev.to <= now)) steps.push({ kind: 'drop-previous-ca', why: 'the retired CA expired' });
  const leaf = parse(state.serving?.certPem);
  const leafWhy =
    !leaf || !keyMatches(state.serving!, leaf)
      ? 'no usable serving certificate'
      : signer !== ca
        ? 'the CA switched'
        : !signedBy(ca, leaf)
          ? 'the serving certificate is not signed by the CA'
          : !coversSpec(leaf, spec)
            ? 'the serving certificate does not name the service'
            : renewalDue(leaf, now, policy.renewFraction) || leaf.to <= now
              ? `the serving certificate expires ${new Date(leaf.to).toISOString()}`
              : null;
  if (leafWhy) steps.push({ kind: 'issue-serving', why: leafWhy });
  return steps;
}

/** The PEM bundle the API server must trust: the signing CA, the staged one and the retired one. */
export function caBundle(state: CertState): string {
  const pems = [state.ca?.certPem, state.next?.certPem, state.previous].filter((p): p is string => !!p).map((p) => p.trim());
  return `${[...new Set(pems)].join('\n')}\n`;
}

/** Key generation, injected so tests can count it. */
export interface CertMaker {
  ca(now: Date, validityMs: number): Promise<KeyPair>;
  serving(ca: KeyPair, spec: ServingSpec, now: Date, validityMs: number): Promise<KeyPair>;
}

/** Makes real keys and certificates (RSA, SHA-256). */
export const REAL_MAKER: CertMaker = {
  ca: (now, ms) => generateCa(now, `mtls-guard CA ${now.toISOString()}`, ms),
  serving: (ca, spec, now, ms) => generateServing(ca, spec, now, ms),
};

/** Applies a plan and returns the new state; the input is not modified. */
export async function applyRotation(
  state: CertState,
  steps: readonly RotationStep[],
  now: number,
  spec: ServingSpec,
  policy: RotationPolicy,
  make: CertMaker,
): Promise<CertState> {
  const at = new Date(now);
  let s: { -readonly [K in keyof CertState]: CertState[K] } = { ...state };
  for (const step of steps) {
    switch (step.kind) {
      case 'new-ca':
        s = { ca: await make.ca(at, policy.caValidityMs) };
        break;
      case 'stage-next-ca':
        s.next = await make.ca(at, policy.caValidityMs);
        s.nextSince = at.toISOString();
        break;
      case 'promote-next-ca':
        s.previous = s.ca!.certPem;
        s.ca = s.next!;
        delete s.next;
        delete s.nextSince;
        break;
      case 'drop-previous-ca':
        delete s.previous;
        break;
      case 'issue-serving':
        s.serving = await make.serving(s.ca!, spec, at, policy.servingValidityMs);
        break;
    }
  }
  return s;
}
