import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { tensor } from './creation.js';
import { decodeSafetensors, encodeSafetensors, parseSafetensorsHeader, SafetensorsError } from './safetensors.js';

/** A safetensors file: 8-byte length (or `length`), the header text, `data` zero bytes. */
function file(header: string | object, data = 0, length?: bigint): Buffer {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + text.byteLength + data);
  out.writeBigUInt64LE(length ?? BigInt(text.byteLength), 0);
  text.copy(out, 8);
  return out;
}

const entry = (begin: number, end: number, shape = [(end - begin) / 4], dtype = 'F32') => ({ dtype, shape, data_offsets: [begin, end] });
const refused = (pattern: RegExp) => (e: unknown) => e instanceof SafetensorsError && pattern.test(e.message) && !e.message.includes('\n');

test('parseSafetensorsHeader: entries, metadata and the data section of a valid file', () => {
  const h = parseSafetensorsHeader(file({ __metadata__: { arch: 'x', __proto__x: 'y' }, b: entry(8, 16), a: entry(0, 8, [2, 1]), z: entry(16, 16, [0, 3]) }, 16));
  assert.deepEqual(h.metadata, { arch: 'x', __proto__x: 'y' });
  assert.deepEqual(h.entries.map((e) => [e.name, e.count, e.begin, e.end]), [['b', 2, 8, 16], ['a', 2, 0, 8], ['z', 0, 16, 16]]);
  assert.equal(h.dataLength, 16);
  const proto = parseSafetensorsHeader(file('{"__metadata__":{"__proto__":"p"}}'));
  assert.equal(Object.getPrototypeOf(proto.metadata), Object.prototype, "a '__proto__' key stays data");
  assert.equal(proto.metadata['__proto__'], 'p');
});

test('parseSafetensorsHeader: every malformed header is a one-line SafetensorsError naming the problem', () => {
  const cases: [Uint8Array, RegExp][] = [
    [Buffer.alloc(5), /file too short \(5 bytes\)/],
    [file('{}', 0, 1000n), /header length 1000 exceeds the file size \(10 bytes\)/],
    [file('{}', 0, 2n ** 64n - 1n), /header length 18446744073709551615 exceeds the file size/],
    [file('{"a": 1', 0), /header is not valid JSON/],
    [Buffer.concat([file('1234').subarray(0, 8), Buffer.from([0x7b, 0xff, 0xfe, 0x7d])]), /not valid UTF-8/],
    [file('null'), /header must be a JSON object, got null/],
    [file('[1,2]'), /header must be a JSON object, got \[1,2\]/],
    [file({ __metadata__: null }), /"__metadata__" must be an object of strings, got null/],
    [file({ __metadata__: 'arch' }), /"__metadata__" must be an object of strings, got "arch"/],
    [file({ __metadata__: ['a'] }), /"__metadata__" must be an object of strings/],
    [file({ __metadata__: { arch: 3 } }), /"__metadata__" value 'arch' must be a string, got 3/],
    [file({ w: null }), /entry 'w' is malformed: expected an object/],
    [file({ w: [] }), /entry 'w' is malformed: expected an object/],
    [file({ w: entry(0, 4, [1], 'F31') }, 4), /entry 'w' has unsupported dtype "F31"/],
    [file({ w: { shape: [1], data_offsets: [0, 4] } }, 4), /entry 'w' has unsupported dtype undefined/],
    [file({ w: entry(0, 4, [-1]) }, 4), /entry 'w' has an invalid shape \[-1\]/],
    [file({ w: entry(0, 4, [1.5]) }, 4), /invalid shape \[1\.5\]/],
    [file({ w: entry(0, 4, '4' as never) }, 4), /invalid shape "4"/],
    [file({ w: entry(0, 4, [2 ** 40, 2 ** 40]) }, 4), /shape \[1099511627776,1099511627776\] with too many elements/],
    [file({ w: entry(0, 4, [2 ** 52]) }, 4), /with too many bytes/],
    [file({ w: { dtype: 'F32', shape: [1] } }, 4), /invalid data_offsets undefined/],
    [file({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, 8), /invalid data_offsets \[0,4,8\]/],
    [file({ w: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, 8), /invalid data_offsets \[-4,0\]/],
    [file({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 1e300] } }, 8), /invalid data_offsets/],
    [file({ w: entry(8, 4, [1]) }, 8), /data_offsets \[8, 4\] inconsistent with the 8 data bytes \(out of range\)/],
    [file({ w: entry(4, 12) }, 8), /data_offsets \[4, 12\] inconsistent with the 8 data bytes/],
    [file({ w: entry(0, 8, [1]) }, 8), /data_offsets \[0, 8\] \(8 bytes\) inconsistent with shape \[1\] F32 \(4 bytes\)/],
    [file({ a: entry(0, 8), b: entry(4, 12) }, 12), /entries 'a' \[0, 8\] and 'b' \[4, 12\] overlap/],
    [file({ a: entry(0, 8), b: entry(0, 8) }, 8), /overlap/],
    [file({ 'bad\nname': null }), /entry 'bad\\u000aname' is malformed/],
  ];
  for (const [bytes, message] of cases) assert.throws(() => parseSafetensorsHeader(bytes, 'w.safetensors'), refused(message), String(message));
  assert.throws(() => parseSafetensorsHeader(file({ __metadata__: null }), 'w.safetensors'), refused(/^w\.safetensors: /));
});

