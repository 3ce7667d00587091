/**
 * Who listens on a TCP port, for the message of a hub that cannot bind it: read from Linux's
 * /proc/net/tcp{,6} (the listening socket's inode) and /proc/<pid>/fd (the process holding it).
 * Best effort: undefined off Linux, or when the owner's /proc entries cannot be read (another
 * user's process, unless the hub runs as root; another container).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

const LISTEN = "0A";

/** Inodes of the sockets listening on `port` (any address), from /proc/net/tcp and tcp6. */
export function listeningInodes(port: number, proc = "/proc"): string[] {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes: string[] = [];
  for (const table of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`${proc}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const local = f[1];
      if (f[3] === LISTEN && local?.endsWith(`:${hex}`) && f[9] && f[9] !== "0") inodes.push(f[9]);
    }
  }
  return inodes;
}

/** "mosquitto (pid 812)" for the process listening on `port`, when it can be told. */
export function portOwner(port: number, proc = "/proc"): string | undefined {
  const inodes = new Set(listeningInodes(port, proc).map((i) => `socket:[${i}]`));
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`${proc}/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${proc}/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!inodes.has(target)) continue;
      let name = "a process";
      try {
        name = readFileSync(`${proc}/${pid}/comm`, "utf8").trim() || name;
      } catch {
        /* the name is optional */
      }
      return `${name} (pid ${pid})`;
    }
  }
  return undefined;
}
