import { realpathSync } from 'node:fs';
import { basename, resolve, sep } from 'node:path';
import type { ComponentContext, EventOutput, Source, SourceRunContext } from '../../core/component.js';
import type { LogEvent } from '../../core/event.js';
import { RunTimeErrors } from '../../core/run-time-errors.js';
import { PartialMergeDecoder, type PartialMergeOptions } from './partial-merge.js';
import { PodLogPathFilter } from './path-filter.js';
import { isPodLogFileName, parsePodLogPath, podLogSequence, type PodLogPath } from './pod-log-path.js';
import { ApiPodMetadataProvider } from './api-metadata-provider.js';
import { PathOnlyMetadataProvider, pathEventFields, type PodMetadataProvider } from './pod-metadata-provider.js';
import type { DecodeStats, LineDecoder, TailedFileView } from '../../tailer/line-decoder.js';
import type { DiscoveryRoot } from '../../tailer/discovery.js';
import type { FileAdmission } from '../../tailer/tailed-file.js';
import { commonTailerSettings } from '../../tailer/options.js';
import { registerBacklogGauge } from '../../tailer/backlog-gauge.js';
import { addToGroup, removeFromGroup } from '../../tailer/groups.js';
import { Tailer, type TailerOptions } from '../../tailer/tailer.js';
import type { KubernetesLogsConfig } from './config.js';
import { PodShaping } from './shaping.js';

/** The pod metadata of one file's events; replaced (not mutated) when the provider reports a change. */
class FileMetadata {
  kubernetes: unknown;
  otherFields: Readonly<Record<string, unknown>> | undefined;

  constructor(
    readonly pod: PodLogPath,
    /** The file (its `path` follows renames). */
    readonly file: TailedFileView,
    private readonly provider: PodMetadataProvider,
    /** Trees of events shipped without the pod's metadata (counted by the source). */
    private readonly pathOnlyTrees: WeakSet<object>,
  ) {
    this.kubernetes = undefined;
    this.otherFields = undefined;
    this.refresh();
  }

  refresh(): void {
    const tree = this.provider.eventFields(this.pod) ?? pathEventFields(this.pod);
    this.kubernetes = tree.kubernetes;
    if (this.provider.knowsPod?.(this.pod) === false && typeof tree.kubernetes === 'object' && tree.kubernetes !== null) {
      this.pathOnlyTrees.add(tree.kubernetes);
    }
    let others: Record<string, unknown> | undefined;
    for (const key in tree) if (key !== 'kubernetes') (others ??= {})[key] = tree[key];
    this.otherFields = others && Object.freeze(others);
  }
}

/** `pod_metadata`: the API when there is one, else the path. */
function choosePodMetadataProvider(config: KubernetesLogsConfig, ctx: ComponentContext): PodMetadataProvider {
  const inCluster = process.env.KUBERNETES_SERVICE_HOST !== undefined;
  const useApi = config.pod_metadata === 'api' || (config.pod_metadata === 'auto' && (config.kube_config_file !== undefined || inCluster));
  if (useApi) return new ApiPodMetadataProvider(config, ctx);
  ctx.logger.info('pod metadata from log paths only (no kube_config_file and not in a cluster)');
  return new PathOnlyMetadataProvider();
}

/**
 * The `kubernetes_logs` source: tails `<log_directory>/<ns>_<pod>_<uid>/<container>/<n>.log`
 * (and rotated / gzipped siblings, in order), parses CRI and Docker lines, merges partials,
 * and ships events with a `kubernetes` object built once per file.
 */
