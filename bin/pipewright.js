#!/usr/bin/env node
// The `pipewright` command: maps stack traces back to the TypeScript sources, then runs the CLI.
process.setSourceMapsEnabled(true);
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
