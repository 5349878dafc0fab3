import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAscii, textToWire, wireToText } from '../../src/routing/subject-text.js';

describe('subject-text: wire and text forms of a subject', () => {
  test('ASCII subjects are the same string in both forms', () => {
    for (const s of ['foo.bar', '$JS.ACK.S.C.1.2.3.4.5', '', '>']) {
      assert.ok(isAscii(s));
      assert.equal(textToWire(s), s);
      assert.equal(wireToText(s), s);
    }
  });

  test('the wire form holds the UTF-8 bytes, one char each, and converts back', () => {
    for (const text of ['ü.a', 'größe', 'strömung.verbraucher-ü', '日本.語', 'emoji.😀', 'a.é.>']) {
      const wire = textToWire(text);
      assert.ok(!isAscii(text));
      assert.deepEqual(Buffer.from(wire, 'latin1'), Buffer.from(text, 'utf8'));
      assert.equal(wire.length, Buffer.byteLength(text, 'utf8'));
      assert.equal(wireToText(wire), text);
    }
  });

  test('bytes that are not UTF-8 become U+FFFD in text', () => {
    assert.equal(wireToText('a.\xff'), 'a.\ufffd');
  });
});
