// `kubectl mtls-guard …`: the kubectl plugin (the executable is kubectl-plugin.ts, installed as
// `kubectl-mtls_guard`). It runs `simulate`, `check` and `plan` against the live cluster of the
// current context, or of --kubeconfig and --context: kubectl passes a plugin its arguments and
// environment (KUBECONFIG included), never its own global flags.
import { main } from './run.js';
import { EXIT, type Io } from './io.js';

export const PLUGIN_USAGE = `usage: kubectl mtls-guard <command> [flags]

Reads the cluster once (the current context of KUBECONFIG, else of ~/.kube/config) and predicts,
as the mtls-guard webhook would, which Istio mutual-TLS changes break client -> service connections.

commands:
  simulate [--format lines|json|table] [--client GLOB] [--service GLOB] [-f PATH...]
           the outcome of every client -> service port; -f manifests are applied on top of the cluster
  check    -f CHANGE.yaml [--delete] [--mode enforce|warn|dry-run] [--deny-on LEVEL] [--format text|json]
           [--cluster PATH...]
           judges a change against the cluster, as the webhook would: exit 0 allowed, 1 denied
  plan     [--format text|json|lines] [--deny-on LEVEL] [-f PATH...]
           readiness for STRICT per namespace, and a verified order of steps to mesh-wide STRICT

flags of every command:
  --kubeconfig FILE      the kubeconfig to use (kubectl does not pass its own --kubeconfig to plugins)
  --context NAME         a context of the kubeconfig instead of its current one
  --timeout D            the longest the read of the cluster may take (default 60s)
  --telemetry FILE|URL   traffic evidence: a Prometheus text file, or Prometheus's URL
                         [--telemetry-window D] [--telemetry-timeout D] [--telemetry-bearer-token-file F]
                         [--telemetry-ca-file F]
  --istio-version V      instead of the istiod image's tag
  --auto-mtls on|off     instead of the mesh config's

exit codes: 0 done (allowed, or a plan that reaches mesh-wide STRICT), 1 denied or blocked,
2 bad input or a cluster that cannot be read. The same commands offline: mtls-guard --help.
`;

/** The commands that read a snapshot, and so the live cluster when run as a plugin. */
const LIVE_COMMANDS = new Set(['simulate', 'check', 'plan']);

/** Runs `kubectl mtls-guard` arguments: the CLI's command, always on the live cluster. */
export async function runPlugin(argv: readonly string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd) {
    io.err(PLUGIN_USAGE);
    return EXIT.badInput;
  }
  if (['help', '--help', '-h'].includes(cmd) || rest.includes('--help') || rest.includes('-h')) {
    io.out(PLUGIN_USAGE);
    return EXIT.ok;
  }
  if (!LIVE_COMMANDS.has(cmd)) {
    io.err(`kubectl mtls-guard: unknown command ${JSON.stringify(cmd)}\n${PLUGIN_USAGE}`);
    return EXIT.badInput;
  }
  return main([cmd, '--live', ...rest], io);
}
