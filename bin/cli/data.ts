/**
 * `onsite backup <file>` and `onsite restore <file>`: on the machine that holds the data dir
 * (`--data-dir`, or the hub's configuration: `-c`, ONSITE_DATA_DIR). A backup can be taken while the
 * hub runs; a restore refuses to run under one.
 */
import type { Command } from "commander";
import { CliError, EXIT } from "./errors.js";

// The configuration loader and SQLite load only for these two commands: the others stay quick to start.
const ops = async () => ({
  ...(await import("../../hub/config/config.js")),
  ...(await import("../../hub/ops/backup.js")),
});

interface DataOptions {
  config?: string;
  dataDir?: string;
  force?: boolean;
}

async function dataDirOf(o: DataOptions): Promise<string> {
  const { ConfigError, loadConfig } = await ops();
  try {
    return loadConfig({
      ...(o.config ? { file: o.config } : {}),
      env: process.env,
      overrides: o.dataDir ? { dataDir: o.dataDir } : {},
    }).dataDir;
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
}

async function failed(e: unknown): Promise<never> {
  const { BackupError } = await ops();
  if (e instanceof BackupError)
    throw new CliError(e.message, e.code === "no_database" ? EXIT.usage : EXIT.refused);
  throw e;
}

const withDataDir = (cmd: Command) =>
  cmd
    .option("-c, --config <file>", "the hub's JSON config file, for its dataDir (env ONSITE_CONFIG)")
    .option("--data-dir <dir>", "the hub's data dir (default ./data; env ONSITE_DATA_DIR)");

export function dataCommands(program: Command): void {
  withDataDir(
    program
      .command("backup")
      .description(
        "write a consistent copy of the hub's database to a file; safe while the hub runs (SQLite VACUUM INTO)",
      )
      .argument("<file>", "where to write the copy")
      .option("--force", "overwrite <file> if it exists"),
  ).action(async (file: string, o: DataOptions) => {
    const dataDir = await dataDirOf(o);
    const { backup, KEY_FILE } = await ops();
    try {
      const r = backup(dataDir, file, { force: o.force === true });
      process.stdout.write(
        `backed up ${r.source} to ${r.file}: schema ${r.schemaVersion}, ${r.events} events, ${r.visits} visits, ` +
          `${r.devices} devices, ${r.bytes} bytes\n` +
          `its badge keys open only with ${dataDir}/${KEY_FILE}: keep a copy of that file too (it does not change)\n`,
      );
    } catch (e) {
      await failed(e);
    }
  });

  withDataDir(
    program
      .command("restore")
      .description(
        "replace the hub's database by a backup; refuses while a hub runs on the data dir, and checks the file is an intact onsite database of a known schema",
      )
      .argument("<file>", "a file written by onsite backup")
      .option("--force", "restore even if its badge keys do not open with this data dir's master.key"),
  ).action(async (file: string, o: DataOptions) => {
    const dataDir = await dataDirOf(o);
    const { restore } = await ops();
    try {
      const r = restore(file, dataDir, { force: o.force === true });
      process.stdout.write(
        `restored ${r.file} into ${r.target}: schema ${r.schemaVersion}, ${r.events} events, ${r.visits} visits, ${r.devices} devices\n` +
          (r.previous ? `the database it replaced is kept as ${r.previous}\n` : ""),
      );
    } catch (e) {
      await failed(e);
    }
  });
}
