/**
 * The pipeline sources Updraft reads, by file kind. Adding a kind of pipeline file
 * (YAML, ...) means adding its source here.
 */
import type { Clock } from '../core/clock.ts';
import type { PipelineSource } from './pipeline-source.ts';
import { TypeScriptSource } from './typescript-source.ts';
import { YamlSource } from './yaml/yaml-source.ts';

/** What sources may need. */
export interface SourceContext {
  /** Updraft home (for caches). */
  home: string;
  /** Clock for timeouts. Default: the system clock. */
  clock?: Clock;
  /** The pipelines folder (YAML reads `defaults.yaml` files from it down). */
  pipelinesDir?: string;
}

/** A fresh instance of every built-in source. */
export function defaultSources(context: SourceContext): PipelineSource[] {
  return [
    new TypeScriptSource({ home: context.home, clock: context.clock }),
    new YamlSource({ pipelinesDir: context.pipelinesDir }),
  ];
}
