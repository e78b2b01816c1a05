import type { Code } from '../model/codes.js';
import type { Evidence } from '../model/model.js';
import type { RawFinding } from '../model/findings.js';

/** Builds a finding that has no connection pair. */
export function configFinding(
  code: Code,
  subject: string,
  message: string,
  fix: string,
  evidence: Evidence = 'certain',
  client = '-',
): RawFinding {
  return { code, evidence, client, service: subject, port: null, before: null, after: null, message, reason: message, fix };
}
