import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type DataHarness, fragmentVersion, openDataHarness, readVersionRows } from './support.ts';

const op = { name: 'olga', role: 'op' as const };
const user = { name: 'uma', role: 'user' as const };
const admin = { name: 'ada', role: 'admin' as const };

for (const backend of STORE_BACKENDS) {
  describe(`promotion, rollback, vacuum and compaction on ${backend.name}`, () => {
    let h: DataHarness;
    beforeAll(async () => {
      h = await openDataHarness(backend);
      const run = { runPk: await h.createRun('seed', 's1'), dagId: 'seed', runId: 's1' };
      for (let i = 1; i <= 6; i++) {
        const { outcome } = await h.runTask(run, {
          taskId: 'write',
          operator: 'duckdb',
          config: {
            query: `select range as id, ${i} as gen from range(${i * 10})`,
            output: 'sales',
          },
        });
        expect(outcome.error?.message).toBeUndefined();
      }
    });
    afterAll(async () => {
      await h?.close();
    });

    it('promotes within the policy, records who and why, and refuses what the policy forbids', async () => {
      const moved = await h.ops.promote('sales', 2, 'staging', {
        actor: user,
        reason: 'looks right',
      });
      expect(moved).toMatchObject({
        fromVersion: null,
        toVersion: 2,
        actor: 'uma',
        reason: 'looks right',
      });
      await expect(h.ops.promote('sales', 2, 'prod', { actor: user })).rejects.toThrow(
        "'uma' (user) may not move alias 'prod' of 'sales': it needs the op or admin role",
      );
      await expect(h.ops.promote('sales', 1, 'latest', { actor: admin })).rejects.toThrow(
        "alias 'latest' of 'sales' moves only when a version is committed",
      );
      await expect(h.ops.promote('sales', 99, 'prod', { actor: op })).rejects.toThrow(
        "dataset 'sales' has no version v99 (latest: v6)",
      );
      await expect(h.ops.promote('../sales', 1, 'prod', { actor: op })).rejects.toThrow(
        'is not a valid dataset name',
      );
      await expect(h.ops.promote('sales', 1, 'pr od', { actor: op })).rejects.toThrow(
        "'pr od' is not a valid alias",
      );

      // Blocking checks (the quality layer's seam) gate promotion.
      await h.ops.recordBlockingChecks('sales', 3, false);
      await expect(h.ops.promote('sales', 3, 'prod', { actor: op })).rejects.toThrow(
        "cannot promote 'sales' v3 to 'prod': its blocking quality checks failed",
      );
      await h.ops.recordBlockingChecks('sales', 3, true);
      await h.ops.promote('sales', 3, 'prod', { actor: op, reason: 'release 1' });

      // An approval requirement: only op/admin approve, then the promotion passes.
      await expect(
        h.ops.setAliasPolicy(
          {
            dataset: 'sales',
            alias: 'prod',
            roles: ['op', 'admin'],
            requireChecks: true,
            requireApproval: true,
          },
          op,
        ),
      ).rejects.toThrow('changing a promotion policy needs the admin role');
      await h.ops.setAliasPolicy(
        {
          dataset: 'sales',
          alias: 'prod',
          roles: ['op', 'admin'],
          requireChecks: true,
          requireApproval: true,
        },
        admin,
      );
      await expect(h.ops.promote('sales', 4, 'prod', { actor: op })).rejects.toThrow(
        'it needs an approval by a user with the op or admin role',
      );
      await expect(h.ops.approve('sales', 4, 'prod', { actor: user })).rejects.toThrow(
        'approving a promotion needs the op or admin role',
      );
      await h.ops.approve('sales', 4, 'prod', { actor: admin, reason: 'signed off' });
      await h.ops.promote('sales', 4, 'prod', { actor: op, reason: 'release 2' });
      await h.ops.approve('sales', 5, 'prod', { actor: admin });
      await h.ops.promote('sales', 5, 'prod', { actor: op, reason: 'release 3' });
      expect((await h.ops.showVersion('sales@prod')).version).toBe(5);
    });

    it('rolls back step by step through the promotions, recording each move', async () => {
      expect(
        await h.ops.rollback('sales', 'prod', { actor: op, reason: 'bad numbers' }),
      ).toMatchObject({ fromVersion: 5, toVersion: 4 });
      expect(await h.ops.rollback('sales', 'prod', { actor: op })).toMatchObject({
        fromVersion: 4,
        toVersion: 3,
      });
      await expect(h.ops.rollback('sales', 'prod', { actor: op })).rejects.toThrow(
        "cannot roll back 'sales@prod': v3 is the first version it pointed at",
      );
      await expect(h.ops.rollback('sales', 'prod', { actor: user })).rejects.toThrow(
        'may not move alias',
      );
      await expect(h.ops.rollback('sales', 'nope', { actor: op })).rejects.toThrow(
        'the alias does not exist',
      );
      const history = await h.ops.aliasHistory('sales', 'prod');
      expect(
        history.map(
          (e) =>
            `${e.action} ${e.fromVersion}->${e.toVersion} by ${e.actor} (${e.actorRole}): ${e.reason}`,
        ),
      ).toEqual([
        'rollback 4->3 by olga (op): null',
        'rollback 5->4 by olga (op): bad numbers',
        'promote 4->5 by olga (op): release 3',
        'promote 3->4 by olga (op): release 2',
        'promote null->3 by olga (op): release 1',
      ]);
      const latest = await h.ops.aliasHistory('sales', 'latest');
      expect(latest).toHaveLength(6);
      expect(latest[0]).toMatchObject({ action: 'commit', actor: 'updraft', toVersion: 6 });
    });

    it('vacuums old versions but never an aliased one, and cleans orphans and dead staging', async () => {
      // Aliases: latest → 6, prod → 3, staging → 2. Keep the last 2: 5 and 6.
      const orphan = path.join(h.datasetsRoot, 'sales', 'v99');
      mkdirSync(orphan, { recursive: true });
      writeFileSync(path.join(orphan, 'part-0.parquet'), 'half');
      const old = new Date(Date.now() - 2 * 3600_000);
      utimesSync(orphan, old, old);
      const staged = await h.storage.createStaging({
        dataset: 'sales',
        dagId: 'seed',
        runId: 's1',
        taskId: 'write',
        mapIndex: -1,
        tryNumber: 9,
        createdAt: old.toISOString(),
      });
      const dry = await h.ops.vacuum({ keepLast: 2, dryRun: true });
      expect(dry.removedVersions.map((v) => v.version)).toEqual([4, 1]);
      expect(existsSync(path.join(h.datasetsRoot, 'sales', 'v4'))).toBe(true);

      const report = await h.ops.vacuum({ keepLast: 2 });
      expect(report.removedVersions.map((v) => v.version)).toEqual([4, 1]);
      expect(report.protectedVersions).toEqual([
        { dataset: 'sales', version: 3, why: "alias 'prod'" },
        { dataset: 'sales', version: 2, why: "alias 'staging'" },
      ]);
      expect(report.removedOrphans).toEqual(['sales/v99']);
      expect(report.removedStaging).toEqual([staged.rel]);
      expect(report.bytesFreed).toBeGreaterThan(0);
      for (const v of [2, 3, 5, 6])
        expect(existsSync(path.join(h.datasetsRoot, 'sales', `v${v}`))).toBe(true);
      for (const v of [1, 4, 99])
        expect(existsSync(path.join(h.datasetsRoot, 'sales', `v${v}`))).toBe(false);
      expect(existsSync(staged.dir)).toBe(false);
      await expect(h.ops.showVersion('sales@v4')).resolves.toMatchObject({
        deletedAt: expect.any(String),
      });
      await expect(h.ops.promote('sales', 4, 'staging', { actor: op })).rejects.toThrow(
        'v4 was removed by vacuum',
      );
      const versions = await h.ops.listVersions('sales');
      expect(
        versions.map((v) => `${v.version}${v.deletedAt ? '(deleted)' : ''}:${v.aliases.join('+')}`),
      ).toEqual(['6:latest', '5:', '4(deleted):', '3:prod', '2:staging', '1(deleted):']);
    });

    it('compacts a version of many small files into one, with the same rows', async () => {
      const run = { runPk: await h.createRun('many', 'm1'), dagId: 'many', runId: 'm1' };
      const { outcome } = await h.runTask(run, {
        taskId: 'write',
        operator: 'duckdb',
        config: {
          setup: 'set threads = 2',
          query: 'select range as id, md5(range::varchar) as h from range(300000)',
          output: 'wide',
        },
      });
      expect(outcome.error?.message).toBeUndefined();
      // Write a version of many small files the way an appending producer would.
      const before = await h.ops.showVersion('wide');
      const rows = await readVersionRows(before.location, 'id');
      const described = await fragmentVersion(h.store, h.ops, 'wide', before.version);

      const result = await h.ops.compact('wide', undefined, 64 * 1024 * 1024);
      expect(result).toMatchObject({
        compacted: true,
        filesBefore: described.files,
        filesAfter: 1,
        path: `wide/v${before.version}.c1`,
      });
      const after = await h.ops.showVersion('wide');
      expect(after.rows).toBe(described.rows);
      expect(after.files).toBe(1);
      expect((await readVersionRows(after.location, 'id')).length).toBe(rows.length * 2);
      expect(await h.ops.compact('wide')).toMatchObject({ compacted: false });
    });
  });
}
