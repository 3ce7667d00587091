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
  return pino({
    level: opts.level,
    base: { app: "onsite" },
    ...(pretty
      ? {
          transport: {
            target: "pino-pretty",
            options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,app" },
          },
        }
      : {}),
  });
}

export const silentLogger = (): Logger => pino({ level: "silent" });