export class KubernetesLogsSource implements Source {
  private readonly tailer: Tailer;
  private readonly stopBacklogGauge: () => void;
  private readonly provider: PodMetadataProvider;
  /** The files of each pod (exact-size arrays: a pod has a few files; a Set each was ~230 bytes, W5). */
  private readonly filesByPod = new Map<string, readonly FileMetadata[]>();
  /** Paths not read because their pod is excluded, by pod UID: resumed when the exclusion is lifted. */
  private readonly excludedPaths = new Map<string, Set<string>>();
  private readonly pathOnlyTrees = new WeakSet<object>();
  /** Trees of files that waited for their pod's metadata: their first batch counts as held. */
  private readonly heldTrees = new WeakSet<object>();
  private readonly unsubscribe: () => void;
  private readonly filter: PodLogPathFilter;
  /** Shared by every file's decoder. */
  private readonly mergeOptions: PartialMergeOptions;
  private readonly legacyDirectory: string | undefined;
  private readonly errors: RunTimeErrors;
  /** Per-pod parser and multiline (annotations, or the source's defaults). */
  private readonly shaping: PodShaping;

  constructor(
    private readonly config: KubernetesLogsConfig,
    ctx: ComponentContext,
    provider?: PodMetadataProvider,
    /** Internal timings (tests shorten them). */
    timings: Partial<Pick<TailerOptions, 'idlePollMs' | 'rotatedQuietMs'>> = {},
  ) {
    this.errors = new RunTimeErrors(ctx.metrics, ctx.logger);
    this.mergeOptions = { autoPartialMerge: config.auto_partial_merge, maxMergedLineBytes: config.max_merged_line_bytes };
    this.provider = provider ?? choosePodMetadataProvider(config, ctx);
    this.shaping = new PodShaping(config, this.provider, ctx);
    this.unsubscribe = this.provider.onChange((podUid) => this.refreshPod(podUid));
    this.filter = new PodLogPathFilter({
      includePathGlobs: config.include_paths_glob_patterns,
      excludePathGlobs: config.exclude_paths_glob_patterns,
      includeNamespaces: config.include_namespaces,
      excludeNamespaces: config.exclude_namespaces,
      includePodNames: config.include_pod_names,
      excludePodNames: config.exclude_pod_names,
      includeContainerNames: config.include_container_names,
      excludeContainerNames: config.exclude_container_names,
    });
    const logDirectory = resolve(config.log_directory);
    this.legacyDirectory = config.use_legacy_container_links ? resolve(config.legacy_container_links_directory) : undefined;
    // The tree is written by pods: a link may lead only to a Docker log file or (legacy links) into the tree.
    const dockerDirectory = resolve(config.docker_containers_directory);
    const roots: DiscoveryRoot[] = [{ dir: logDirectory, depth: 2, linkTargets: [dockerDirectory] }];
    if (this.legacyDirectory !== undefined) roots.push({ dir: this.legacyDirectory, depth: 0, linkTargets: [logDirectory, dockerDirectory] });
    this.tailer = new Tailer({
      roots,
      acceptPath: (path) => this.isLegacyLink(path) ? path.endsWith('.log') : isPodLogFileName(basename(path)),
      admit: (path) => this.admit(path),
      ...commonTailerSettings(config, ctx),
      ...timings,
    });
    this.stopBacklogGauge = registerBacklogGauge(ctx.metrics, this.tailer);
  }

  async run({ out, shutdown }: SourceRunContext): Promise<void> {
    // The provider warms up in the background: files of pods it does not know yet wait (bounded).
    const starting = this.provider.start?.().catch((error: unknown) => {
      this.errors.report('pod_metadata_unavailable', { err: error }, 'pod metadata provider failed to start', { level: 'error' });
    });
    await this.tailer.run(this.countingOutput(out), shutdown);
    await starting;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.shaping.close();
    this.stopBacklogGauge();
    await this.tailer.close();
    await this.provider.stop?.();
  }

  private isLegacyLink(path: string): boolean {
    return this.legacyDirectory !== undefined && path.startsWith(this.legacyDirectory + sep);
  }

