/**
 * Dataset routes over the real data layer (versions written by DuckDB): list, versions,
 * manifest, lineage, promote and rollback within the alias policy, all audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/auth.ts';
import { ROLES, type Role } from '../../src/auth/roles.ts';
import { systemClock } from '../../src/core/clock.ts';
import { StoreOperations } from '../../src/ops/store-operations.ts';
import { StoreQualityOperations } from '../../src/quality/quality-operations.ts';
import { buildServer } from '../../src/server/app.ts';
import { healthSource } from '../../src/server/health-source.ts';
import { type DataHarness, openDataHarness } from '../data/support.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { PASSWORD, seedDatasetVersions } from './support.ts';

for (const backend of STORE_BACKENDS) {
  describe(`dataset routes on ${backend.name}`, () => {
    let h: DataHarness;
    let app: Awaited<ReturnType<typeof buildServer>>;
    const tokens = {} as Record<Role, string>;
    const as = (role: Role, method: string, url: string, payload?: object) =>
      app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${tokens[role]}` },
        ...(payload ? { payload } : {}),
      });

    beforeAll(async () => {
      h = await openDataHarness(backend);
      await seedDatasetVersions(h, {
        dagId: 'seed',
        taskId: 'write',
        dataset: 'sales',
        count: 3,
        rowsEach: 10,
      });
      const auth = createAuth(h.store, systemClock);
      for (const role of ROLES) {
        await auth.users.create(role, role, PASSWORD);
        const user = await auth.users.authenticate(role, PASSWORD);
        tokens[role] = (await auth.tokens.create(user!.id, 't')).token;
      }
      app = await buildServer({
        version: 't',
        health: healthSource(h.store, null),
        api: {
          ops: new StoreOperations(h.store, systemClock),
          store: h.store,
          auth,
          datasets: h.ops,
          quality: new StoreQualityOperations(h.store, h.storage),
          version: 't',
        },
      });
    }, 120_000);
    afterAll(async () => {
      await app?.close();
      await h?.close();
    });

    it('lists datasets, versions and a manifest', async () => {
      const list = (await as('viewer', 'GET', '/api/v1/datasets')).json();
      expect(list).toMatchObject([
        { name: 'sales', latestVersion: 3, versions: 3, rows: 30, aliases: { latest: 3 } },
      ]);
      const versions = (await as('viewer', 'GET', '/api/v1/datasets/sales/versions')).json();
      expect(versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
      expect(versions[0]).not.toHaveProperty('location');
      const v2 = (await as('viewer', 'GET', '/api/v1/datasets/sales/versions/2')).json();
      expect(v2.manifest).toMatchObject({ dataset: 'sales', version: 2, rowCount: 20 });
      expect(v2.manifest.schema.map((c: { name: string }) => c.name)).toEqual(['id', 'amount']);
      const lineage = (await as('viewer', 'GET', '/api/v1/datasets/sales/lineage')).json();
      expect(lineage).toMatchObject({ dataset: 'sales' });
      expect(lineage.edges).toContainEqual(
        expect.objectContaining({ dagId: 'seed', taskId: 'write', direction: 'write' }),
      );
      expect((await as('viewer', 'GET', '/api/v1/datasets/nope/versions')).statusCode).toBe(404);
      expect((await as('viewer', 'GET', '/api/v1/datasets/sales/versions/0')).json().field).toBe(
        'params.version',
      );
    });

    it('promotes and rolls back within the policy; the role and the policy are both enforced', async () => {
      expect(
        (
          await as('viewer', 'POST', '/api/v1/datasets/sales/promote', {
            version: 2,
            alias: 'staging',
          })
        ).statusCode,
      ).toBe(403);
      const staged = await as('user', 'POST', '/api/v1/datasets/sales/promote', {
        version: 2,
        alias: 'staging',
        reason: 'looks right',
      });
      expect(staged.json()).toMatchObject({ alias: 'staging', toVersion: 2, actor: 'user' });
      const prodByUser = await as('user', 'POST', '/api/v1/datasets/sales/promote', {
        version: 2,
        alias: 'prod',
      });
      expect(prodByUser.statusCode).toBe(403);
      expect(prodByUser.json().message).toContain('op or admin');
      expect(
        (await as('op', 'POST', '/api/v1/datasets/sales/promote', { version: 1, alias: 'prod' }))
          .statusCode,
      ).toBe(200);
      expect(
        (
          await as('op', 'POST', '/api/v1/datasets/sales/promote', { version: 3, alias: 'prod' })
        ).json().fromVersion,
      ).toBe(1);
      const back = await as('op', 'POST', '/api/v1/datasets/sales/rollback', {
        alias: 'prod',
        reason: 'bad numbers',
      });
      expect(back.json()).toMatchObject({ fromVersion: 3, toVersion: 1 });
      const history = (await as('viewer', 'GET', '/api/v1/datasets/sales/alias-history')).json();
      expect(history[0]).toMatchObject({
        action: 'rollback',
        alias: 'prod',
        actor: 'op',
        reason: 'bad numbers',
      });
      const audit = (await as('admin', 'GET', '/api/v1/audit?action=dataset.promote')).json();
      expect(
        audit.map((a: { username: string; outcome: string }) => [a.username, a.outcome]),
      ).toEqual([
        ['op', 'ok'],
        ['op', 'ok'],
        ['user', 'forbidden'],
        ['user', 'ok'],
        ['viewer', 'forbidden'],
      ]);
    });
  });
}
