/**
 * `-c FILE` and `-t` for the tsnats command: load the file, put the command line on top of it (as
 * nats-server's ConfigureOptions does: flags given explicitly win), or check it and exit.
 */
import type { CommandLine } from '../cli/flags.js';
import type { ServerConfig } from '../server/options.js';
import { ConfigError } from './errors.js';
import { type LoadedConfig, loadConfigFile } from './load.js';

/** What the command should do next. */
export type ConfigStep = { kind: 'exit'; code: number } | { kind: 'run'; config: ServerConfig };

/** The file's configuration with every option set explicitly on the command line put on top. */
export function mergeCommandLine(
  file: ServerConfig,
  flags: ServerConfig,
  explicit: ReadonlySet<string>,
): ServerConfig {
  const merged: ServerConfig = { ...file };
  const out = merged as Record<string, unknown>;
  const given = flags as Record<string, unknown>;
  for (const key of explicit) {
    if (key === 'jetstream' && file.jetstream !== undefined && flags.jetstream !== undefined) {
      // -js turns JetStream on with the file's settings; -sd (when given) replaces its store directory.
      merged.jetstream = {
        ...file.jetstream,
        ...(explicit.has('jetstream.storeDir') ? { storeDir: flags.jetstream.storeDir } : {}),
      };
      continue;
    }
    if (key === 'streaming' && file.streaming !== undefined && flags.streaming !== undefined) {
      // Streaming flags override the fields they name; the file's block gives the rest.
      merged.streaming = { ...file.streaming, ...flags.streaming };
      continue;
    }
    if (given[key] !== undefined) out[key] = given[key];
  }
  return merged;
}

/**
 * Applies `-c` / `-t`. Messages are written with `stderr`, as nats-server writes them:
 * `tsnats: configuration file FILE is valid`, or the problems (`tsnats: file:line:col: reason`).
 * With `-t`, warnings (e.g. a duration given as a number) make the check fail, as with nats-server.
 */
export function applyConfigFile(
  cl: Pick<CommandLine, 'config' | 'explicit' | 'configFile' | 'checkConfig'>,
  stderr: (text: string) => void,
): ConfigStep {
  if (cl.configFile === '') {
    if (cl.checkConfig) {
      stderr('tsnats: must specify [-c, --config] option to check configuration file syntax\n');
      return { kind: 'exit', code: 1 };
    }
    return { kind: 'run', config: cl.config };
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadConfigFile(cl.configFile);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    stderr(`tsnats: ${err.message}\n`);
    return { kind: 'exit', code: 1 };
  }
  if (loaded.warnings.length > 0) stderr(`tsnats: ${loaded.warnings.join('\n')}\n`);
  if (cl.checkConfig) {
    if (loaded.warnings.length > 0) return { kind: 'exit', code: 1 };
    stderr(`tsnats: configuration file ${cl.configFile} is valid\n`);
    return { kind: 'exit', code: 0 };
  }
  return { kind: 'run', config: mergeCommandLine(loaded.config, cl.config, cl.explicit) };
}
