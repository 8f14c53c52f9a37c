/**
 * The `articles_content` (YAML) and `articles_embeddings` (TypeScript) example pipelines
 * in the whole engine on a seeded shop of 200 articles:
 * - every row of `articles_content` equals a normalisation done here in TypeScript
 *   (pipelines/lib/text.ts, against the pipeline's DuckDB SQL) from the generator's rows,
 *   with the content hash computed by node:crypto;
 * - the embeddings skip before any content is promoted;
 * - the first run lists every article as added and triggers the embeddings once; a run
 *   on an unchanged catalogue triggers nothing; a run after changing one article,
 *   deleting one and adding one lists exactly those three and triggers one run more;
 *   a description without words fails the blocking validation, and nothing follows;
 * - the embeddings: one unit vector of 64 dimensions per article, checks passed,
 *   promoted; and nearest neighbours (cosine) mostly of the article's own category: at
 *   least 75%, within 10 points of plain TF-IDF neighbours computed here (no SVD), and
 *   50 points above what chance gives for these category sizes.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { normaliseText, tokenise } from '../../pipelines/lib/text.ts';
import { tfidf } from '../../pipelines/lib/tfidf.ts';
import type { ShopRow } from '../../src/examples/shop-tables.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type ExampleEngine,
  pipelineFilesWithLib,
  shopRows,
  startExampleEngine,
  taskStates,
} from './support.ts';

const SHOP = { seed: 5, scale: 1 };
const CONTENT = 'articles_content';
const EMBEDDINGS = 'articles_embeddings';
const triggeredRunId = (runId: string) => `triggered__${CONTENT}.trigger_embeddings__${runId}`;

interface Article {
  id: number;
  name: string;
  category: string;
  description: string;
}

/** What articles_content must hold for each article: category, text, content hash. */
function expectedContent(articles: readonly Article[]) {
  return articles.map((a) => {
    const category = normaliseText(a.category).replaceAll(' ', '_');
    const text = normaliseText(`${a.name} ${a.description}`);
    const hash = createHash('md5').update(`${category}\n${text}`).digest('hex');
    return { article_id: a.id, category, text, content_hash: hash };
  });
}

function generatorArticles(): Article[] {
  return shopRows(SHOP, 'articles').map((row: ShopRow) => ({
    id: row[0] as number,
    name: row[1] as string,
    category: row[2] as string,
    description: row[5] as string,
  }));
}

async function contentRows(engine: ExampleEngine, ref = CONTENT) {
  const rows = await engine.rows(ref, 'article_id');
  return rows.map((r) => ({
    article_id: Number(r.article_id),
    category: r.category,
    text: r.text,
    content_hash: r.content_hash,
  }));
}

async function changeRows(engine: ExampleEngine) {
  const rows = await engine.rows('articles_content_changes', 'article_id');
  return rows.map((r) => ({ article_id: Number(r.article_id), change: r.change }));
}

/** Share of vectors whose nearest other vector (cosine) is of the same category. */
function sameCategoryShare(
  vectors: readonly ArrayLike<number>[],
  categories: readonly string[],
): number {
  let same = 0;
  vectors.forEach((v, i) => {
    let best = -1;
    let bestSimilarity = Number.NEGATIVE_INFINITY;
    vectors.forEach((w, j) => {
      if (i === j) return;
      let dot = 0;
      for (let c = 0; c < v.length; c++) dot += (v[c] as number) * (w[c] as number);
      if (dot > bestSimilarity) [best, bestSimilarity] = [j, dot];
    });
    if (categories[best] === categories[i]) same++;
  });
  return same / vectors.length;
}

/** Dense rows of a TF-IDF fit (each l2-normalised, so dot products are cosines). */
function tfidfRows(texts: readonly string[]): Float64Array[] {
  const { matrix } = tfidf(
    texts.map((t) => tokenise(t)),
    { minDocumentFrequency: 2 },
  );
  return Array.from({ length: matrix.rows }, (_, r) => {
    const row = new Float64Array(matrix.cols);
    for (let i = matrix.rowStart[r] as number; i < (matrix.rowStart[r + 1] as number); i++)
      row[matrix.colIndex[i] as number] = matrix.values[i] as number;
    return row;
  });
}