test('decodeSafetensors: tensors of a valid file; dtypes mnas does not load are a SafetensorsError', () => {
  const t = tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  try {
    const bytes = encodeSafetensors(new Map([['w', t]]), { arch: 'a' });
    const decoded = decodeSafetensors(bytes);
    assert.deepEqual([...decoded.tensors.get('w')!.toFloat32Array()], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(decoded.metadata, { arch: 'a' });
    for (const x of decoded.tensors.values()) x.dispose();
  } finally {
    t.dispose();
  }
  assert.throws(() => decodeSafetensors(file({ h: entry(0, 4, [2], 'F16') }, 4), 'h.safetensors'), refused(/h\.safetensors: entry 'h' has unsupported dtype F16 \(mnas loads F32, F64, I64, U8\)/));
  assert.throws(() => decodeSafetensors(file({ __metadata__: null })), refused(/__metadata__/));
});

test('parseSafetensorsHeader on 20,000 random and mutated files: parses or throws SafetensorsError, never anything else', () => {
  const rng = new Rng(3);
  const valid = [
    file({ __metadata__: { arch: 'in28x28x1', format: 'mnas' }, 'a.weight': entry(0, 16, [2, 2]), b: entry(16, 24, [1], 'I64'), c: entry(24, 25, [1], 'U8') }, 25),
    file({ w: entry(0, 8, [2]) }, 8),
  ];
  const junk = ['null', '{', '}', '[', ']', '"', ':', ',', '-1', '1e400', '9007199254740993', '"__metadata__"', '"dtype"', '"shape"', '"data_offsets"', '"F32"', '\u0000', '\ud800', 'true', '{}', '[]', '"__proto__"'];
  let parsed = 0;
  for (let i = 0; i < 20_000; i++) {
    let bytes: Uint8Array;
    if (rng.int(5) === 0) {
      bytes = Uint8Array.from({ length: rng.int(64) }, () => rng.int(256));
    } else {
      const base = valid[rng.int(valid.length)]!;
      const n = Number(base.readBigUInt64LE(0));
      let text = base.subarray(8, 8 + n).toString('latin1');
      for (let m = 1 + rng.int(4); m > 0; m--) {
        const at = rng.int(text.length + 1);
        const op = rng.int(3);
        if (op === 0) text = text.slice(0, at) + junk[rng.int(junk.length)] + text.slice(at);
        else if (op === 1) text = text.slice(0, at) + text.slice(at + 1 + rng.int(6));
        else text = text.slice(0, at) + String.fromCharCode(rng.int(128)) + text.slice(at + 1);
      }
      const header = Buffer.from(text, 'utf8');
      const dataLength = rng.int(40);
      const out = Buffer.alloc(8 + header.byteLength + dataLength);
      const lengthField = rng.int(10) === 0 ? BigInt(rng.int(2 ** 31)) * BigInt(rng.int(2 ** 31)) : BigInt(header.byteLength);
      out.writeBigUInt64LE(lengthField, 0);
      header.copy(out, 8);
      bytes = out;
    }
    try {
      parseSafetensorsHeader(bytes);
      parsed++;
    } catch (e) {
      assert.ok(e instanceof SafetensorsError, `threw ${String(e)}`);
      assert.ok(!/[\n\r]/.test(e.message) && e.message.length < 2000, JSON.stringify(e.message));
    }
  }
  assert.ok(parsed > 10, `some mutations stay valid (${parsed})`);
});
