/**
 * The published JSON Schema (`schema/pipeline.schema.json`) is generated from the TypeBox
 * definitions and the operator registry; this test fails while the committed file is
 * stale. The example pipelines validate against it and load without issues.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { discoverPipelineFiles } from '../../../src/loader/discover.ts';
import { pipelineSchemaText, SCHEMA_PATH } from '../../../src/loader/yaml/publish-schema.ts';
import { YamlSource } from '../../../src/loader/yaml/yaml-source.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const committed = readFileSync(path.join(root, SCHEMA_PATH), 'utf8');
const examples = path.join(root, 'pipelines');

describe('published pipeline schema', () => {
  it('is up to date with the TypeBox definitions and the operators (else: npm run schema)', () => {
    expect(committed, `${SCHEMA_PATH} is stale: run 'npm run schema' and commit it`).toBe(
      pipelineSchemaText(),
    );
  });

  it("holds each operator's config schema", () => {
    const schema = JSON.parse(committed) as {
      $defs: { task: { allOf: { if: unknown; then: { properties: { config: unknown } } }[] } };
    };
    const shell = schema.$defs.task.allOf.find(
      (rule) =>
        JSON.stringify(rule.if) ===
        JSON.stringify({ properties: { operator: { const: 'shell' } }, required: ['operator'] }),
    );
    expect(shell?.then.properties.config).toMatchObject({
      additionalProperties: false,
      properties: { command: { type: 'string' }, returnOutput: { default: 'none' } },
    });
  });

  it('accepts the example pipelines and rejects a misspelt key', async () => {
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(committed));
    const files = await discoverPipelineFiles(examples, (f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      expect(
        validate(parse(readFileSync(file, 'utf8'))),
        `${file}: ${JSON.stringify(validate.errors)}`,
      ).toBe(true);
    }
    expect(validate({ dags: { d: { tasks: { t: { operator: 'shell', retrys: 1 } } } } })).toBe(
      false,
    );
  });

  it('the example pipelines load without issues', async () => {
    const source = new YamlSource({ pipelinesDir: examples });
    const files = await discoverPipelineFiles(
      examples,
      (f) => /\.ya?ml$/.test(f) && source.accepts(f),
    );
    const results = await source.load(files);
    expect(results.flatMap((r) => [...r.issues, ...r.dags.flatMap((d) => d.issues)])).toEqual([]);
    // The YAML examples of docs/yaml.md, among the other example pipelines.
    expect(results.flatMap((r) => r.dags.map((d) => d.spec.dagId))).toEqual(
      expect.arrayContaining(['audience_refresh', 'campaign_digest', 'warehouse_sync']),
    );
  });
});
