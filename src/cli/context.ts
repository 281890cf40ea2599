/** What every command shares: global options, settings, JSON output. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Log } from './logger.js';
import { resolveSettings, type SettingFlags, type Settings } from '../config/index.js';
import type { CliIO } from './io.js';
import { openAuditLog, type AuditLog } from '../util/audit-log.js';

export interface GlobalOptions {
  dir?: string;
  environment?: string;
  stack?: string;
  json?: boolean;
  stateUrl?: string;
  lockUrl?: string;
  logLevel?: string;
  logFile?: string;
  auditLog?: string;
}

export interface CommandContext {
  io: CliIO;
  /** Structured logs, every line with the command's correlation id (silent unless --log-level). */
  log: Log;
  /** The command's id, in its logs and audit records. */
  correlationId: string;
  /** Set by a command when it ends with something other than 0 without an error. */
  exitCode: number;
}

/** Options of the command merged with the program's global ones. */
export function allOptions<T extends object>(cmd: Command): T & GlobalOptions {
  return cmd.optsWithGlobals() as T & GlobalOptions;
}

export function settingsFrom(opts: GlobalOptions & SettingFlags, io: CliIO): Settings {
  return resolveSettings(opts, io.env);
}

/** The audit trail the settings name (`-`: this command's stdout), if any. */
export function auditLogFor(settings: Settings, io: CliIO): AuditLog | undefined {
  return settings.auditLog === undefined ? undefined : openAuditLog(settings.auditLog, (line) => io.stdout.write(line));
}

/** A run's report (`--report <file>`), as JSON: its directory made, the file written whole. */
export function writeReportFile(file: string, report: Record<string, unknown>): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
