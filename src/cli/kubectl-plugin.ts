#!/usr/bin/env node
// The kubectl plugin's executable, installed on PATH as `kubectl-mtls_guard` so that
// `kubectl mtls-guard …` runs it (kubectl maps the dash of a plugin's name to an underscore). As in
// main.ts, everything else is imported after the Node.js check.
const NODE_MAJOR = 24;

if (Number(process.versions.node.split('.')[0]) < NODE_MAJOR) {
  process.stderr.write(
    `kubectl mtls-guard needs Node.js ${NODE_MAJOR} or later as \`node\` on PATH; this is ${process.version}. ` +
      `Install Node ${NODE_MAJOR} (or put it first on PATH) and run it again.\n`,
  );
  process.exitCode = 2;
} else {
  (await import('node:module')).enableCompileCache?.();
  const { runPlugin } = await import('./plugin.js');
  process.exitCode = await runPlugin(process.argv.slice(2), {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  });
}
