// The rules table: every finding code has the one rule that detects and words it, and every
// failing endpoint case belongs to exactly one connection rule.
import t from 'tap';
import { ALL_CODES } from '../../../src/core/model/codes.js';
import { Case } from '../../../src/core/model/cases.js';
import { CONFIG_RULES, CONNECTION_RULE_LIST, RULE_OF_CASE } from '../../../src/core/rules/registry.js';

/** The cases where the connection works: no rule may claim them. */
const WORKING = new Set<number>([Case.BareAccepts, Case.AmbientAccepts, Case.Accepts]);

t.test('each failing case is claimed by exactly one connection rule, and no working case is', async (t) => {
  for (const [name, c] of Object.entries(Case)) {
    const claimants = CONNECTION_RULE_LIST.filter((r) => r.cases.includes(c));
    t.equal(claimants.length, WORKING.has(c) ? 0 : 1, `${name}: ${claimants.map((r) => r.code).join(', ') || 'no rule'}`);
    t.equal(RULE_OF_CASE[c]?.code, claimants[0]?.code, `${name}: the table says the same`);
  }
});

t.test("every connection code has its rule, and every config code but MG303 (the shells') its check", async (t) => {
  const connection = new Set(CONNECTION_RULE_LIST.map((r) => r.code));
  const config = new Set(CONFIG_RULES.map((r) => r.code));
  for (const c of ALL_CODES) {
    if (c.kind === 'connection') t.ok(connection.has(c.code as never), `${c.code} is a connection rule`);
    else if (c.code !== 'MG303') t.ok(config.has(c.code as never), `${c.code} is a config rule`);
  }
  t.equal(connection.size + config.size, ALL_CODES.length - 1, 'no rule without a code in the table');
});

t.test('a rule words each case it claims', async (t) => {
  for (const r of CONNECTION_RULE_LIST) {
    for (const c of r.cases) t.match(r.says(c, 'SUBJECT', 'WHO'), /SUBJECT|WHO/, `${r.code} names the endpoint`);
  }
});
