import { describe, expect, it } from 'vitest';
import { dag } from '../../src/authoring/dag.ts';
import { canonicalJson, dagVersionHash } from '../../src/loader/version-hash.ts';

describe('version hashes', () => {
  it('writes canonical JSON with sorted keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('depends on the spec content and the code hash, not on key order', () => {
    const build = (retries: number) =>
      dag({ id: 'h' }, (d) => {
        d.task('t', { retries }, () => null);
      }).spec;
    const spec = build(1);
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as typeof spec;
    expect(dagVersionHash(reordered, 'code1')).toBe(dagVersionHash(spec, 'code1'));
    expect(dagVersionHash(spec, 'code2')).not.toBe(dagVersionHash(spec, 'code1'));
    expect(dagVersionHash(build(2), 'code1')).not.toBe(dagVersionHash(spec, 'code1'));
    expect(dagVersionHash(spec, 'code1')).toMatch(/^[0-9a-f]{64}$/);
  });
});
