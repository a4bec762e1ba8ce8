import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * A simulated kubelet + container runtime writing container logs the way they do on a node:
 * `<root>/<ns>_<pod>_<uid>/<container>/<restart>.log` in CRI or Docker json-file format, long
 * lines split into 16 KiB partials, rotation by rename at a size limit (the runtime reopening
 * the log right after, or later), gzip of older rotated files, deletion beyond a maximum, and
 * pod directories deleted when pods go away. Every message written is remembered per container
 * stream so tests can check what a reader shipped.
 */
export type LogFormat = 'cri' | 'docker';
export type Stream = 'stdout' | 'stderr';

export interface KubeletSimOptions {
  root: string;
  format: LogFormat;
  /** Rotate a container's current file once it reaches this size (0 = never). */
  rotateAtBytes?: number;
  /** Files kept per container, the current one included (kubelet's containerLogMaxFiles). */
  maxFiles?: number;
  /** Gzip rotated files except the newest (kubelet does). */
  compress?: boolean;
  /** Runtimes split lines longer than this into partials. */
  partialBytes?: number;
}

export class SimContainer {
  restartCount = 0;
  fd: number | undefined;
  size = 0;
  /** Messages written, per stream, in order. */
  readonly written: Record<Stream, string[]> = { stdout: [], stderr: [] };

  constructor(
    readonly pod: SimPod,
    readonly name: string,
  ) {}

  get dir(): string {
    return join(this.pod.dir, this.name);
  }

  get currentPath(): string {
    return join(this.dir, `${this.restartCount}.log`);
  }
}

export class SimPod {
  readonly containers = new Map<string, SimContainer>();

  constructor(
    readonly dir: string,
    readonly namespace: string,
    readonly name: string,
    readonly uid: string,
  ) {}

  container(name: string): SimContainer {
    const found = this.containers.get(name);
    if (!found) throw new Error(`no container ${name}`);
    return found;
  }
}

export class KubeletSim {
  readonly pods: SimPod[] = [];
  private clockNs = 1_700_000_000_000_000_000n;
  private rotationSeconds = 1_700_000_000;
  private readonly partialBytes: number;

  constructor(readonly options: KubeletSimOptions) {
    this.partialBytes = options.partialBytes ?? 16 * 1024;
    mkdirSync(options.root, { recursive: true });
  }

  addPod(namespace: string, name: string, containers: string[], uid = `uid-${namespace}-${name}-${this.pods.length}`): SimPod {
    const pod = new SimPod(join(this.options.root, `${namespace}_${name}_${uid}`), namespace, name, uid);
    for (const containerName of containers) {
      const container = new SimContainer(pod, containerName);
      mkdirSync(container.dir, { recursive: true });
      container.fd = openSync(container.currentPath, 'a');
      pod.containers.set(containerName, container);
    }
    this.pods.push(pod);
    return pod;
  }

  /** Writes one message the way a runtime does (split into partials when long); rotates if due. */
  write(container: SimContainer, stream: Stream, message: string): void {
    container.written[stream].push(this.asShipped(message));
    const bytes = this.encode(stream, message);
    this.append(container, bytes);
    const limit = this.options.rotateAtBytes ?? 0;
    if (limit > 0 && container.size >= limit) this.rotate(container);
  }

  /**
   * The message a perfect reader ships. CRI keeps the bytes; json-file encodes each 16 KiB
   * piece as a JSON string, so a UTF-8 character cut at a piece boundary becomes U+FFFD there
   * (Docker does the same).
   */
  asShipped(message: string): string {
    if (this.options.format === 'cri') return message;
    const body = Buffer.from(message, 'utf8');
    let shipped = '';
    for (let offset = 0; offset < body.length; offset += this.partialBytes) {
      shipped += body.subarray(offset, offset + this.partialBytes).toString('utf8');
    }
    return shipped;
  }

  /** The on-disk bytes for one message (all its partial records). */
  encode(stream: Stream, message: string): Buffer {
    const body = Buffer.from(message, 'utf8');
    const records: Buffer[] = [];
    for (let offset = 0; offset < body.length || offset === 0; offset += this.partialBytes) {
      const piece = body.subarray(offset, offset + this.partialBytes);
      const last = offset + this.partialBytes >= body.length;
      records.push(this.record(stream, piece, last));
      if (last) break;
    }
    return Buffer.concat(records);
  }

