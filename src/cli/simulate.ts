import { simulate, simulateSize, type Connection, type SimulateFilter } from '../core/evaluate.js';
import { InputError } from '../core/model/errors.js';
import { parseSimulateArgs } from '../config/cli-args.js';
import { loadIndex } from './load.js';
import { EXIT, type Io } from './io.js';

/** Matches `name.namespace` against a glob with `*`. */
export function globMatch(glob: string, s: string): boolean {
  const re = new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(s);
}

/** One `lines` line: `sleep.legacy to httpbin.foo:8000: 000`. */
export function formatLine(c: Connection): string {
  return `${c.client} to ${c.service}:${c.port}: ${c.outcome.code}`;
}

function table(conns: readonly Connection[]): string {
  const clients = [...new Set(conns.map((c) => c.client))];
  const targets = [...new Set(conns.map((c) => `${c.service}:${c.port}`))].sort();
  const cell = new Map(conns.map((c) => [`${c.client} ${c.service}:${c.port}`, c.outcome.code]));
  const w0 = Math.max(6, ...clients.map((c) => c.length));
  const widths = targets.map((t) => Math.max(t.length, 3));
  const row = (first: string, cells: string[]): string =>
    [first.padEnd(w0), ...cells.map((c, i) => c.padEnd(widths[i]!))].join('  ').trimEnd();
  const lines = [row('client', targets)];
  for (const c of clients)
    lines.push(
      row(
        c,
        targets.map((t) => cell.get(`${c} ${t}`) ?? '-'),
      ),
    );
  return lines.join('\n');
}

/** Past this many connections the output would be unreadable and the process could run out of memory. */
export const MAX_CONNECTIONS = 1_000_000;

/** `mtls-guard simulate`: every (client workload, service port) outcome of a snapshot. */
export async function runSimulate(argv: readonly string[], io: Io): Promise<number> {
  const args = parseSimulateArgs(argv);
  const { idx, notes } = await loadIndex(args.paths, args, args.telemetry);
  for (const n of notes) io.err(`note: ${n}\n`);
  if (idx.data.versionSource === 'default')
    io.err(`note: no istiod Deployment found; assuming Istio ${idx.version.raw} (use --istio-version)\n`);
  const filter: SimulateFilter = {
    ...(args.client ? { client: (c: string) => globMatch(args.client!, c) } : {}),
    ...(args.service ? { service: (s: string, p: number) => globMatch(args.service!, `${s}:${p}`) || globMatch(args.service!, s) } : {}),
  };
  const size = simulateSize(idx, filter);
  if (size > MAX_CONNECTIONS) {
    throw new InputError(
      `simulate would compute ${size.toLocaleString('en')} connections (clients × service ports), more than ${MAX_CONNECTIONS.toLocaleString('en')}; ` +
        'narrow it with --client GLOB and --service GLOB, or judge one change with check',
    );
  }
  const conns = simulate(idx, filter);
  if (args.format === 'json') {
    io.out(
      `${JSON.stringify(
        conns.map((c) => ({
          client: c.client,
          clientKind: c.clientKind,
          service: c.service,
          port: c.port,
          code: c.outcome.code,
          ...(c.outcome.exit !== undefined ? { exit: c.outcome.exit } : {}),
          tlsMode: c.outcome.tlsMode,
          reason: c.outcome.reason,
        })),
        null,
        2,
      )}\n`,
    );
  } else if (args.format === 'table') {
    io.out(`${table(conns)}\n`);
  } else {
    for (const c of conns) io.out(`${formatLine(c)}\n`);
  }
  return EXIT.ok;
}
