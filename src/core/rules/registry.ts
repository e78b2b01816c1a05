import type { Code } from '../model/codes.js';
import type { ConfigRule, ConnectionRule } from './rule.js';
import { CASE_COUNT, type Case } from '../model/cases.js';
import type { Outcome } from '../traffic/outcome.js';
import { plaintextClientIntoStrict } from './mg101-plaintext-client-into-strict.js';
import { sidecarPlaintextIntoStrict } from './mg102-sidecar-plaintext-into-strict.js';
import { istioMtlsIntoNoSidecar } from './mg103-istio-mtls-into-no-sidecar.js';
import { istioMtlsIntoDisable } from './mg104-istio-mtls-into-disable.js';
import { istioMtlsWrapsAppTls } from './mg105-istio-mtls-wraps-app-tls.js';
import { tlsOriginationIntoSidecar } from './mg106-tls-origination-into-sidecar.js';
import { plaintextIntoAmbientStrict } from './mg107-plaintext-into-ambient-strict.js';
import { tlsOriginationIntoPlaintextApp } from './mg108-tls-origination-into-plaintext-app.js';
import { routeToMissingSubset } from './mg109-route-to-missing-subset.js';
import { probeOnStrictPort } from './mg201-probe-on-strict-port.js';
import { authzMtlsFields } from './mg202-authz-mtls-fields.js';
import { sameLevelConflict } from './mg203-same-level-conflict.js';
import { rootSelectorIgnored } from './mg204-root-selector-ignored.js';
import { notInThisVersion } from './mg205-not-in-this-version.js';
import { portLevelWithoutSelector } from './mg206-port-level-without-selector.js';
import { unknownTargetPort } from './mg207-unknown-target-port.js';
import { legacyNameIgnored } from './mg208-legacy-name-ignored.js';
import { versionAssumed } from './mg301-version-assumed.js';
import { evidenceDegraded } from './mg302-evidence-degraded.js';

/** The rules of breakage between a client and a server, in code order. */
export const CONNECTION_RULE_LIST: readonly ConnectionRule[] = [
  plaintextClientIntoStrict,
  sidecarPlaintextIntoStrict,
  istioMtlsIntoNoSidecar,
  istioMtlsIntoDisable,
  istioMtlsWrapsAppTls,
  tlsOriginationIntoSidecar,
  plaintextIntoAmbientStrict,
  tlsOriginationIntoPlaintextApp,
  routeToMissingSubset,
];

/** The rules that explain a breaking connection, by the cause code the outcome engine reports. */
export const CONNECTION_RULES: ReadonlyMap<Code, ConnectionRule> = new Map(CONNECTION_RULE_LIST.map((r) => [r.code, r]));

/** The rule that claims each endpoint case, by case; undefined for the cases that work. */
export const RULE_OF_CASE: readonly (ConnectionRule | undefined)[] = Array.from({ length: CASE_COUNT }, (_, c) =>
  CONNECTION_RULE_LIST.find((r) => r.cases.includes(c as Case)),
);

/**
 * Why a break follows from the configuration alone (DESIGN.md §2, `certain` evidence), as its
 * rule says; undefined when the rule does not say so, or only some endpoints fail.
 */
export function certainty(now: Outcome): string | undefined {
  if (now.partial || !now.cause) return undefined;
  return CONNECTION_RULES.get(now.cause)?.certain?.(now);
}

/** The rules that need no connection pair, run on every change. */
export const CONFIG_RULES: readonly ConfigRule[] = [
  probeOnStrictPort,
  authzMtlsFields,
  sameLevelConflict,
  rootSelectorIgnored,
  notInThisVersion,
  portLevelWithoutSelector,
  unknownTargetPort,
  legacyNameIgnored,
  versionAssumed,
  evidenceDegraded,
];