  private record(stream: Stream, piece: Buffer, last: boolean): Buffer {
    const time = this.nextTimestamp();
    if (this.options.format === 'cri') {
      return Buffer.concat([Buffer.from(`${time} ${stream} ${last ? 'F' : 'P'} `), piece, Buffer.from('\n')]);
    }
    // json-file: Go's encoder; a split piece may end inside a UTF-8 sequence (invalid -> U+FFFD there too).
    const log = JSON.stringify(piece.toString('utf8') + (last ? '\n' : ''));
    return Buffer.from(`{"log":${log},"stream":"${stream}","time":"${time}"}\n`);
  }

  /** Raw bytes appended to the current file (malformed lines, half lines...). */
  append(container: SimContainer, bytes: Buffer | string): void {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    if (container.fd === undefined) container.fd = openSync(container.currentPath, 'a');
    writeSync(container.fd, buf);
    container.size += buf.length;
  }

  /** kubelet's rotation: rename the current file, then the runtime reopens a new one (unless told to wait). */
  rotate(container: SimContainer, reopen = true): string {
    const rotatedPath = `${container.currentPath}.${this.rotationStamp()}`;
    renameSync(container.currentPath, rotatedPath);
    if (reopen) this.reopen(container);
    this.compressAndPrune(container);
    return rotatedPath;
  }

  /** The runtime reopening its log after a rotation: writes go to a new current file. */
  reopen(container: SimContainer): void {
    if (container.fd !== undefined) closeSync(container.fd);
    container.fd = openSync(container.currentPath, 'a');
    container.size = 0;
  }

  /** A container restart: a new `<n+1>.log`. */
  restart(container: SimContainer): void {
    if (container.fd !== undefined) closeSync(container.fd);
    container.restartCount++;
    container.fd = openSync(container.currentPath, 'a');
    container.size = 0;
  }

  /** Rotated files of the container instance, oldest first. */
  rotatedFiles(container: SimContainer): string[] {
    const prefix = `${container.restartCount}.log.`;
    return readdirSync(container.dir)
      .filter((name) => name.startsWith(prefix) && !name.endsWith('.tmp'))
      .sort()
      .map((name) => join(container.dir, name));
  }

  /** Gzip every rotated file but the newest; delete the oldest beyond `maxFiles` (current included). */
  compressAndPrune(container: SimContainer): void {
    const rotated = this.rotatedFiles(container);
    if (this.options.compress) {
      for (const path of rotated.slice(0, -1)) if (!path.endsWith('.gz')) this.gzip(path);
    }
    const maxFiles = this.options.maxFiles ?? 0;
    if (maxFiles > 0) {
      const all = this.rotatedFiles(container);
      for (const path of all.slice(0, Math.max(0, all.length - (maxFiles - 1)))) unlinkSync(path);
    }
  }

  /** kubelet compresses into `<name>.gz.tmp`, renames to `<name>.gz`, then removes the plain file. */
  gzip(path: string): string {
    const tmp = `${path}.gz.tmp`;
    writeFileSync(tmp, gzipSync(readFileSync(path)));
    renameSync(tmp, `${path}.gz`);
    unlinkSync(path);
    return `${path}.gz`;
  }

  /** The pod is gone: its runtime stops writing and kubelet removes the directory. */
  deletePod(pod: SimPod): void {
    for (const container of pod.containers.values()) {
      if (container.fd !== undefined) closeSync(container.fd);
      container.fd = undefined;
    }
    rmSync(pod.dir, { recursive: true, force: true });
  }

  /** Closes every file the runtime holds open (end of a test). */
  stop(): void {
    for (const pod of this.pods) {
      for (const container of pod.containers.values()) {
        if (container.fd !== undefined) closeSync(container.fd);
        container.fd = undefined;
      }
    }
  }

  private nextTimestamp(): string {
    this.clockNs += 1_234n;
    const seconds = this.clockNs / 1_000_000_000n;
    const nanos = (this.clockNs % 1_000_000_000n).toString().padStart(9, '0');
    return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${nanos}Z`;
  }

  private rotationStamp(): string {
    const date = new Date(this.rotationSeconds++ * 1000).toISOString();
    return `${date.slice(0, 4)}${date.slice(5, 7)}${date.slice(8, 10)}-${date.slice(11, 13)}${date.slice(14, 16)}${date.slice(17, 19)}`;
  }
}
