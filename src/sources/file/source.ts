import picomatch from 'picomatch';
import type { ComponentContext, Source, SourceRunContext } from '../../core/component.js';
import type { DiscoveryRoot } from '../../tailer/discovery.js';
import { commonTailerSettings } from '../../tailer/options.js';
import { registerBacklogGauge } from '../../tailer/backlog-gauge.js';
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
  private readonly stopBacklogGauge: () => void;

  constructor(config: FileSourceConfig, ctx: ComponentContext) {
    const included = picomatch(config.include, { dot: true });
    const excluded = config.exclude.length > 0 ? picomatch(config.exclude, { dot: true }) : () => false;
    const accept = (path: string) => included(path) && !excluded(path);
    this.tailer = new Tailer({
      roots: config.include.map(rootOf),
      acceptPath: accept,
      admit: (path) => (accept(path) ? { rotated: false, compressed: false, createDecoder: (file, stats) => new PlainLineDecoder(file, stats) } : undefined),
      ...commonTailerSettings(config, ctx),
    });
    this.stopBacklogGauge = registerBacklogGauge(ctx.metrics, this.tailer);
  }

  run({ out, shutdown }: SourceRunContext): Promise<void> {
    return this.tailer.run(out, shutdown);
  }

  close(): Promise<void> {
    this.stopBacklogGauge();
    return this.tailer.close();
  }
}
