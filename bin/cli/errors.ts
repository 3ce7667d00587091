/**
 * How the CLI fails: one line on stderr, `onsite: <what went wrong and what to do>`, and an exit
 * code a script can act on. The codes are listed in `onsite --help` and docs/operations.md.
 */
export const EXIT = {
  ok: 0,
  /** The hub (or the file) said no: bad input, not found, conflict, failed checks, differing verdicts. */
  refused: 1,
  /** Usage: a bad flag or argument, a file that cannot be read, no token, a bad configuration. */
  usage: 2,
  /** The hub cannot be reached (nothing listening, unknown host, timeout, TLS not trusted). */
  unreachable: 3,
  /** The token was refused (unknown, revoked) or its role may not do this. */
  unauthorized: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.refused,
  ) {
    super(message);
  }
}

/** Reading a file a person named: a missing or unreadable file is a usage error naming it. */
export function fileError(path: string, e: unknown): CliError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === "ENOENT"
      ? "no such file"
      : code === "EACCES"
        ? "permission denied"
        : code === "EISDIR"
          ? "it is a directory"
          : ((e as Error).message ?? String(e));
  return new CliError(`cannot read ${path}: ${why}`, EXIT.usage);
}
