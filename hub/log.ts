/** Structured logs (pino). Namespaced children; tests pass a silent logger. */
import { pino } from "pino";

export type Logger = pino.Logger;

export interface LogOptions {
  level: string;
  /** Human-readable lines (pino-pretty) instead of JSON; default: when stdout is a terminal. */
  pretty?: boolean;
}

export function createLogger(opts: LogOptions): Logger {
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  const options = { level: opts.level, base: { app: "onsite" } };
  if (pretty)
    return pino({
      ...options,
      transport: {
        target: "pino-pretty",
        options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,app" },
      },
    });
  // Synchronous writes to stdout: the last lines before an exit or a crash are out, and nothing is
  // left to flush at exit. pino's default (asynchronous) flushes at exit with sonic-boom's
  // flushSync, which retries a write that failed with EPIPE forever: a hub whose stdout reader
  // went away (a closed pipe) then hung on SIGTERM instead of stopping.
  return pino(options, pino.destination({ dest: 1, sync: true }));
}

export const silentLogger = (): Logger => pino({ level: "silent" });
