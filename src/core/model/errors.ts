/**
 * Errors with stable codes. Shells map them to exit code 2 (CLI), a 400 or an allow-with-warning
 * (webhook); none of them is ever a crash.
 */

/** Base class: every error mtls-guard raises on purpose has a stable `code`. */
export class MtlsGuardError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Where in the input an object sits: file, document number, and the field at fault. */
export interface InputLocation {
  readonly file?: string;
  readonly doc?: number;
  /** 1-based item of a List document. */
  readonly item?: number;
  readonly field?: string;
}

/** Formats a location as `file (document 2), field spec.mtls.mode`. */
export function formatLocation(l: InputLocation): string {
  const parts: string[] = [];
  const where = l.doc !== undefined ? `document ${l.doc}${l.item !== undefined ? `, item ${l.item}` : ''}` : '';
  if (l.file) parts.push(where ? `${l.file} (${where})` : l.file);
  else if (where) parts.push(where);
  if (l.field) parts.push(`field ${l.field}`);
  return parts.join(', ');
}

/** An object whose fields are not what its kind requires, e.g. an unknown TLS mode. */
export class InvalidObjectError extends MtlsGuardError {
  readonly field: string;
  readonly location: InputLocation;
  constructor(field: string, problem: string, location: InputLocation = {}) {
    const at = formatLocation({ ...location, field });
    super('E_INVALID_OBJECT', `${at}: ${problem}`);
    this.field = field;
    this.location = { ...location, field };
  }

  /** The same error, placed in a file and document. */
  at(location: InputLocation): InvalidObjectError {
    return new InvalidObjectError(this.field, this.message.slice(this.message.indexOf(': ') + 2), { ...this.location, ...location });
  }
}

/** A change of a kind that mtls-guard does not judge. */
export class UnsupportedKindError extends MtlsGuardError {
  constructor(what: string, location: InputLocation = {}) {
    const at = formatLocation(location);
    super(
      'E_UNSUPPORTED_KIND',
      `${at ? `${at}: ` : ''}${what} is not a kind mtls-guard judges (PeerAuthentication, DestinationRule, Policy, MeshPolicy)`,
    );
  }
}

/** Unreadable or malformed input: a missing file, broken YAML or JSON. */
export class InputError extends MtlsGuardError {
  constructor(message: string) {
    super('E_INPUT', message);
  }
}

/** Evaluation ran past the time the caller allowed (the caller's clock decides; core has none). */
export class BudgetExceededError extends MtlsGuardError {
  constructor() {
    super('E_BUDGET', 'evaluation ran out of time');
  }
}

/** A bad flag or configuration value. */
export class ConfigError extends MtlsGuardError {
  constructor(message: string) {
    super('E_CONFIG', message);
  }
}

/** Self-managed certificates could not be read, made or published. */
export class CertificateError extends MtlsGuardError {
  constructor(message: string) {
    super('E_CERTS', message);
  }
}

/** The HTTP status of a failed Kubernetes API call, whichever client shape carried it. */
export function apiStatusOf(e: unknown): number | undefined {
  const x = e as { code?: number; statusCode?: number; body?: { code?: number } } | undefined;
  return x?.code ?? x?.statusCode ?? x?.body?.code;
}

/** Traffic evidence could not be fetched or read (Prometheus down, a bad answer). */
export class EvidenceError extends MtlsGuardError {
  constructor(message: string) {
    super('E_EVIDENCE', message);
  }
}
