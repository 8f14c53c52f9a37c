/**
 * Product reviews of the example shop (`updraft examples seed --connection shop_source`,
 * docs/examples.md), every night: extracted, checked, cleaned and scored for sentiment.
 *
 * 1. `extract_reviews` copies `shop.reviews` into `shop_reviews`.
 * 2. `check_source` checks the keys and ratings (not null, unique review id, rating 1–5)
 *    and quarantines the rows that fail (`shop_reviews.quarantine`); the others go on as
 *    `shop_reviews.clean`, so one bad row does not stop the night's scoring.
 * 3. `clean_and_score` cleans each text (`pipelines/lib/clean-text.ts`: white space
 *    collapsed, empty text → null, shouting put in sentence case; the original is kept)
 *    and scores it with the AFINN-165 lexicon (`pipelines/lib/sentiment.ts`: a lexicon
 *    baseline with simple negation, not a trained model), into `reviews_clean`.
 * 4. `check_reviews` checks the result: keys, ratings, labels, sentiment exactly where
 *    there is text (blocking); overlong texts, the share of empty ones and how well the
 *    sentiment agrees with the stars (warnings: a lexicon's disagreement is a signal, not
 *    an error).
 * 5. `embed` gives each cleaned text with known words a dense vector, in
 *    `review_embeddings`: LSA, latent semantic analysis (`pipelines/lib/lsa.ts`: the
 *    truncated SVD of the TF-IDF matrix of the texts' words, rows scaled to unit
 *    length). Not a neural embedding: it knows which words occur together in these
 *    reviews, nothing else. `check_embeddings` checks the vectors.
 * 6. Once both checks passed, `promote_reviews` and `promote_embeddings` make the
 *    checked versions `reviews_clean@staging` and `review_embeddings@staging`.
 */
import { dag, TaskFailure } from 'updraft';
import { cleanText } from './lib/clean-text.ts';
import { lsaVectors } from './lib/lsa.ts';
import { SENTIMENT_LABELS, sentiment } from './lib/sentiment.ts';
import { tokenise } from './lib/text.ts';
import { tfidf } from './lib/tfidf.ts';

/** The columns of `reviews_clean`, with their types (null where there is no text). */
const REVIEWS_CLEAN_SCHEMA = {
  review_id: 'BIGINT',
  customer_id: 'INTEGER',
  article_id: 'INTEGER',
  rating: 'SMALLINT',
  created_at: 'TIMESTAMPTZ',
  body: 'VARCHAR',
  body_clean: 'VARCHAR',
  shouting: 'BOOLEAN',
  text_length: 'INTEGER',
  tokens: 'INTEGER',
  sentiment_score: 'INTEGER',
  sentiment_comparative: 'DOUBLE',
  sentiment_label: 'VARCHAR',
  sentiment_terms: 'VARCHAR[]',
} as const;

type ReviewsCleanRow = { [column in keyof typeof REVIEWS_CLEAN_SCHEMA]: unknown };

/** A review as extracted. */
interface SourceReview {
  review_id: number;
  customer_id: number;
  article_id: number;
  rating: number;
  body: string | null;
  created_at: Date;
}

/** A cleaned text longer than this many characters gets a warning. */
const LONG_TEXT_CHARS = 2000;

/** Dimensions of a review embedding. */
const EMBEDDING_DIMENSIONS = 16;

/**
 * The TF-IDF terms: words (normalised, without stop words) in at least 2 reviews, with
 * 1 + ln(count) as term frequency; the SVD's random start is seeded, so the same
 * texts give the same vectors.
 */
const TFIDF_OPTIONS = { minDocumentFrequency: 2, sublinearTf: true } as const;
const SVD_SEED = 42;

/** `review` cleaned and scored: one row of `reviews_clean`. */
function cleanAndScore(review: SourceReview): ReviewsCleanRow {
  const cleaned = cleanText(review.body);
  const scored = cleaned.text === null ? null : sentiment(cleaned.text);
  return {
    review_id: review.review_id,
    customer_id: review.customer_id,
    article_id: review.article_id,
    rating: review.rating,
    created_at: review.created_at,
    body: review.body,
    body_clean: cleaned.text,
    shouting: cleaned.shouting,
    text_length: cleaned.text?.length ?? 0,
    tokens: scored?.tokens ?? 0,
    sentiment_score: scored?.score ?? null,
    sentiment_comparative: scored?.comparative ?? null,
    sentiment_label: scored?.label ?? null,
    sentiment_terms:
      scored?.terms.map(
        (t) => `${t.negated ? '!' : ''}${t.term}:${t.value > 0 ? '+' : ''}${t.value}`,
      ) ?? null,
  };
}

