// A real Prometheus server (Debian's package) for the evidence tests, on a free loopback port with a
// temporary data directory, and a small exporter that serves Istio-shaped counters for it to scrape.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './controlplane.js';

/** The prometheus binary: MTLS_GUARD_PROMETHEUS, else on PATH, else installs Debian's package (as root). */
export function prometheusPath(): string {
  const env = process.env['MTLS_GUARD_PROMETHEUS'];
  if (env) return env;
  const which = (): string => spawnSync('bash', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).stdout.trim();
  if (which()) return which();
  if (process.getuid?.() !== 0) throw new Error('prometheus is not installed: apt-get install prometheus (or set MTLS_GUARD_PROMETHEUS)');
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  let r = apt(['install', '-y', '--no-install-recommends', 'prometheus']);
  if (r.status !== 0) {
    apt(['update']);
    r = apt(['install', '-y', '--no-install-recommends', 'prometheus']);
  }
  if (r.status !== 0 || !which()) throw new Error(`installing Debian's prometheus failed: ${r.stderr.slice(-500)}`);
  return which();
}

/** One counter series: its labels and how fast it grows per second. */
export interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly perSecond: number;
}

/** An exporter whose counters grow at their rates since it started. */
export interface Exporter {
  readonly target: string;
  set(series: readonly Series[]): void;
  close(): Promise<void>;
}

/** Serves `series` in the Prometheus text format on a free loopback port. */
export async function startExporter(series: readonly Series[]): Promise<Exporter> {
  let current = series;
  const t0 = Date.now();
  const server: Server = createServer((_req, res) => {
    const secs = (Date.now() - t0) / 1000;
    const lines: string[] = [];
    for (const name of new Set(current.map((s) => s.name))) {
      lines.push(`# TYPE ${name} counter`);
      for (const s of current.filter((x) => x.name === name)) {
        const labels = Object.entries(s.labels)
          .map(([k, v]) => `${k}="${v}"`)
          .join(',');
        lines.push(`${name}{${labels}} ${Math.floor(s.perSecond * secs)}`);
      }
    }
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`${lines.join('\n')}\n`);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    target: `127.0.0.1:${port}`,
    set: (s) => {
      current = s;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A running Prometheus. */
export interface Prometheus {
  readonly url: string;
  readonly port: number;
  /** Instant query; the raw API answer. */
  query(q: string): Promise<{ status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } }>;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `targets` every second, and waits until it answers queries. */
export async function startPrometheus(dir: string, targets: readonly string[]): Promise<Prometheus> {
  const bin = prometheusPath();
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    `global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: istio-mesh
    static_configs: [{targets: ${JSON.stringify(targets)}}]
`,
  );
  const port = await freePort();
  const log = openSync(join(dir, 'prometheus.log'), 'a');
  const p: ChildProcess = spawn(
    bin,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', log, log] },
  );
  const url = `http://127.0.0.1:${port}`;
  const query = async (q: string) => {
    const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
    return (await r.json()) as Awaited<ReturnType<Prometheus['query']>>;
  };
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (i > 300 || p.exitCode !== null) throw new Error(`prometheus did not become ready; see ${join(dir, 'prometheus.log')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    query,
    stop: async () => {
      if (p.exitCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    },
  };
}
