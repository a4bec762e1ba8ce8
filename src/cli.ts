#!/usr/bin/env node
// Entry point. Loading the agent and its components (SDKs, protobuf, clients) takes about half a
// second: the live-view commands, which only talk to a running agent, skip it.
import './core/no-proto-accessor.js'; // first: field names from logs must never reach a prototype setter
const command = process.argv[2];
if (command === 'tap' || command === 'top') await import('./cli/api-client.js');
else await import('./cli/main.js');
