import type { ComponentExample } from '../../core/component.js';

/** Shown on docs/reference/transforms/reduce.md; validated and run by reference-examples.test.ts. */
export const REDUCE_EXAMPLES: readonly ComponentExample[] = [
  {
    title: 'Java stack traces, one event each (VRL condition, as Vector)',
    description:
      'Per container and stream, a line that does not start with whitespace, `at `, `...` or `Caused by:` starts a new event; the lines in between join the message. Every part is acknowledged when the joined event is.',
    toml: `[transforms.traces]
type = "reduce"
inputs = ["k8s"]
group_by = ["kubernetes.pod_uid", "kubernetes.container_name", "stream"]
starts_when = { type = "vrl", source = '''!match(.message, r'^(\\s|at |\\.\\.\\.|Caused by:)')''' }
merge_strategies.message = "concat_newline"
expire_after_ms = 2000
`,
  },
  {
    title: 'The same with a CEL condition',
    description: 'A plain string is a CEL condition (as `filter`); Vector would read it as VRL.',
    toml: `[transforms.traces]
type = "reduce"
inputs = ["k8s"]
group_by = ["kubernetes.pod_uid", "kubernetes.container_name", "stream"]
starts_when = '!message.matches("^(\\\\s|at |\\\\.\\\\.\\\\.|Caused by:)")'
merge_strategies.message = "concat_newline"
`,
  },
];
