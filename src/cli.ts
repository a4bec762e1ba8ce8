#!/usr/bin/env node
// Entry point. Loading the agent and its components (SDKs, protobuf, clients) takes about half a
// second: the live-view commands, which only talk to a running agent, skip it.
const command = process.argv[2];
if (command === 'tap' || command === 'top') await import('./cli/api-client.js');
else await import('./cli/main.js');
