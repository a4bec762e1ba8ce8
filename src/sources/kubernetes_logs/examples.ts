import type { ComponentExample } from '../../core/component.js';

/** Shown on docs/reference/sources/kubernetes_logs.md; validated by reference-examples.test.ts. */
export const KUBERNETES_LOGS_EXAMPLES: readonly ComponentExample[] = [
  {
    title: 'Per-pod parsing and multiline by annotation',
    description:
      'A pod chooses how its lines are parsed and joined: `sluice.dev/parser: json` (or `logfmt`, `klog`, a name from `parsers`), `sluice.dev/multiline: java` (or `python`, `go`, `dotnet`, an RE2 pattern of first lines), per container `sluice.dev/parser-<container>`. The source sets the defaults for pods without annotations.',
    toml: `[sources.k8s]
type = "kubernetes_logs"
default_parser = "none"                # or json, logfmt, klog, a name below
default_multiline = "none"             # or java, python, go, dotnet, a pattern
multiline = { max_lines = 500, max_bytes = 262144, timeout_ms = 1000 }

[sources.k8s.parsers.nginx]            # \`sluice.dev/parser: nginx\` runs this VRL program
source = '''
  . |= parse_nginx_log(.message, "combined") ?? {}
  .cluster = "prod-eu-1"
'''
`,
  },
];
