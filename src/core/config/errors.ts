import type { z } from 'zod';

/** All problems found in a set of config files, each already prefixed with file and key path. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Render zod issues as `file: a.b.c: message`, one line per problem. */
export function formatIssues(file: string, prefix: readonly (string | number)[], issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path.map((p) => String(p))];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${file}: ${[...path, key].join('.')}: unknown option`);
      continue;
    }
    lines.push(`${file}: ${path.join('.') || '(top level)'}: ${describeIssue(issue)}`);
  }
  return lines;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_type': {
      const received = (issue as { input?: unknown }).input;
      if (received === undefined) return `required option is missing (expected ${issue.expected})`;
      return `expected ${issue.expected}, got ${Array.isArray(received) ? 'array' : typeof received}`;
    }
    case 'invalid_union':
      return issue.message;
    default:
      return issue.message;
  }
}
