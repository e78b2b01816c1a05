// The demo's log lines for people, table-driven from test/fixtures/telemetry/human-log.yaml.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { humanLine, humanLog } from '../../src/telemetry/human-log.js';

const cases = parse(readFileSync('test/fixtures/telemetry/human-log.yaml', 'utf8')) as { name: string; json: string; human: string }[];
for (const c of cases) t.test(c.name, async (t) => t.equal(humanLine(c.json), c.human));

t.test('the stream splits chunks into lines, whatever their boundaries', async (t) => {
  const out: string[] = [];
  const s = humanLog((x) => out.push(x));
  const all = `${cases.map((c) => c.json).join('\n')}\n`;
  for (let i = 0; i < all.length; i += 7) s.write(all.slice(i, i + 7));
  await new Promise((r) => s.end(r));
  t.same(
    out,
    cases.map((c) => `${c.human}\n`),
  );
});