export default dag(
  {
    id: 'reviews_nlp',
    description: 'Cleaned product reviews of the example shop with lexicon sentiment',
    owner: 'data-eng',
    tags: ['example', 'shop', 'nlp'],
    schedule: '0 1 * * *',
    startDate: '2026-11-01',
    catchup: false,
    maxActiveRuns: 1,
    // Notifier connection (README, "Alerting"); runs go on when it is not defined.
    notify: { onFailure: ['shop_oncall'] },
    defaults: { retries: 2, retryDelay: '30s', retryExponentialBackoff: true },
  },
  (d) => {
    const extract = d.operator(
      'extract',
      'extract_reviews',
      {
        connection: 'shop_source',
        query:
          'select review_id, customer_id, article_id, rating, body, created_at from shop.reviews',
        dataset: 'shop_reviews',
      },
      { outlets: ['shop_reviews'] },
    );
    const checkSource = d.operator(
      'quality',
      'check_source',
      {
        dataset: 'shop_reviews',
        quarantine: true,
        checks: [
          { type: 'row_count', min: 1, blocking: true },
          { type: 'not_null', column: 'review_id', blocking: true },
          { type: 'not_null', column: 'customer_id', blocking: true },
          { type: 'not_null', column: 'article_id', blocking: true },
          { type: 'not_null', column: 'rating', blocking: true },
          { type: 'unique', column: 'review_id', blocking: true },
          { type: 'range', column: 'rating', min: 1, max: 5, blocking: true },
        ],
      },
      {
        inlets: ['shop_reviews'],
        outlets: ['shop_reviews.clean', 'shop_reviews.quarantine'],
        doc: 'Rows failing a check go to shop_reviews.quarantine, the others on as shop_reviews.clean.',
      },
    );
    const score = d.task(
      'clean_and_score',
      {
        inlets: ['shop_reviews.clean'],
        outlets: ['reviews_clean'],
        doc: 'Cleans each review text and scores it with the AFINN-165 lexicon; the result counts reviews, empty and shouting texts and labels.',
      },
      async (ctx) => {
        const counts = { reviews: 0, empty: 0, shouting: 0, positive: 0, negative: 0, neutral: 0 };
        async function* rows(): AsyncGenerator<ReviewsCleanRow> {
          for await (const batch of ctx.datasets.batches<SourceReview>('shop_reviews.clean')) {
            for (const review of batch) {
              const row = cleanAndScore(review);
              counts.reviews++;
              if (row.body_clean === null) counts.empty++;
              if (row.shouting) counts.shouting++;
              const label = row.sentiment_label as (typeof SENTIMENT_LABELS)[number] | null;
              if (label !== null) counts[label]++;
              yield row;
            }
          }
        }
        const written = await ctx.datasets.write('reviews_clean', rows(), {
          schema: REVIEWS_CLEAN_SCHEMA,
        });
        ctx.log.info('cleaned and scored reviews', counts);
        return { dataset: written.dataset, ...counts };
      },
    );
    const checkReviews = d.operator(
      'quality',
      'check_reviews',
      {
        dataset: 'reviews_clean',
        metrics: ['mean(sentiment_score)', 'null_rate(body_clean)'],
        checks: [
          { type: 'not_null', column: 'review_id', blocking: true },
          { type: 'not_null', column: 'customer_id', blocking: true },
          { type: 'not_null', column: 'article_id', blocking: true },
          { type: 'unique', column: 'review_id', blocking: true },
          { type: 'range', column: 'rating', min: 1, max: 5, blocking: true },
          {
            type: 'accepted_values',
            column: 'sentiment_label',
            values: [...SENTIMENT_LABELS],
            blocking: true,
          },
          {
            type: 'custom_sql',
            id: 'sentiment_where_text',
            description: 'a review has a sentiment exactly when it has text',
            sql: 'select * from data where (body_clean is null) <> (sentiment_score is null) or (body_clean is null) <> (sentiment_label is null)',
            blocking: true,
          },
          {
            type: 'custom_sql',
            id: 'text_too_long',
            description: `cleaned text longer than ${LONG_TEXT_CHARS} characters`,
            sql: `select * from data where text_length > ${LONG_TEXT_CHARS}`,
            severity: 'warn',
          },
          {
            type: 'not_null',
            column: 'body_clean',
            id: 'text_present',
            description: 'reviews without text (more than 15 % is unusual)',
            warn_if: '> 15%',
          },
          {
            type: 'custom_sql',
            id: 'sentiment_against_rating',
            description: 'reviews of 4–5 stars labelled negative or of 1–2 stars labelled positive',
            sql: "select * from data where (rating >= 4 and sentiment_label = 'negative') or (rating <= 2 and sentiment_label = 'positive')",
            warn_if: '> 10%',
          },
          {
            type: 'custom_sql',
            id: 'five_stars_above_one_star',
            description:
              'the mean sentiment score of 5-star reviews is not above that of 1-star reviews',
            sql: `select five_star_mean, one_star_mean from (
                    select avg(sentiment_score) filter (where rating = 5) as five_star_mean,
                           avg(sentiment_score) filter (where rating = 1) as one_star_mean
                    from data)
                  where five_star_mean <= one_star_mean`,
            severity: 'warn',
          },
          {
            type: 'distribution',
            column: 'sentiment_comparative',
            metrics: ['mean', 'null_rate'],
            max_change: 0.25,
            severity: 'warn',
            description: 'sentiment moved a lot since the previous version',
          },
          { type: 'anomaly', metric: 'row_count' },
        ],
      },
      { inlets: ['reviews_clean'] },
    );
    const promoteReviews = d.operator(
      'promote',
      'promote_reviews',
      { to: 'staging' },
      {
        inlets: ['reviews_clean'],
        doc: 'Once both checks passed, the checked version becomes reviews_clean@staging.',
      },
    );
    const embed = d.task(
      'embed',
      {
        inlets: ['reviews_clean'],
        outlets: ['review_embeddings'],
        doc: 'LSA vectors (truncated SVD of TF-IDF, unit length) of the cleaned texts; the result says what the SVD kept.',
      },
      async (ctx) => {
        const reviews = await ctx.datasets.query<{ review_id: number; body_clean: string }>(
          'select review_id, body_clean from reviews_clean where body_clean is not null order by review_id',
        );
        const fit = tfidf(
          reviews.map((r) => tokenise(r.body_clean)),
          TFIDF_OPTIONS,
        );
        const { rowStart } = fit.matrix;
        // Texts without a word of the vocabulary have no direction: they get no vector.
        const withTerms = reviews.flatMap((_review, i) =>
          (rowStart[i + 1] as number) > (rowStart[i] as number) ? [i] : [],
        );
        if (Math.min(withTerms.length, fit.vocabulary.length) < EMBEDDING_DIMENSIONS) {
          throw new TaskFailure(
            `${EMBEDDING_DIMENSIONS}-dimensional embeddings need at least ${EMBEDDING_DIMENSIONS} reviews with text and as many terms in 2 reviews or more; ` +
              `reviews_clean has ${withTerms.length} reviews with such terms and ${fit.vocabulary.length} terms: seed a larger shop`,
            { retry: false },
          );
        }
        const lsa = lsaVectors(fit.matrix, EMBEDDING_DIMENSIONS, { seed: SVD_SEED });
        const written = await ctx.datasets.write(
          'review_embeddings',
          withTerms.map((i) => ({
            review_id: (reviews[i] as { review_id: number }).review_id,
            embedding: Array.from(lsa.vectors[i] as Float64Array),
          })),
          { schema: { review_id: 'BIGINT', embedding: 'DOUBLE[]' } },
        );
        const result = {
          dataset: written.dataset,
          method: `LSA: truncated SVD (randomized, seed ${SVD_SEED}) of TF-IDF (terms in 2 reviews or more, 1 + ln(count)), rows scaled to unit length`,
          dimensions: EMBEDDING_DIMENSIONS,
          reviews: withTerms.length,
          without_terms: reviews.length - withTerms.length,
          vocabulary: fit.vocabulary.length,
          kept_share: lsa.keptShare,
          singular_values: lsa.singularValues,
        };
        ctx.log.info('embedded reviews', result);
        return result;
      },
    );
    const checkEmbeddings = d.operator(
      'quality',
      'check_embeddings',
      {
        dataset: 'review_embeddings',
        checks: [
          { type: 'row_count', min: 1, blocking: true },
          { type: 'not_null', column: 'review_id', blocking: true },
          { type: 'unique', column: 'review_id', blocking: true },
          { type: 'referential', column: 'review_id', to: 'reviews_clean', blocking: true },
          {
            type: 'vector_dimension',
            column: 'embedding',
            dimension: EMBEDDING_DIMENSIONS,
            blocking: true,
          },
          { type: 'vector_finite', column: 'embedding', blocking: true },
          { type: 'vector_norm', column: 'embedding', min: 0.999, max: 1.001, blocking: true },
          {
            type: 'custom_sql',
            id: 'most_texts_embedded',
            description: 'fewer than 90 % of the reviews with text have a vector',
            sql: `select with_text, embedded from (
                    select (select count(*) from reviews_clean where body_clean is not null) as with_text,
                           (select count(*) from data) as embedded)
                  where embedded < 0.9 * with_text`,
            severity: 'warn',
          },
        ],
      },
      { inlets: ['review_embeddings', 'reviews_clean'] },
    );
    const promoteEmbeddings = d.operator(
      'promote',
      'promote_embeddings',
      { to: 'staging' },
      {
        inlets: ['review_embeddings'],
        doc: 'The version the checks passed becomes review_embeddings@staging.',
      },
    );
    d.chain(extract, checkSource, score, [checkReviews, embed]);
    embed.before(checkEmbeddings);
    d.chain([checkReviews, checkEmbeddings], [promoteReviews, promoteEmbeddings]);
  },
);
