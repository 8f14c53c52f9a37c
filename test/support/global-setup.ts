/**
 * Runs once before the suite: builds a migrated PGlite data folder that test files copy
 * (opening a fresh PGlite costs seconds; a copy costs milliseconds), and checks that the
 * PostgreSQL server the integration suites need is reachable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openPGliteStore } from '../../src/store/store.ts';

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-pglite-template-'));
  const store = await openPGliteStore(path.join(dir, 'db'));
  await store.migrate();
  await store.close();
  project.provide('pgliteTemplate', path.join(dir, 'db'));
  return () => rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}
