import { join } from 'node:path';
import picomatch from 'picomatch';
import type { ComponentContext, Source, SourceRunContext } from '../../core/component.js';
import type { DiscoveryRoot } from '../../tailer/discovery.js';
import { Tailer } from '../../tailer/tailer.js';
import type { FileSourceConfig } from './config.js';
import { PlainLineDecoder } from './plain-line-decoder.js';

/** Directory levels a glob can reach below its static base (`**` = deep, capped). */
function rootOf(pattern: string): DiscoveryRoot {
  const { base, glob, isGlob } = picomatch.scan(pattern);
  if (!isGlob) return { dir: base.split('/').slice(0, -1).join('/') || '/', depth: 0 };
  const depth = glob.includes('**') ? 16 : glob.split('/').length - 1;
  return { dir: base === '' ? '.' : base, depth };
}

/** The generic `file` source (sidecar deployments): plain lines, same tailer and checkpoints. */
export class FileSource implements Source {
  private readonly tailer: Tailer;

  constructor(config: FileSourceConfig, ctx: ComponentContext) {
    const included = picomatch(config.include, { dot: true });
    const excluded = config.exclude.length > 0 ? picomatch(config.exclude, { dot: true }) : () => false;
    const accept = (path: string) => included(path) && !excluded(path);
    this.tailer = new Tailer({
      roots: config.include.map(rootOf),
      acceptPath: accept,
      admit: (path) => (accept(path) ? { rotated: false, compressed: false, createDecoder: (file, stats) => new PlainLineDecoder(file, stats) } : undefined),
      maxReadBytes: config.max_read_bytes,
      maxLineBytes: config.max_line_bytes,
      maxOpenFiles: config.max_open_files,
      scanIntervalMs: config.glob_minimum_cooldown_ms,
      readFrom: config.read_from,
      ignoreOlderSecs: config.ignore_older_secs,
      checkpointIntervalMs: config.checkpoint_interval_secs * 1000,
      checkpointPath: join(ctx.dataDir, ctx.id, 'checkpoints.json'),
      metrics: ctx.metrics,
      logger: ctx.logger,
    });
  }

  run({ out, shutdown }: SourceRunContext): Promise<void> {
    return this.tailer.run(out, shutdown);
  }

  close(): Promise<void> {
    return this.tailer.close();
  }
}
