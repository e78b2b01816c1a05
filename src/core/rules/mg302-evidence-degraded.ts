import type { ConfigRule } from './rule.js';
import { configFinding } from './config-finding.js';

/** MG302: telemetry is down or stale, so no finding can claim `observed`. */
export const evidenceDegraded: ConfigRule = {
  code: 'MG302',
  check(_before, after) {
    const t = after.data.traffic;
    if (!t?.degraded) return [];
    return [
      configFinding(
        'MG302',
        t.source,
        `traffic evidence is unavailable (${t.degraded}); findings fall back to possible`,
        'check the telemetry source',
        'possible',
      ),
    ];
  },
};
