import type { Code } from '../model/codes.js';
import type { ConfigRule, ConnectionRule } from './rule.js';
import { plaintextClientIntoStrict } from './mg101-plaintext-client-into-strict.js';
import { sidecarPlaintextIntoStrict } from './mg102-sidecar-plaintext-into-strict.js';
import { istioMtlsIntoNoSidecar } from './mg103-istio-mtls-into-no-sidecar.js';
import { istioMtlsIntoDisable } from './mg104-istio-mtls-into-disable.js';
import { istioMtlsWrapsAppTls } from './mg105-istio-mtls-wraps-app-tls.js';
import { tlsOriginationIntoSidecar } from './mg106-tls-origination-into-sidecar.js';
import { plaintextIntoAmbientStrict } from './mg107-plaintext-into-ambient-strict.js';
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

/** The rules that explain a breaking connection, by the cause code the outcome engine reports. */
export const CONNECTION_RULES: ReadonlyMap<Code, ConnectionRule> = new Map(
  [plaintextClientIntoStrict, sidecarPlaintextIntoStrict, istioMtlsIntoNoSidecar, istioMtlsIntoDisable,
    istioMtlsWrapsAppTls, tlsOriginationIntoSidecar, plaintextIntoAmbientStrict].map((r) => [r.code, r]),
);

/** The rules that need no connection pair, run on every change. */
export const CONFIG_RULES: readonly ConfigRule[] = [
  probeOnStrictPort, authzMtlsFields, sameLevelConflict, rootSelectorIgnored, notInThisVersion,
  portLevelWithoutSelector, unknownTargetPort, legacyNameIgnored, versionAssumed, evidenceDegraded,
];
