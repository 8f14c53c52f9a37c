/**
 * `db.query.text` is sanitized: every literal becomes `?`, comments go, identifiers and
 * placeholders stay, the text is cut to a bounded length; `db.operation.name` is the
 * statement's first keyword.
 */
import { describe, expect, it } from 'vitest';
import { operationName, sanitizeSql } from '../../src/observability/db-spans.ts';

describe('sanitizeSql', () => {
  it('replaces string, escape-string, dollar-quoted and numeric literals with ?', () => {
    expect(sanitizeSql("select * from t where a = 'x''y' and b = E'it\\'s' and c = 3.5e-2")).toBe(
      'select * from t where a = ? and b = ? and c = ?',
    );
    expect(sanitizeSql('select $$a secret$$, $tag$x$y$tag$, -42, 7')).toBe('select ?, ?, -?, ?');
  });

  it('keeps identifiers, placeholders and names with digits', () => {
    expect(
      sanitizeSql('insert into "Weird ""1"" table" (c1, v2) values ($1, $2) -- note 123'),
    ).toBe('insert into "Weird ""1"" table" (c1, v2) values ($1, $2)');
    expect(sanitizeSql('select _qf_0, part_1 from s3.t2 /* 99 */ limit 10')).toBe(
      'select _qf_0, part_1 from s3.t2 limit ?',
    );
  });

  it('drops what a literal may hide: passwords, keys, paths', () => {
    const text = sanitizeSql(
      "ATTACH 'postgres://etl:hunter2@db/x' AS pg; CREATE SECRET (TYPE s3, KEY_ID 'AKIA1', SECRET 'abc');\n copy (select 1) to '/home/me/.staging/u'",
    );
    expect(text).toBe(
      'ATTACH ? AS pg; CREATE SECRET (TYPE s3, KEY_ID ?, SECRET ?); copy (select ?) to ?',
    );
    for (const secret of ['hunter2', 'AKIA1', 'abc', '/home']) expect(text).not.toContain(secret);
  });

  it('collapses whitespace and cuts long text', () => {
    expect(sanitizeSql('select\n\t a ,\n b   from t')).toBe('select a , b from t');
    const long = sanitizeSql(
      `select ${Array.from({ length: 500 }, (_, i) => `col_${i}`).join(', ')} from t`,
      100,
    );
    expect(long).toHaveLength(100);
    expect(long.endsWith('…')).toBe(true);
  });

  it('names the operation by the first keyword', () => {
    expect(operationName(sanitizeSql('  (select 1) union (select 2)'))).toBe('SELECT');
    expect(operationName(sanitizeSql('-- why\ncopy x to stdout'))).toBe('COPY');
    expect(operationName('')).toBe('SQL');
  });
});
