/**
 * Subjects with non-ASCII characters in a configuration file: permissions, mappings, and stream and service
 * imports between accounts. The file is text; clients send the subjects' UTF-8 bytes. The same scenario runs
 * on the reference nats-server (when installed) and on tsnats, and what the clients see must be the same:
 * messages, the mapped subject, the service's answer, the imported stream, and the wording of a permission
 * violation with the subject in it, and the subscriptions /connz lists.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { launch } from '../helpers/launcher.js';
import { hasReference } from '../helpers/reference.js';

const CONFIG = `
accounts {
  A: {
    users: [
      {
        user: a, password: a,
        permissions: {
          publish: ["ü.>", "größe", "dienst.ü", "verboten.ü.erlaubt", "_INBOX.>"],
          subscribe: { allow: ["ü.>", "import.>", "_INBOX.>"], deny: ["ü.geheim"] }
        }
      }
    ]
    imports: [
      { stream: { account: B, subject: "strom.ü.>" }, prefix: "import" }
      { service: { account: B, subject: "dienst.ü" } }
    ]
    mappings: { "größe": "ü.umgeleitet" }
  }
  B: {
    users: [ { user: b, password: b } ]
    exports: [ { stream: "strom.ü.>" }, { service: "dienst.ü" } ]
  }
}
`;

interface Seen {
  received: string[];
  answer: string;
  errors: string[];
  /** /connz?subs=1: the subscriptions of A's client, as the monitor shows them. */
  monitored: string[];
}

async function scenario(port: number, monitorUrl: string): Promise<Seen> {
  const a = await connect({ port, user: 'a', pass: 'a', reconnect: false });
  const b = await connect({ port, user: 'b', pass: 'b', reconnect: false });
  const errors: string[] = [];
  const watch = async (nc: NatsConnection): Promise<void> => {
    for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
  };
  void watch(a);
  try {
    const received: string[] = [];
    a.subscribe('ü.>', {
      callback: (_e, m) => {
        received.push(`${m.subject}=${m.string()}`);
      },
    });
    a.subscribe('import.>', {
      callback: (_e, m) => {
        received.push(`${m.subject}=${m.string()}`);
      },
    });
    b.subscribe('dienst.ü', {
      callback: (_e, m) => {
        m.respond('antwort');
      },
    });
    await a.flush();
    await b.flush();
    a.publish('ü.x', 'direkt');
    a.publish('größe', 'umgeleitet');
    b.publish('strom.ü.y', 'importiert');
    await b.flush();
    const answer = (await a.request('dienst.ü', 'frage', { timeout: 2000 })).string();
    // Denied: publish outside the allow list; the error quotes the subject.
    a.publish('verboten.ü', 'nein');
    await a.flush();
    // Received last: what came before it has arrived.
    a.publish('ü.ende', 'ende');
    await a.flush();
    const deadline = Date.now() + 2000;
    while (!received.includes('ü.ende=ende') && Date.now() < deadline) await a.flush();
    const connz = (await (await fetch(`${monitorUrl}/connz?subs=1&acc=A`)).json()) as {
      connections: { subscriptions_list?: string[] }[];
    };
    const monitored = connz.connections
      .flatMap((c) => c.subscriptions_list ?? [])
      .filter((s) => !s.startsWith('_INBOX.'))
      .sort();
    return { received: received.sort(), answer, errors: errors.sort(), monitored };
  } finally {
    await a.close();
    await b.close();
  }
}

const expected: Seen = {
  received: ['import.strom.ü.y=importiert', 'ü.ende=ende', 'ü.umgeleitet=umgeleitet', 'ü.x=direkt'].sort(),
  answer: 'antwort',
  errors: ['PermissionViolationError: Permissions Violation for Publish to "verboten.ü"'],
  monitored: ['import.>', 'ü.>'],
};

describe('configuration: subjects with non-ASCII characters', () => {
  test('permissions, mappings and imports apply to the bytes clients send, as in nats-server', async () => {
    const kinds = hasReference() ? (['nats-server', 'tsnats'] as const) : (['tsnats'] as const);
    for (const kind of kinds) {
      const server = await launch({
        kind,
        config: CONFIG,
        args: ['-m', '-1'],
        listeners: ['nats', 'monitoring'],
      });
      try {
        assert.deepEqual(await scenario(server.port, server.monitorUrl!), expected, kind);
      } finally {
        await server.stop();
      }
    }
  });
});
