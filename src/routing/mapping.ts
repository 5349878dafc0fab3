/**
 * Account subject mappings (nats-server 2.10's `mappings {}`, accounts.go AddWeightedMappings and
 * selectMappedSubject): a message a client or leaf publishes on a mapped subject is routed on another
 * subject, chosen among weighted destinations (optionally per cluster). Destinations whose weights do not
 * add up to 100 (per cluster) get the source itself for the rest, unless the source is listed (then the
 * rest is dropped: nats-server's "loss" mapping). Destinations may use the mapping functions of
 * transform.ts, except `left` and `right`, which nats-server 2.10 refuses here.
 */
import { isValidSubject, matchLiteral, subjectHasWildcard } from './subject.js';
import { textToWire, wireToText } from './subject-text.js';
import { isMustache, MAPPING_FUNCTIONS, SubjectTransform, TransformErrors } from './transform.js';

/** One destination of a mapping as configured. */
export interface MappingDestination {
  subject: string;
  /** Percent, 0-100. */
  weight: number;
  /** Only in this cluster ('' = everywhere). */
  cluster?: string;
}

/** One `mappings` entry: a source subject (wildcards allowed) and its destinations. */
export interface MappingConfig {
  subject: string;
  destinations: MappingDestination[];
}

interface Destination {
  transform: SubjectTransform;
  /** Cumulative weight: the destination is taken when the random draw (0-99) is below it. */
  upTo: number;
}

interface Mapping {
  src: string;
  wildcard: boolean;
  dests: Destination[];
  /** Per cluster name. */
  clusterDests: Map<string, Destination[]>;
}

/** Why a mapping cannot be added (nats-server's AddWeightedMappings errors), or undefined. */
export function mappingProblem(m: MappingConfig): string | undefined {
  if (!isValidSubject(m.subject)) return 'invalid subject';
  const seen = new Set<string>();
  // nats-server 2.10 totals the weights per cluster (2.9 summed them all).
  const total = new Map<string, number>();
  for (const d of m.destinations) {
    if (seen.has(d.subject)) return `duplicate entry for ${JSON.stringify(d.subject)}`;
    seen.add(d.subject);
    if (d.weight > 100) return 'individual weights need to be <= 100';
    const cl = d.cluster ?? '';
    const t = (total.get(cl) ?? 0) + d.weight;
    total.set(cl, t);
    if (t > 100) return 'total weight needs to be <= 100';
    const bad = destinationProblem(d.subject);
    if (bad !== undefined) return bad;
    const tr = SubjectTransform.parse(m.subject, d.subject);
    if (!(tr instanceof SubjectTransform)) return tr.message;
  }
  return undefined;
}

/**
 * nats-server 2.10's ValidateMappingDestination: every `{{...}}` token names a function it knows (not
 * left/right), no empty token, nothing after `>`, no whitespace outside a function token.
 */
export function destinationProblem(dest: string): string | undefined {
  if (dest === '') return TransformErrors.badSubject;
  let fwc = false;
  for (const t of dest.split('.')) {
    if (t === '' || fwc) return `${TransformErrors.invalidSubject} in ${t}`;
    if (isMustache(t)) {
      if (!MAPPING_FUNCTIONS.some((re) => re.test(t))) return `${TransformErrors.unknownFunction} in ${t}`;
      continue;
    }
    if (t === '>') fwc = true;
    else if (/[\t\n\f\r ]/.test(t)) return TransformErrors.invalidSubject;
  }
  return undefined;
}

/** The destination that stands for "the subject itself" (foo.*.* -> foo.$1.$2, nats-server's transformTokenize). */
function identity(src: string): string {
  let i = 0;
  return src
    .split('.')
    .map((t) => (t === '*' ? `$${++i}` : t))
    .join('.');
}

/** A destination's transform under 2.10's rule (mappingProblem has checked it). */
function transform(src: string, dest: string): SubjectTransform {
  const tr = SubjectTransform.parse(src, dest);
  if (!(tr instanceof SubjectTransform)) throw tr;
  return tr;
}

function weighted(src: string, list: MappingDestination[], listed: Set<string>): Destination[] {
  const dests = list.map((d) => ({ transform: transform(src, d.subject), weight: d.weight }));
  const sum = list.reduce((n, d) => n + d.weight, 0);
  if (sum !== 100 && !listed.has(src)) {
    const rest = list.length === 0 ? 100 : 100 - sum;
    dests.push({ transform: transform(src, identity(src)), weight: rest });
  }
  dests.sort((a, b) => a.weight - b.weight);
  let upTo = 0;
  return dests.map((d) => {
    upTo += d.weight;
    return { transform: d.transform, upTo };
  });
}

export class SubjectMapper {
  private readonly mappings: Mapping[] = [];

  /** Mappings already checked with mappingProblem. A later one for the same source replaces the earlier. */
  constructor(configs: readonly MappingConfig[]) {
    for (const text of configs) {
      // Configured as text, matched against subjects in wire form (subject-text.ts).
      const c: MappingConfig = {
        ...text,
        subject: textToWire(text.subject),
        destinations: text.destinations.map((d) => ({ ...d, subject: textToWire(d.subject) })),
      };
      const listed = new Set(c.destinations.map((d) => d.subject));
      const global = c.destinations.filter((d) => (d.cluster ?? '') === '');
      const byCluster = new Map<string, MappingDestination[]>();
      for (const d of c.destinations) {
        const cl = d.cluster ?? '';
        if (cl === '') continue;
        const l = byCluster.get(cl) ?? [];
        l.push(d);
        byCluster.set(cl, l);
      }
      const m: Mapping = {
        src: c.subject,
        wildcard: subjectHasWildcard(c.subject),
        dests: weighted(c.subject, global, listed),
        clusterDests: new Map([...byCluster].map(([cl, l]) => [cl, weighted(c.subject, l, listed)])),
      };
      const i = this.mappings.findIndex((x) => x.src === m.src);
      if (i >= 0) this.mappings[i] = m;
      else this.mappings.push(m);
    }
  }

  /**
   * The mappings as /accountz shows them (nats-server's ExtMap): each source's destinations with their
   * cumulative weights (the source itself for the rest, as added), then the cluster-scoped ones.
   */
  describe(): { src: string; dests: MappingDestination[] }[] {
    return this.mappings.map((m) => ({
      src: wireToText(m.src),
      dests: [
        ...m.dests.map((d) => ({ subject: wireToText(d.transform.dest), weight: d.upTo })),
        ...[...m.clusterDests].flatMap(([cluster, ds]) =>
          ds.map((d) => ({ subject: wireToText(d.transform.dest), weight: d.upTo, cluster })),
        ),
      ],
    }));
  }

  /**
   * The subject a message published on `subject` is routed on (nats-server's selectMappedSubject): the
   * first mapping whose source matches, a destination drawn by weight; `subject` itself when none maps it.
   * '' when the draw fell in a listed source's dropped share.
   */
  map(subject: string, clusterName: string): string {
    let m: Mapping | undefined;
    for (const rm of this.mappings) {
      if (rm.wildcard ? matchLiteral(subject, rm.src) : rm.src === subject) {
        m = rm;
        break;
      }
    }
    if (m === undefined) return subject;
    const dests = (clusterName !== '' ? m.clusterDests.get(clusterName) : undefined) ?? m.dests;
    let d: Destination | undefined;
    if (dests.length === 1 && dests[0]!.upTo === 100) {
      d = dests[0];
    } else {
      const w = Math.floor(Math.random() * 100);
      d = dests.find((x) => w < x.upTo);
    }
    return d === undefined ? '' : (d.transform.match(subject) ?? '');
  }
}