  private admit(path: string): FileAdmission | undefined {
    let target = path;
    if (this.isLegacyLink(path)) {
      try {
        target = realpathSync(path); // the file under /var/log/pods: one name, read once
      } catch {
        return undefined;
      }
    }
    const pod = parsePodLogPath(target);
    if (pod === undefined || !this.filter.accepts(target, pod)) return undefined;
    if (this.provider.isExcluded(pod)) {
      this.rememberExcluded(pod, target);
      return undefined;
    }
    const waiting = this.provider.waitForPod?.(pod);
    const ready = waiting?.then(() => {
      if (!this.provider.isExcluded(pod)) return true;
      this.rememberExcluded(pod, target);
      return false;
    });
    return {
      canonicalPath: target,
      ...(ready ? { ready } : {}),
      sequence: podLogSequence(target, pod),
      rotated: pod.rotation !== 'current',
      compressed: pod.rotation === 'compressed',
      createDecoder: (file, stats) => this.createDecoder(file, stats, pod, ready !== undefined),
    };
  }

  private rememberExcluded(pod: PodLogPath, path: string): void {
    let paths = this.excludedPaths.get(pod.podUid);
    if (paths === undefined) this.excludedPaths.set(pod.podUid, (paths = new Set()));
    paths.add(path);
  }

  /**
   * Counts held and unenriched events. A batch may hold the reads of several files: each read
   * (a run of events sharing one finalizer) is counted as a whole, by its file's metadata tree.
   */
  private countingOutput(out: EventOutput): EventOutput {
    if (this.provider.countEvents === undefined) return out;
    return {
      send: (events: LogEvent[]) => {
        let held = 0;
        let withoutMetadata = 0;
        for (let start = 0, end = 0; start < events.length; start = end) {
          const first = events[start]!;
          for (end = start + 1; end < events.length && events[end]!.finalizer === first.finalizer; end++);
          const tree = first.fields.kubernetes;
          if (typeof tree !== 'object' || tree === null) continue;
          if (this.heldTrees.delete(tree)) held += end - start;
          if (this.pathOnlyTrees.has(tree)) withoutMetadata += end - start;
        }
        if (held > 0 || withoutMetadata > 0) this.provider.countEvents!({ held, withoutMetadata });
        return out.send(events);
      },
    };
  }

  private createDecoder(file: TailedFileView, stats: DecodeStats, pod: PodLogPath, waited: boolean): LineDecoder {
    const metadata = new FileMetadata(pod, file, this.provider, this.pathOnlyTrees);
    if (waited && typeof metadata.kubernetes === 'object' && metadata.kubernetes !== null) this.heldTrees.add(metadata.kubernetes);
    addToGroup(this.filesByPod, pod.podUid, metadata);
    return this.shaping.wrap(pod, new PartialMergeDecoder(file, metadata, this.mergeOptions, stats, () => {
      removeFromGroup(this.filesByPod, pod.podUid, metadata);
    }));
  }

  /**
   * The pod's metadata changed: new fields for its files' next lines, and exclusion flips both
   * ways. An excluded file stops being read at once; when the exclusion is lifted, reading resumes
   * at the end of the file as it is then (lines written while excluded are never collected).
   */
  private refreshPod(podUid: string): void {
    this.shaping.refresh(podUid);
    for (const metadata of this.filesByPod.get(podUid) ?? []) { // replaced, never changed, on removal
      if (this.provider.isExcluded(metadata.pod)) {
        this.rememberExcluded(metadata.pod, metadata.file.path);
        void this.tailer.stopReading(metadata.file.path);
      } else {
        metadata.refresh();
      }
    }
    const excluded = this.excludedPaths.get(podUid);
    if (excluded === undefined) return;
    for (const path of [...excluded]) {
      const pod = parsePodLogPath(path);
      if (pod !== undefined && this.provider.isExcluded(pod)) continue;
      excluded.delete(path);
      this.tailer.resumeReading(path);
    }
    if (excluded.size === 0) this.excludedPaths.delete(podUid);
  }
}
