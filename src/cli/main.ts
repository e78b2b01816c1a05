#!/usr/bin/env node
// The executable: the only place that touches the process streams and exit code. Everything else
// is imported after the Node.js check, so that an older Node gets a sentence, not a stack trace
// from a dependency that needs a newer one.
const NODE_MAJOR = 24;

if (Number(process.versions.node.split('.')[0]) < NODE_MAJOR) {
  process.stderr.write(
    `mtls-guard needs Node.js ${NODE_MAJOR} or later; this is ${process.version}. ` +
      `In a clone of the repository, \`npm ci\` brings Node ${NODE_MAJOR}: run \`npx mtls-guard …\` or \`npm start\`.\n`,
  );
  process.exitCode = 2;
} else {
  // Compiled code is cached between runs (in the OS temp folder): a CLI run in CI or a pre-commit
  // hook starts several times faster after the first.
  (await import('node:module')).enableCompileCache?.();
  const { main } = await import('./run.js');
  process.exitCode = await main(process.argv.slice(2), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
}
