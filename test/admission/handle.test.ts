// One admission request from start to decision (src/admission/handle.ts), table-driven from
// test/fixtures/admission/handle.yaml: outcomes, notes and loosenings as logs, metrics and Events
// see them. The HTTP contract around it is test/http/app.test.ts.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { handleRequest, type Budget } from '../../src/admission/handle.js';
import { decodeReview } from '../../src/admission/review.js';
import type { Labels } from '../../src/core/model/model.js';
import { loadIndex } from '../../src/cli/load.js';
import { demoIndex, fakeAuthorizer, review } from '../helpers/app.js';
import { expandChars, setPath } from '../helpers/fixture-values.js';

interface Row {
  name: string;
  review: string;
  set?: Record<string, unknown>;
  grants?: string[];
  authzFails?: boolean;
  authzReason?: string;
  budget?: { over?: boolean; remainingMs?: number };
  labels?: Record<string, Labels>;
  notes?: string[];
  noSnapshot?: boolean;
  /** A folder of manifests to judge against instead of the demo snapshot. */
  snapshot?: string;
  want: Record<string, unknown>;
  messageHas?: string[];
  warningsHave?: string[];
  noLoosening?: boolean;
  asked?: string[];
  timeouts?: number[];
}
const rows = parse(readFileSync('test/fixtures/admission/handle.yaml', 'utf8')) as Row[];

const idx = await demoIndex();
for (const row of rows) {
  t.test(row.name, async (t) => {
    const body = review(row.review);
    for (const [path, v] of Object.entries(row.set ?? {})) setPath(body, path, v, true);
    const authz = fakeAuthorizer(row.grants, row.authzFails, row.authzReason && expandChars(row.authzReason));
    const budget: Budget | undefined = row.budget && {
      over: () => row.budget!.over ?? false,
      remainingMs: () => row.budget!.remainingMs ?? 0,
    };
    const h = await handleRequest(
      decodeReview(body),
      row.noSnapshot ? null : row.snapshot ? (await loadIndex([row.snapshot], {}, 'examples/telemetry/legacy-plaintext.prom')).idx : idx,
      {
        defaultMode: 'enforce',
        denyOn: 'declared',
        authorizer: authz,
        rolePrefix: 'mtls-guard',
        ...(row.labels ? { namespaceLabels: (ns: string) => row.labels![ns] } : {}),
      },
      budget,
      row.notes ?? [],
    );
    t.match(h, row.want);
    // t.match reads a list as "starts with these": the warnings a row lists are all there are.
    const warnings = (row.want['decision'] as { warnings?: string[] } | undefined)?.warnings;
    if (warnings) t.same(h.decision.warnings, warnings, 'exactly these warnings');
    // t.match would take a string for a pattern: what is recorded as a loosening must be exactly that.
    if (row.want['loosening']) t.same(h.loosening, row.want['loosening'], 'exactly this loosening');
    if (row.noLoosening) t.notOk(h.loosening, 'no loosening recorded');
    for (const s of row.messageHas ?? [])
      t.ok(h.decision.message?.includes(expandChars(s)), `message has ${s.slice(0, 80)}`, { message: h.decision.message });
    for (const s of row.warningsHave ?? [])
      t.ok(
        h.decision.warnings.some((w) => w.includes(s)),
        `a warning has ${s}`,
        { warnings: h.decision.warnings },
      );
    if (row.asked) t.same(authz.asked, row.asked, 'permission checks');
    if (row.timeouts) t.same(authz.timeouts, row.timeouts, 'the time each check was given');
  });
}