async function embeddingRunIds(engine: ExampleEngine): Promise<string[]> {
  return (await engine.rt.runtime.ops.listRuns(EMBEDDINGS)).map((r) => r.runId).sort();
}

for (const backend of process.env.UPDRAFT_TEST_SKIP_POSTGRES === '1' ? [] : STORE_BACKENDS) {
  describe(`the articles_content and articles_embeddings example pipelines on a ${backend.name} store`, () => {
    let engine: ExampleEngine | undefined;
    afterEach(async () => {
      await engine?.close();
      engine = undefined;
    });

    it('normalises the catalogue, detects its changes, and embeds it once per change', async () => {
      engine = await startExampleEngine(
        backend,
        pipelineFilesWithLib('articles_content.yaml', 'articles_embeddings.ts'),
        SHOP,
      );
      const e = engine;
      expect(await e.rt.runtime.ops.listImportErrors()).toEqual([]);
      const articles = generatorArticles();
      expect(articles).toHaveLength(200);

      // 0. Embeddings before any content was promoted: nothing to embed, skipped.
      const e0 = await e.run(EMBEDDINGS, 'e0');
      expect(e0.state).toBe('success');
      expect(taskStates(e0)).toEqual({
        embed: 'skipped',
        check_vectors: 'skipped',
        promote: 'skipped',
      });

      // 1. The first run: nothing in staging, so every article is new.
      const c1 = await e.run(CONTENT, 'c1');
      expect(taskStates(c1)).toEqual({
        extract_articles: 'success',
        validate: 'success',
        normalise: 'success',
        check_content: 'success',
        detect_changes: 'success',
        count_changes: 'success',
        promote: 'success',
        trigger_embeddings: 'success',
      });
      expect(c1.state).toBe('success');
      expect(await contentRows(e)).toEqual(expectedContent(articles));
      const v1 = await e.version(CONTENT);
      expect((await e.version(`${CONTENT}@staging`)).version).toBe(v1.version);
      expect(await changeRows(e)).toEqual(
        articles.map((a) => ({ article_id: a.id, change: 'added' })),
      );

      const embedded = await e.waitForRun(EMBEDDINGS, triggeredRunId('c1'));
      expect(taskStates(embedded)).toEqual({
        embed: 'success',
        check_vectors: 'success',
        promote: 'success',
      });
      const result = (
        await e.rt.runtime.ops.getTaskInstance(EMBEDDINGS, triggeredRunId('c1'), 'embed')
      ).result as Record<string, unknown>;
      expect(result).toMatchObject({
        articles: 200,
        content_version: v1.version,
        dimensions: 64,
        seed: 42,
      });
      const vectors = await e.rows(`${EMBEDDINGS}@staging`, 'article_id');
      expect(vectors.map((r) => Number(r.article_id))).toEqual(articles.map((a) => a.id));
      for (const row of vectors) {
        const v = row.vector as number[];
        expect(v).toHaveLength(64);
        expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-9);
      }
      // Nearest neighbours: LSA against TF-IDF itself (no SVD) and against chance.
      const categories = vectors.map((r) => String(r.category));
      const lsaShare = sameCategoryShare(
        vectors.map((r) => r.vector as number[]),
        categories,
      );
      const content = await contentRows(e);
      const tfidfShare = sameCategoryShare(
        tfidfRows(content.map((r) => String(r.text))),
        categories,
      );
      const counts = new Map<string, number>();
      for (const c of categories) counts.set(c, (counts.get(c) ?? 0) + 1);
      const n = categories.length;
      const chance = [...counts.values()].reduce((s, k) => s + (k * (k - 1)) / (n * (n - 1)), 0);
      // Seen on this seed: LSA 0.87, TF-IDF 0.91, chance 0.124 (Σ n_c(n_c − 1) / n(n − 1)).
      // Neighbours in another category share brand, adjective, colour and material words;
      // 64 dimensions keep about 95% of ‖A‖²_F, so LSA stays close to TF-IDF.
      expect(lsaShare).toBeGreaterThanOrEqual(0.75);
      expect(lsaShare).toBeGreaterThanOrEqual(tfidfShare - 0.1);
      expect(lsaShare).toBeGreaterThan(chance + 0.5);
      expect(result.kept_share).toBeGreaterThan(0.5);

      // 2. Nothing changed: no changes, the branch skips the trigger, no embeddings run.
      const c2 = await e.run(CONTENT, 'c2');
      expect(c2.state).toBe('success');
      expect(taskStates(c2)).toMatchObject({
        detect_changes: 'success',
        count_changes: 'success',
        promote: 'success',
        trigger_embeddings: 'skipped',
      });
      expect(await changeRows(e)).toEqual([]);
      expect((await e.version(`${CONTENT}@staging`)).version).toBe(v1.version + 1);

      // 3. One article changed, one deleted, one added: exactly those, and one run more.
      const [changed, removed] = [articles[10] as Article, articles[20] as Article];
      const client = e.source.client;
      await client.query('update shop.articles set description = $1 where article_id = $2', [
        `${changed.description} Now with a solar charger!`,
        changed.id,
      ]);
      for (const table of ['transactions', 'reviews', 'web_events', 'articles'])
        await client.query(`delete from shop.${table} where article_id = $1`, [removed.id]);
      const added: Article = {
        id: 201,
        name: 'Nordwind Cosy Wool Blanket',
        category: 'Home',
        description: 'A cosy blanket in grey, made of wool. Light, sturdy and built to last.',
      };
      await client.query(
        `insert into shop.articles (article_id, name, category, brand, price, description, created_at)
         values ($1, $2, $3, 'Nordwind', 59.00, $4, date '2025-06-01')`,
        [added.id, added.name, added.category, added.description],
      );
      const c3 = await e.run(CONTENT, 'c3');
      expect(c3.state).toBe('success');
      expect(taskStates(c3)).toMatchObject({ promote: 'success', trigger_embeddings: 'success' });
      expect(await changeRows(e)).toEqual([
        { article_id: changed.id, change: 'changed' },
        { article_id: removed.id, change: 'removed' },
        { article_id: added.id, change: 'added' },
      ]);
      const now = articles
        .filter((a) => a.id !== removed.id)
        .map((a) =>
          a.id === changed.id
            ? { ...a, description: `${a.description} Now with a solar charger!` }
            : a,
        );
      expect(await contentRows(e)).toEqual(expectedContent([...now, added]));
      const second = await e.waitForRun(EMBEDDINGS, triggeredRunId('c3'));
      expect(second.state).toBe('success');
      expect(await embeddingRunIds(e)).toEqual(
        ['e0', triggeredRunId('c1'), triggeredRunId('c3')].sort(),
      );
      const after = await e.rows(`${EMBEDDINGS}@staging`, 'article_id');
      expect(after.map((r) => Number(r.article_id))).toEqual([...now, added].map((a) => a.id));

      // 4. A description without a single word fails the blocking validation: nothing
      // is normalised or promoted, and the embeddings are not triggered.
      await client.query(
        "update shop.articles set description = ' -- !!! ' where article_id = $1",
        [changed.id],
      );
      const staged = (await e.version(`${CONTENT}@staging`)).version;
      const c4 = await e.run(CONTENT, 'c4');
      expect(c4.state).toBe('failed');
      expect(taskStates(c4)).toMatchObject({
        validate: 'failed',
        normalise: 'upstream_failed',
        promote: 'upstream_failed',
        trigger_embeddings: 'upstream_failed',
      });
      expect((await e.checkStatuses('shop_articles')).description_has_words).toBe('error');
      expect((await e.version(`${CONTENT}@staging`)).version).toBe(staged);
      expect(await embeddingRunIds(e)).toEqual(
        ['e0', triggeredRunId('c1'), triggeredRunId('c3')].sort(),
      );
    }, 900_000);
  });
}
