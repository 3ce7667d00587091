/**
 * A FIFO kept on disk: items survive a reboot and leave only once delivered. Appends are fsynced;
 * removals rewrite the (small) file atomically.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { writeAtomic } from "./persist.js";

export class DiskQueue<T> {
  private readonly items: T[] = [];

  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) {
      for (const line of readFileSync(path, "utf8").split("\n")) {
        if (line.trim() === "") continue;
        try {
          this.items.push(JSON.parse(line) as T);
        } catch {
          // a torn last line from a power cut: that item was never acknowledged to anyone
        }
      }
    }
  }

  get length(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  all(): readonly T[] {
    return this.items;
  }

  push(item: T): void {
    writeAtomicAppend(this.path, `${JSON.stringify(item)}\n`);
    this.items.push(item);
  }

  shift(): T | undefined {
    const item = this.items.shift();
    writeAtomic(this.path, this.items.map((i) => `${JSON.stringify(i)}\n`).join(""));
    return item;
  }
}

function writeAtomicAppend(path: string, text: string): void {
  appendFileSync(path, text);
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
