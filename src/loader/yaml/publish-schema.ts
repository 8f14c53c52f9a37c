/**
 * Writes the published JSON Schema of YAML pipelines, `schema/pipeline.schema.json`,
 * from the TypeBox definitions and the operators registered now. Run it after changing
 * the format or an operator's config schema (a test fails while the file is stale):
 *
 *     npm run schema
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pipelineJsonSchema } from './document-schema.ts';

/** Where the schema is published, relative to the repository root. */
export const SCHEMA_PATH = 'schema/pipeline.schema.json';

/** The text of the published schema: indented JSON with a final newline. */
export function pipelineSchemaText(): string {
  return `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
}

const script = process.argv[1];
if (script !== undefined && pathToFileURL(script).href === import.meta.url) {
  const target = fileURLToPath(new URL(`../../../${SCHEMA_PATH}`, import.meta.url));
  writeFileSync(target, pipelineSchemaText());
  process.stdout.write(`wrote ${target}\n`);
}
