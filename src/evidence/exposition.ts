import type { ObservedEdge } from '../core/model/model.js';
import { InputError } from '../core/model/errors.js';

/** The Istio metrics read as traffic evidence (DESIGN.md §3). */
export const TRAFFIC_METRICS = ['istio_requests_total', 'istio_tcp_connections_opened_total'] as const;

/** One sample of the Prometheus text exposition format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseLabels(s: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (s[i] === ' ' || s[i] === ',') i++;
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) };
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
    if (!m) throw new InputError(`${where}: expected a label name`);
    i += m[0].length;
    while (s[i] === ' ') i++;
    if (s[i] !== '=' || s[i + 1] !== '"') throw new InputError(`${where}: expected ="value" after label ${m[0]}`);
    i += 2;
    let v = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new InputError(`${where}: unterminated label value`);
      if (c === '"') {
        i++;
        break;
      }
      if (c === '\\') {
        const n = s[i + 1];
        v += n === 'n' ? '\n' : (n ?? '');
        i += 2;
        continue;
      }
      v += c;
      i++;
    }
    labels[m[0]] = v;
  }
}

/** Parses the Prometheus text exposition format. Throws InputError with the line on bad input. */
export function parseExposition(text: string, file: string): Sample[] {
  const out: Sample[] = [];
  text.split(/\r?\n/).forEach((raw, n) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const where = `${file}:${n + 1}`;
    const m = NAME.exec(line);
    if (!m) throw new InputError(`${where}: expected a metric name`);
    let rest = line.slice(m[0].length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where));
    const fields = rest.trim().split(/\s+/);
    const value = Number(fields[0] === '+Inf' ? Infinity : fields[0] === '-Inf' ? -Infinity : fields[0]);
    if (fields[0] === undefined || fields[0] === '' || (Number.isNaN(value) && fields[0] !== 'NaN')) {
      throw new InputError(`${where}: expected a sample value after ${m[0]}`);
    }
    out.push({ name: m[0], labels, value });
  });
  return out;
}

/** Turns Istio metric samples into observed edges; other metrics are ignored. */
export function edgesFromSamples(samples: readonly Sample[]): ObservedEdge[] {
  const out: ObservedEdge[] = [];
  for (const s of samples) {
    if (!(TRAFFIC_METRICS as readonly string[]).includes(s.name)) continue;
    const l = s.labels;
    const reporter = l['reporter'] === 'source' ? 'source' : 'destination';
    out.push({
      reporter,
      sourceWorkload: l['source_workload'] ?? 'unknown',
      sourceNamespace: l['source_workload_namespace'] ?? 'unknown',
      destinationWorkload: l['destination_workload'] ?? '',
      destinationNamespace: l['destination_workload_namespace'] ?? '',
      destinationService: l['destination_service'] ?? '',
      // Only the server side knows; a source report says `unknown` and proves nothing about TLS.
      plaintext: reporter === 'destination' && l['connection_security_policy'] !== 'mutual_tls',
      value: s.value,
      metric: s.name,
    });
  }
  return out;
}
