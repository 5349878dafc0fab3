import { readFileSync } from 'node:fs';
import { nodeChildProcess } from '../util/builtin.js';

/** `--signal` commands and the POSIX signals nats-server sends for them. */
const COMMANDS: Record<string, NodeJS.Signals> = {
  stop: 'SIGKILL',
  quit: 'SIGINT',
  term: 'SIGTERM',
  reopen: 'SIGUSR1',
  reload: 'SIGHUP',
  ldm: 'SIGUSR2',
};

export class SignalError extends Error {}

/** Running tsnats processes other than this one (when no PID is given, like nats-server's pgrep). */
function findServers(): number[] {
  try {
    const out = nodeChildProcess().execFileSync('pgrep', ['-f', 'bin/tsnats|dist/src/cli/main\\.js'], {
      encoding: 'utf8',
    });
    return out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number)
      .filter((p) => p !== process.pid);
  } catch {
    return [];
  }
}

/** The PID named by `=PID` or `=PIDFILE`. */
function resolvePid(target: string): number {
  if (/^\d+$/.test(target)) return Number(target);
  let text: string;
  try {
    text = readFileSync(target, 'utf8').trim();
  } catch (e) {
    throw new SignalError(`could not read pid file ${target}: ${(e as Error).message}`);
  }
  if (!/^\d+$/.test(text)) throw new SignalError(`invalid pid file ${target}: ${JSON.stringify(text)}`);
  return Number(text);
}

/** `--signal CMD[=PID|=PIDFILE]`: send the command's signal to a running server. */
export function sendSignal(spec: string): string {
  const eq = spec.indexOf('=');
  const cmd = (eq >= 0 ? spec.slice(0, eq) : spec).toLowerCase();
  const sig = COMMANDS[cmd];
  if (sig === undefined)
    throw new SignalError(`unknown signal "${cmd}" (use ${Object.keys(COMMANDS).join(', ')})`);
  let pids: number[];
  if (eq >= 0) {
    pids = [resolvePid(spec.slice(eq + 1))];
  } else {
    pids = findServers();
    if (pids.length === 0) throw new SignalError('no tsnats process found');
    if (pids.length > 1) {
      throw new SignalError(
        `multiple tsnats processes running (${pids.join(', ')}): specify one with ${cmd}=PID`,
      );
    }
  }
  try {
    process.kill(pids[0]!, sig);
  } catch (e) {
    throw new SignalError(`could not send ${sig} to ${pids[0]}: ${(e as Error).message}`);
  }
  return `${sig} sent to ${pids[0]}`;
}
