import { Writable } from 'node:stream';

const LEVELS: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** Fields every pino line carries that a person reading a terminal does not need. */
const PLUMBING = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'reqId', 'v']);

/** One pino JSON line as a line for people: `12:34:56 info admission decision decision=deny object="…"`. */
export function humanLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o['time'] === 'number' ? new Date(o['time']).toISOString().slice(11, 19) : '';
  const fields = Object.entries(o)
    .filter(([k]) => !PLUMBING.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"]/.test(v) ? v : JSON.stringify(v)}`);
  return [time, LEVELS[o['level'] as number] ?? String(o['level']), String(o['msg'] ?? ''), ...fields].filter(Boolean).join(' ');
}

/** A destination for pino that writes human lines to `write` (the demo's terminal) instead of JSON. */
export function humanLog(write: (s: string) => void): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const lines = (rest + String(chunk)).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) if (l) write(`${humanLine(l)}\n`);
      done();
    },
  });
}
