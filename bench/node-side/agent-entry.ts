// The sluice CLI with the node-side sources registered (until src/components.ts imports them;
// a module is evaluated once, so this stays correct after that).
import '../../src/sources/kubernetes_logs/index.js';
import '../../src/sources/file/index.js';
import '../../src/cli.js';
