/**
 * A running DagProcessor with the YAML source: editing a `defaults.yaml`, or creating
 * one in a subfolder, re-loads exactly the files below it, and only changed files are
 * parsed again.
 */
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DagProcessor } from '../../../src/loader/dag-processor.ts';
import type { FileLoadResult } from '../../../src/loader/file-load-result.ts';
import { YamlSource } from '../../../src/loader/yaml/yaml-source.ts';
import { tempPipelines, writeText } from '../helpers.ts';

const dagFile = (id: string) =>
  `dags:\n  ${id}:\n    tasks:\n      t: { operator: shell, config: { command: "true" } }\n`;

describe('YAML re-loading', () => {
  it('follows defaults.yaml files as inputs of the files below them', async () => {
    const dir = await tempPipelines({
      'defaults.yaml': 'defaults:\n  owner: first\n',
      'top.yaml': dagFile('top'),
      'team/below.yaml': dagFile('below'),
    });
    const source = new YamlSource({ pipelinesDir: dir });
    const reported: FileLoadResult[] = [];
    const processor = new DagProcessor({
      pipelinesDir: dir,
      home: dir,
      watch: false,
      sources: [source],
      onResult: (result) => reported.push(result),
      onRemoved: () => {},
    });
    onTestFinished(() => processor.stop());
    const owners = (results: readonly FileLoadResult[]) =>
      Object.fromEntries(
        results.map((r) => [path.relative(dir, r.fileloc), r.dags[0]?.spec.owner]),
      );
    expect(owners(await processor.start())).toEqual({
      'team/below.yaml': 'first',
      'top.yaml': 'first',
    });
    expect(source.parsedCount).toBe(3);

    await writeText(path.join(dir, 'defaults.yaml'), 'defaults:\n  owner: second\n');
    await processor.refresh();
    expect(owners(reported)).toEqual({ 'team/below.yaml': 'second', 'top.yaml': 'second' });
    // The defaults file was parsed again; the pipeline files were not (same content).
    expect(source.parsedCount).toBe(4);

    reported.length = 0;
    await writeText(path.join(dir, 'team/defaults.yaml'), 'defaults:\n  owner: team\n');
    await processor.refresh();
    expect(owners(reported)).toEqual({ 'team/below.yaml': 'team' });

    reported.length = 0;
    await processor.refresh();
    expect(reported).toEqual([]);
  });
});
