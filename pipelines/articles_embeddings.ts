/**
 * Dense vectors of the example shop's articles by LSA — latent semantic analysis, the
 * truncated SVD of the TF-IDF matrix of the article texts — not a neural embedding:
 * two articles are close when their texts share words, or words that occur together
 * in the catalogue. Reads `articles_content@staging` (pipelines/articles_content.yaml).
 *
 * 1. `embed` (skipped while `articles_content` has no staging version, e.g. on a first
 *    start where the weekly run comes before the first `articles_content` run): tokens
 *    of each article's normalised text (stop words and one-letter
 *    tokens out, pipelines/lib/text.ts); TF-IDF over terms found in at least two
 *    articles (lib/tfidf.ts); the k largest singular triplets by the randomized range
 *    finder of Halko et al. with a fixed seed (lib/truncated-svd.ts); each article's row
 *    of U·S scaled to unit length (lib/lsa.ts). k = `dimensions` (default 64), or fewer
 *    when the catalogue has fewer articles or terms. Written as `articles_embeddings`:
 *    article id, category, content hash, `vector` (DOUBLE[]).
 * 2. `check_vectors` (all blocking): one vector per article of the content version read,
 *    every vector of length k, finite, of unit norm, and not all the same.
 * 3. `promote`: the checked version becomes `articles_embeddings@staging`.
 *
 * When it runs: weekly (Mondays 06:00), by hand, and when `articles_content` changed the
 * catalogue — that DAG's `trigger_dag` task, which runs only when articles were added,
 * removed or changed. Not a dataset schedule on `articles_content`: a DAG has one
 * schedule, and a new version lands every day whether the catalogue changed or not
 * (ADR 20).
 */
import { dag, SkipTask, TaskFailure } from 'updraft';
import { lsaVectors } from './lib/lsa.ts';
import { tokenise } from './lib/text.ts';
import { tfidf } from './lib/tfidf.ts';

/** What the task `embed` reads of each article. */
interface ArticleText {
  article_id: number;
  category: string;
  content_hash: string;
  text: string;
}

/** Unit-norm tolerance of the vector checks. */
const NORM_TOLERANCE = 1e-9;

export default dag(
  {
    id: 'articles_embeddings',
    description: 'LSA vectors (truncated SVD of TF-IDF) of the example shop’s articles',
    owner: 'data-eng',
    tags: ['example', 'shop', 'text'],
    schedule: '0 6 * * 1',
    startDate: '2026-11-01',
    catchup: false,
    maxActiveRuns: 1,
    params: {
      type: 'object',
      additionalProperties: false,
      properties: {
        dimensions: {
          type: 'integer',
          minimum: 2,
          maximum: 512,
          default: 64,
          description: 'Vector length k (fewer when the catalogue has fewer articles or terms).',
        },
        seed: {
          type: 'integer',
          minimum: 0,
          maximum: 4294967295,
          default: 42,
          description:
            'Seed of the randomized SVD: the same content and seed give the same vectors.',
        },
      },
    },
    defaults: { retries: 2, retryDelay: '30s', retryExponentialBackoff: true },
  },
  (d) => {
    const embed = d.task(
      'embed',
      {
        // Optional: before articles_content promoted anything, there is nothing to embed.
        inlets: ['articles_content@staging?'],
        outlets: ['articles_embeddings'],
        doc: 'TF-IDF and truncated SVD of the article texts; the result says what was kept. Skipped while articles_content has no staging version.',
      },
      async (ctx) => {
        const [content] = ctx.datasets.inlets();
        if (content === undefined) {
          throw new SkipTask(
            'articles_content has no staging version yet: nothing to embed (articles_content triggers this DAG once it promotes one)',
          );
        }
        const articles = await ctx.datasets.query<ArticleText>(
          'select article_id, category, content_hash, text from articles_content order by article_id',
        );
        if (articles.length < 2) {
          throw new TaskFailure(
            `articles_content v${content.version} holds ${articles.length} article(s): LSA needs at least 2`,
            { retry: false },
          );
        }
        const seed = Number(ctx.params.seed ?? 42);
        const fit = tfidf(
          articles.map((a) => tokenise(a.text)),
          { minDocumentFrequency: 2 },
        );
        const k = Math.min(Number(ctx.params.dimensions ?? 64), fit.matrix.rows, fit.matrix.cols);
        if (k < 2) {
          throw new TaskFailure(
            `the articles share ${fit.matrix.cols} term(s) (in 2 articles or more): too few for vectors of 2 dimensions or more`,
            { retry: false },
          );
        }
        const lsa = lsaVectors(fit.matrix, k, { seed });
        const written = await ctx.datasets.write(
          'articles_embeddings',
          articles.map((a, i) => ({
            article_id: a.article_id,
            category: a.category,
            content_hash: a.content_hash,
            vector: [...(lsa.vectors[i] as Float64Array)],
          })),
          {
            schema: {
              article_id: 'BIGINT',
              category: 'VARCHAR',
              content_hash: 'VARCHAR',
              vector: 'DOUBLE[]',
            },
          },
        );
        const result = {
          dataset: 'articles_embeddings',
          articles: written.rows,
          content_version: content.version,
          method:
            'LSA: truncated SVD (randomized range finder, Halko et al. 2011) of l2-normalised TF-IDF, rows of U·S scaled to unit length',
          dimensions: k,
          seed,
          vocabulary: fit.vocabulary.length,
          kept_share: lsa.keptShare,
          singular_values: lsa.singularValues.slice(0, 8),
        };
        ctx.log.info('embedded the articles', result);
        return result;
      },
    );
    const checks = d.operator(
      'quality',
      'check_vectors',
      {
        dataset: 'articles_embeddings',
        checks: [
          { type: 'row_count', equal_to: 'articles_content@staging', blocking: true },
          { type: 'not_null', column: 'article_id', blocking: true },
          { type: 'unique', column: 'article_id', blocking: true },
          {
            type: 'custom_sql',
            id: 'vector_dimension',
            description: 'every vector has the dimension embed reports',
            sql: 'select * from data where vector is null or len(vector) <> {{ upstream.embed.dimensions }}',
            blocking: true,
          },
          { type: 'vector_finite', column: 'vector', blocking: true },
          {
            type: 'vector_norm',
            column: 'vector',
            min: 1 - NORM_TOLERANCE,
            max: 1 + NORM_TOLERANCE,
            blocking: true,
          },
          {
            type: 'custom_sql',
            id: 'not_all_identical',
            description: 'the vectors are not all the same',
            sql: 'select * from data where (select count(*) from data) > 1 and (select count(distinct vector) from data) = 1',
            blocking: true,
          },
        ],
      },
      { inlets: ['articles_embeddings', 'articles_content@staging'] },
    );
    const promote = d.operator(
      'promote',
      'promote',
      { to: 'staging' },
      {
        inlets: ['articles_embeddings'],
        doc: 'The version the checks passed becomes articles_embeddings@staging.',
      },
    );
    d.chain(embed, checks, promote);
  },
);
