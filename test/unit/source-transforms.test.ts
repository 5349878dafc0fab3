/**
 * Unit tests of nats-server 2.10's `subject_transforms` of sources and mirrors in the stream config: decoding
 * and encoding (Go's field order), the source index name (composeIName), the Nats-Stream-Source header forms
 * read back (streamAndSeq), and what checkStreamConfig refuses, or leaves alone when recovering.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeRequest, goJson } from '../../src/jetstream/api/json.js';
import {
  checkStreamConfig,
  decodeStreamConfig,
  encodeStreamConfig,
  isApiError,
  nameHash,
  type StreamConfig,
  type StreamLookup,
  sourceIndexName,
} from '../../src/jetstream/config.js';
import { streamAndSeq } from '../../src/jetstream/sourcing.js';

function check(cfg: Record<string, unknown>, lookup?: StreamLookup): StreamConfig | string {
  const r = checkStreamConfig(decodeStreamConfig(decodeRequest(JSON.stringify(cfg))), lookup);
  return isApiError(r) ? `${r.err_code} ${r.description}` : r;
}

describe('source and mirror subject_transforms in the stream config', () => {
  test('decoded, normalised and encoded in nats-server order (after filter_subject, before external)', () => {
    const cfg = check({
      name: 'S',
      sources: [
        {
          external: { api: '$JS.x.API', deliver: '' },
          subject_transforms: [{ dest: 'x.$1', src: 'a.*' }, null, { src: 'b' }],
          name: 'O',
        },
      ],
    });
    assert.ok(typeof cfg !== 'string', String(cfg));
    const src = encodeStreamConfig(cfg).sources as unknown[];
    assert.equal(
      goJson(src),
      '[{"name":"O","subject_transforms":[{"src":"a.*","dest":"x.$1"},{"src":"","dest":""},{"src":"b","dest":""}],' +
        '"external":{"api":"$JS.x.API","deliver":""}}]',
    );
    // An empty list is left out, as Go's omitempty does.
    const none = check({ name: 'T', sources: [{ name: 'O', subject_transforms: [] }] });
    assert.ok(typeof none !== 'string');
    assert.equal(goJson(encodeStreamConfig(none).sources), '[{"name":"O"}]');
  });

  test('the index name: origin, filters and destinations (">" for none), several joined by form feeds', () => {
    assert.equal(sourceIndexName({ name: 'O' }), 'O > >');
    assert.equal(sourceIndexName({ name: 'O', filter_subject: 'o.1' }), 'O o.1 >');
    assert.equal(
      sourceIndexName({
        name: 'O',
        subject_transforms: [
          { src: 'o.*', dest: 'x.$1' },
          { src: 'p', dest: '' },
        ],
      }),
      'O o.*\fp x.$1\f>',
    );
    assert.equal(
      sourceIndexName({ name: 'O', external: { api: '$JS.x.API', deliver: '' } }),
      `O:${nameHash('$JS.x.API')} > >`,
    );
  });

  test('the Nats-Stream-Source header forms: 2.9 (origin only), 2.10 (with the index name), an ack reply', () => {
    assert.deepEqual(streamAndSeq('O 12'), ['O', '', 12]);
    assert.deepEqual(streamAndSeq('O 12 o.* x.$1'), ['O', 'O o.* x.$1', 12]);
    // A destination with a space (mapping function arguments) is taken whole.
    assert.deepEqual(streamAndSeq('O 3 o.* x.{{partition(2, 1)}}'), ['O', 'O o.* x.{{partition(2, 1)}}', 3]);
    assert.deepEqual(streamAndSeq('$JS.ACK.O.c.1.7.7.1700000000000000000.0'), ['O', '', 7]);
    assert.deepEqual(streamAndSeq('O'), ['', '', 0]);
    assert.deepEqual(streamAndSeq('O 1 x'), ['', '', 0]);
  });

  test('refused as 2.10 refuses them, in its order', () => {
    const tr = (...pairs: [string, string][]) => pairs.map(([src, dest]) => ({ src, dest }));
    assert.equal(
      check({ name: 'S', mirror: { name: 'O', filter_subject: 'a', subject_transforms: tr(['b', 'c']) } }),
      '10150 mirror with multiple subject transforms cannot also have a single subject filter',
    );
    assert.equal(
      check({ name: 'S', mirror: { name: 'O', subject_transforms: tr(['a.>', 'x.>'], ['a.b', 'y']) } }),
      '10152 mirror subject filters can not overlap',
    );
    assert.equal(
      check({ name: 'S', mirror: { name: 'O', subject_transforms: tr(['a b', 'x']) } }),
      '10151 mirror subject filter is invalid',
    );
    // A source's destinations are checked before its filters.
    assert.equal(
      check({ name: 'S', sources: [{ name: 'O', subject_transforms: tr(['', 'x.'], ['a', 'y']) }] }),
      '10146 source transform destination is invalid',
    );
    assert.equal(
      check({ name: 'S', sources: [{ name: 'O', subject_transforms: tr(['a.*', 'x.$1'], ['a.b', 'y']) }] }),
      '10147 source filters can not overlap',
    );
    // An external source's transforms are not checked (its stream may be another with the same name).
    const ext = check({
      name: 'S',
      sources: [
        { name: 'O', external: { api: '$JS.x.API', deliver: '' }, subject_transforms: tr(['', 'x.']) },
      ],
    });
    assert.equal(typeof ext, 'object');
    assert.equal(
      check({ name: 'S', sources: [{ name: 'O' }, { name: 'O', filter_subject: '>' }] }),
      '10140 duplicate source configuration detected',
    );
  });

  test('names and duplicates stored before 2.10 checked them are left alone when recovering', () => {
    const cfg = { name: 'S', sources: [{ name: 'O.x' }, { name: 'O.x' }] };
    assert.equal(check(cfg), '10141 sourced stream name is invalid');
    assert.equal(typeof check(cfg, { stream: () => undefined, recovering: true }), 'object');
  });
});
