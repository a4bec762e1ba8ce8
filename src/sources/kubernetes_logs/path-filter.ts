import picomatch from 'picomatch';
import type { PodLogPath } from './pod-log-path.js';

export interface PathFilterOptions {
  /** Globs over the full file path; empty = everything. */
  includePathGlobs: readonly string[];
  excludePathGlobs: readonly string[];
  /** Globs over the namespace / pod name / container name taken from the path; empty include = all. */
  includeNamespaces: readonly string[];
  excludeNamespaces: readonly string[];
  includePodNames: readonly string[];
  excludePodNames: readonly string[];
  includeContainerNames: readonly string[];
  excludeContainerNames: readonly string[];
}

type Matcher = (value: string) => boolean;

function compile(patterns: readonly string[]): Matcher | undefined {
  if (patterns.length === 0) return undefined;
  return picomatch(patterns as string[], { dot: true });
}

/** Include/exclude pair: included when no include list or it matches, and the exclude list does not. */
function pair(include: readonly string[], exclude: readonly string[]): Matcher {
  const inc = compile(include);
  const exc = compile(exclude);
  return (value) => (inc === undefined || inc(value)) && (exc === undefined || !exc(value));
}

/**
 * Decides from the path alone, before a file is opened, whether it is read. All globs are
 * compiled once; a decision costs a few regex tests per discovered file, never per line.
 */
export class PodLogPathFilter {
  private readonly path: Matcher;
  private readonly namespace: Matcher;
  private readonly podName: Matcher;
  private readonly containerName: Matcher;

  constructor(options: PathFilterOptions) {
    this.path = pair(options.includePathGlobs, options.excludePathGlobs);
    this.namespace = pair(options.includeNamespaces, options.excludeNamespaces);
    this.podName = pair(options.includePodNames, options.excludePodNames);
    this.containerName = pair(options.includeContainerNames, options.excludeContainerNames);
  }

  accepts(path: string, info: PodLogPath): boolean {
    return (
      this.path(path) &&
      this.namespace(info.podNamespace) &&
      this.podName(info.podName) &&
      this.containerName(info.containerName)
    );
  }
}
