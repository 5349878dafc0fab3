/**
 * `mappings {}` (alias `maps`) at the top level (the global account) or inside an account, as
 * nats-server's parseAccountMappings:
 *
 *   mappings {
 *     "orders.new": "orders.v2.new"                               # one destination, weight 100
 *     "req.*": "svc.$1"                                           # wildcards: $N or {{wildcard(N)}}
 *     "p.*": "p.{{partition(3,1)}}.$1"                            # and mapping functions (transform.ts)
 *     "canary": [ { destination: "v1", weight: 90% }, { destination: "v2", weight: "10%" } ]
 *     "local": { destination: "here", weight: 100, cluster: "east" }
 *   }
 */
import { type MappingConfig, type MappingDestination, mappingProblem } from '../routing/mapping.js';
import { isValidSubject } from '../routing/subject.js';
import { type ConfigField, type ConfigReader, describeValue, isConfMap } from './reader.js';

export function parseMappings(r: ConfigReader, f: ConfigField): MappingConfig[] {
  const m = r.map(f);
  const out: MappingConfig[] = [];
  for (const subject of Object.keys(m)) {
    const x = r.field(m, subject, f.path);
    r.attempt(() => {
      if (!isValidSubject(subject)) r.fail(x, `Subject ${JSON.stringify(subject)} is not a valid subject`);
      let destinations: MappingDestination[];
      if (typeof x.value === 'string') {
        destinations = [{ subject: x.value, weight: 100 }];
      } else if (Array.isArray(x.value)) {
        destinations = r.elements(x, x.value).map((e) => parseDestination(r, e));
      } else if (isConfMap(x.value)) {
        destinations = [parseDestination(r, x)];
      } else {
        return r.fail(x, `Unknown type ${describeValue(x.value)} for mapping destination`);
      }
      const c: MappingConfig = { subject, destinations };
      const problem = mappingProblem(c);
      if (problem !== undefined) {
        // nats-server's wording, spacing included.
        const to = typeof x.value === 'string' ? ` to ${JSON.stringify(x.value)}` : '';
        r.fail(x, `Error adding mapping for ${JSON.stringify(subject)}${to} : ${problem}`);
      }
      out.push(c);
    });
  }
  return out;
}

/** `{ destination, weight, cluster }` (nats-server's parseAccountMapDest). */
function parseDestination(r: ConfigReader, f: ConfigField): MappingDestination {
  if (!isConfMap(f.value)) return r.fail(f, 'Expected an entry for the mapping destination');
  const d: MappingDestination = { subject: '', weight: 0 };
  let weighted = false;
  const dest = (x: ConfigField): void => {
    d.subject = r.string(x);
  };
  r.forEachKey(
    f.value,
    f.path,
    {
      dest,
      destination: dest,
      weight: (x) => {
        weighted = true;
        const v = x.value;
        let w: number;
        if (typeof v === 'string') {
          const s = v.endsWith('%') ? v.slice(0, -1) : v;
          if (!/^[+-]?\d+$/.test(s)) r.fail(x, `Invalid weight ${JSON.stringify(s)} for mapping destination`);
          w = Number(s);
        } else if (typeof v === 'number' && Number.isInteger(v)) {
          w = v;
        } else {
          return r.fail(x, `Unknown entry type for weight of ${String(v)}`);
        }
        if (w > 100 || w < 0) r.fail(x, `Invalid weight ${w} for mapping destination`);
        d.weight = w;
      },
      cluster: (x) => {
        d.cluster = r.string(x);
      },
    },
    { unknown: (x) => `Unknown field ${JSON.stringify(x.key)} for mapping destination` },
  );
  if (!weighted) r.fail(f, `Missing weight for mapping destination ${JSON.stringify(d.subject)}`);
  return d;
}
