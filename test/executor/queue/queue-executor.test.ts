import { runExecutorConformance } from '../conformance.ts';
import {
  ExecutorWithWorkers,
  testExecutorOptions,
  testWorkerOptions,
  uniquePrefix,
} from './support.ts';

runExecutorConformance('QueueExecutor', (home) => {
  const prefix = uniquePrefix();
  return new ExecutorWithWorkers(prefix, testExecutorOptions(prefix, home), [
    testWorkerOptions(prefix, home),
  ]);
});
