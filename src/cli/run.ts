import { MtlsGuardError } from '../core/model/errors.js';
import { EXIT, type Io } from './io.js';

const USAGE = `usage: mtls-guard <command> [flags]

commands:
  simulate [-f PATH...] [--format lines|json|table] [--istio-version V] [--auto-mtls on|off]
           [--telemetry FILE] [--client GLOB] [--service GLOB]
  check    -f CHANGE.yaml [--cluster PATH...] [--delete] [--telemetry FILE|URL] [--telemetry-window D]
           [--mode enforce|warn|dry-run] [--deny-on certain|observed|declared|possible]
           [--format text|json] [--istio-version V] [--auto-mtls on|off]
  plan     [-f PATH...] [--format text|json|lines] [--deny-on LEVEL] [--telemetry FILE|URL]
           [--istio-version V] [--auto-mtls on|off]
           simulate, check and plan read the live cluster once when no manifests are given (-f,
           --cluster for check) or with [--kubeconfig F] [--context NAME] [--live] [--timeout D];
           manifests given as well are applied on top of it
  report   -f PATH... [--change FILE...] [--telemetry FILE|URL] [--deny-on LEVEL] [--istio-version V]
           [--auto-mtls on|off] [--out FILE]   (one HTML page: the traffic matrix, the change, readiness, the plan)
  serve    [--cluster PATH...] [--kubeconfig F] [--listen HOST:PORT] [--telemetry FILE|URL]
           [--telemetry-window D] [--telemetry-refresh D] [--telemetry-timeout D] [--telemetry-max-age D]
           [--default-mode enforce|warn|dry-run|off] [--deny-on LEVEL] [--log-level L] [--drain-seconds N]
           [--root-namespace NS] [--max-staleness-seconds N]
           [--cert-mode files] [--tls-cert F] [--tls-key F] [--cert-reload-seconds N]
           [--cert-mode self-managed --namespace NS] [--cert-secret NAME] [--service NAME]
           [--webhook-configuration NAME]... [--cert-san IP|DNS]... [--ca-validity D] [--cert-validity D]
  certs    [--out DIR] [--service NAME] [--namespace NS] [--ip IP]... [--dns NAME]...
  unregister --webhook-configuration NAME... [--kubeconfig F]   (the chart's pre-delete hook)
  demo     the webhook on the bundled example mesh, on https://127.0.0.1:8443
`;

type Command = (argv: readonly string[], io: Io) => Promise<number>;

/**
 * Each command's module, loaded when it runs: the offline commands never load the Kubernetes
 * client, whose import alone takes half a second, nor the HTTP server.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  simulate: async () => (await import('./simulate.js')).runSimulate,
  check: async () => (await import('./check.js')).runCheck,
  plan: async () => (await import('./plan.js')).runPlan,
  report: async () => (await import('./report.js')).runReport,
  demo: async () => {
    const m = await import('./demo.js');
    return (a, io) => m.runDemo(a, io);
  },
  serve: async () => {
    const m = await import('./serve.js');
    return (a, io) => m.runServe(a, io);
  },
  certs: async () => (await import('./certs.js')).runCerts,
  unregister: async () => (await import('./unregister.js')).runUnregister,
};

/** Runs a command line; every failure becomes a message and an exit code, never a stack trace. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    (cmd ? io.out : io.err)(USAGE);
    return cmd ? EXIT.ok : EXIT.badInput;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    io.err(`mtls-guard: unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
    return EXIT.badInput;
  }
  // `mtls-guard check --help` is how people look a command up: the usage, not an unknown option.
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(USAGE);
    return EXIT.ok;
  }
  try {
    const run = await load();
    return await run(rest, io);
  } catch (e) {
    if (e instanceof MtlsGuardError) {
      io.err(`mtls-guard ${cmd}: ${e.message}\n`);
      return EXIT.badInput;
    }
    const sys = e as NodeJS.ErrnoException;
    // System errors (a port in use, a permission) are the user's to fix: the message is enough.
    if (typeof sys?.code === 'string' && sys.syscall) {
      io.err(`mtls-guard ${cmd}: ${sys.message}\n`);
      return EXIT.badInput;
    }
    io.err(`mtls-guard ${cmd}: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.badInput;
  }
}
