import { applyConfigFile, mergeCommandLine } from '../config/cli.js';
import { builtConfig } from '../config/embedded.js';
import { loadConfigFile } from '../config/load.js';
import { Server } from '../server/server.js';
import { TSNATS_VERSION, VERSION } from '../server/version.js';
import { StreamingSetupError } from '../streaming/errors.js';
import { FlagError, parseCommandLine, USAGE } from './flags.js';
import { sendSignal } from './signal.js';

/** The `tsnats` command: nats-server's flags, a thin wrapper over the embeddable Server. */
async function main(argv: string[]): Promise<number> {
  let cl: ReturnType<typeof parseCommandLine>;
  try {
    cl = parseCommandLine(argv);
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`tsnats: ${e.message}\n${USAGE}`);
      return 1;
    }
    throw e;
  }
  if (cl.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cl.version) {
    process.stdout.write(`tsnats: v${TSNATS_VERSION} (nats-server protocol v${VERSION})\n`);
    return 0;
  }
  if (cl.signal !== '') {
    try {
      process.stdout.write(`tsnats: ${sendSignal(cl.signal)}\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`tsnats: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const step = applyConfigFile(cl, (text) => process.stderr.write(text));
  if (step.kind === 'exit') return step.code;
  let server: Server;
  try {
    server = new Server(builtConfig(step.config));
  } catch (e) {
    // A setting the user can fix: its message, not a stack trace.
    if (!(e instanceof StreamingSetupError)) throw e;
    process.stderr.write(`tsnats: ${e.message}\n`);
    return 1;
  }
  try {
    await server.ready();
  } catch (e) {
    if (e instanceof StreamingSetupError) server.logger.fatal((e as Error).message);
    else server.logger.fatal(`Error listening on port: ${(e as Error).message}`);
    return 1;
  }
  if (cl.configFile !== '') server.logger.notice(`Using configuration file: ${cl.configFile}`);
  // SIGHUP re-reads the configuration file and applies it with the same command-line flags on top.
  process.on('SIGHUP', () => {
    if (cl.configFile === '') {
      server.logger.error('Failed to reload server configuration: no configuration file (-c) given');
      return;
    }
    try {
      const loaded = loadConfigFile(cl.configFile);
      void server
        .reload(builtConfig(mergeCommandLine(loaded.config, cl.config, cl.explicit)))
        .catch((e: unknown) => {
          server.logger.error(`Failed to reload server configuration: ${(e as Error).message}`);
        });
    } catch (e) {
      server.logger.error(`Failed to reload server configuration: ${(e as Error).message}`);
    }
  });
  return -1; // keep running; signals end the process
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`tsnats: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
