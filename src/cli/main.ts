#!/usr/bin/env node
// The executable: the only place that touches the process streams and exit code.
import { main } from './run.js';

process.exitCode = await main(process.argv.slice(2), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
