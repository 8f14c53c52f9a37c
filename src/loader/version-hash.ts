/**
 * Hashes that identify versions. A code hash (sha256 of a pipeline's bundle, see
 * `bundle.ts`) names the code; a version hash names one DAG as loaded from that code.
 */
import { createHash } from 'node:crypto';
import type { DagSpec, Json } from '../core/dag-spec.ts';

/** Hex sha256 of text (UTF-8) or bytes. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  // Built by concatenation: it runs for every DAG of every load (1,000s at once).
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const item = value[i];
      if (item !== undefined) out += canonicalJson(item);
    }
    return `${out}]`;
  }
  let out = '{';
  for (const key of Object.keys(value).sort()) {
    const item = value[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/**
 * The version hash of a DAG: sha256 of its spec as canonical JSON followed by the code
 * hash. It changes when the spec changes or when the code behind its tasks does.
 */
export function dagVersionHash(spec: DagSpec, codeHash: string): string {
  return sha256(canonicalJson(spec as unknown as Json) + codeHash);
}
