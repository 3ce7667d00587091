/** Small state that must survive a reboot: written to a temp file, fsynced, renamed over the old. */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";

export function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readJson<T>(path: string, fallback: T): T {
  if (!existsSync(path)) return fallback;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return fallback;
  }
}

/** A monotonic counter that is persisted before each value is handed out. */
export class PersistentCounter {
  private next: number;
  constructor(
    private readonly path: string,
    start = 1,
  ) {
    this.next = Math.max(start, readJson<{ next?: number }>(path, {}).next ?? start);
  }
  take(): number {
    const n = this.next;
    this.next = n + 1;
    writeAtomic(this.path, JSON.stringify({ next: this.next }));
    return n;
  }
  peek(): number {
    return this.next;
  }
}
