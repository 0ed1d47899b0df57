// Group commit (src/store/store.ts): the writes of one turn of the event loop share one SQLite
// transaction; a call's own failure undoes only that call; a failed commit takes the whole turn
// back out of memory and fails every caller waiting for it; nothing is acknowledged before disk.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, type ChangeEvent } from '../src/store/store.ts';

const doc = (id: string, v: number) => ({ id, v });

describe('store group commit', () => {
  it('commits the calls of one turn together, durable once durable() resolves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-gc-'));
    try {
      const s = new Store(dir);
      for (let i = 0; i < 5; i++) {
        const tx = s.begin();
        tx.put('thing', 'a/r', doc(`t-${i}`, i));
        tx.commit();
      }
      // visible at once to later calls of the same turn…
      assert.equal(s.begin().all('thing', 'a/r').length, 5);
      const pending = s.durable();
      assert.ok(pending, 'a batch is open until the turn ends');
      // …and on disk when durable() resolves: a second connection sees them.
      await pending;
      assert.equal(s.durable(), undefined, 'nothing pending after the commit');
      const other = new Store(dir);
      assert.deepEqual(
        other
          .begin()
          .all<{ id: string; v: number }>('thing', 'a/r')
          .map((d) => d.v),
        [0, 1, 2, 3, 4],
      );
      other.close();
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a call whose write fails changes nothing, while the others of its turn commit', async () => {
    const s = new Store(':memory:');
    s.db.exec('CREATE TABLE side (k TEXT PRIMARY KEY)');
    const ok1 = s.begin();
    ok1.put('thing', 'a/r', doc('ok-1', 1));
    ok1.write((db) => db.prepare('INSERT INTO side (k) VALUES (?)').run('x'));
    ok1.commit();
    const bad = s.begin();
    bad.put('thing', 'a/r', doc('bad', 2));
    bad.write((db) => db.prepare('INSERT INTO side (k) VALUES (?)').run('x')); // duplicate key
    assert.throws(() => bad.commit(), /UNIQUE/);
    const ok2 = s.begin();
    ok2.put('thing', 'a/r', doc('ok-2', 3));
    ok2.commit();
    await s.durable();
    assert.deepEqual(
      s
        .begin()
        .all('thing', 'a/r')
        .map((d) => d.id),
      ['ok-1', 'ok-2'],
    );
    assert.deepEqual(s.db.prepare('SELECT k FROM side').pluck().all(), ['x']);
    const rows = s.db.prepare("SELECT id FROM docs WHERE kind = 'thing' ORDER BY id").pluck().all();
    assert.deepEqual(rows, ['ok-1', 'ok-2'], 'the failed call left no row behind');
    s.close();
  });

  it('a commit that fails takes the turn back out of memory and fails its callers', async () => {
    const s = new Store(':memory:');
    // A deferred foreign key is checked at COMMIT: a way to make the batch's commit fail.
    s.db.pragma('foreign_keys = ON');
    s.db.exec(`CREATE TABLE parent (id TEXT PRIMARY KEY);
      CREATE TABLE child (id TEXT PRIMARY KEY, parent TEXT REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)`);
    const first = s.begin();
    first.put('thing', 'a/r', doc('kept', 1));
    first.commit();
    await s.durable();
    const seen: ChangeEvent[] = [];
    let aborted = 0;
    s.onChange((e) => seen.push(...e));
    s.onAbort(() => aborted++);
    const a = s.begin();
    a.edit<{ id: string; v: number }>('thing', 'a/r', 'kept')!.v = 2;
    a.commit();
    const b = s.begin();
    b.put('thing', 'a/r', doc('new', 3));
    b.write((db) => db.prepare('INSERT INTO child (id, parent) VALUES (?, ?)').run('c', 'missing'));
    b.commit();
    assert.equal(s.begin().get<{ id: string; v: number }>('thing', 'a/r', 'kept')!.v, 2, 'visible within the turn');
    await assert.rejects(s.durable()!, /FOREIGN KEY/);
    assert.equal(s.begin().get<{ id: string; v: number }>('thing', 'a/r', 'kept')!.v, 1, 'the change is undone in memory');
    assert.equal(s.begin().get('thing', 'a/r', 'new'), undefined);
    assert.equal(aborted, 1);
    // listeners saw the changes and then their undoing (newest first)
    assert.deepEqual(
      seen.map((e) => `${e.id}:${(e.after as { v?: number } | undefined)?.v ?? '-'}`),
      ['kept:2', 'new:3', 'new:-', 'kept:1'],
    );
    assert.deepEqual(
      s.db
        .prepare("SELECT body FROM docs WHERE id = 'kept'")
        .pluck()
        .all()
        .map((b) => JSON.parse(b as string).v),
      [1],
    );
    // and the store goes on working
    const c = s.begin();
    c.put('thing', 'a/r', doc('after', 4));
    c.commit();
    await s.durable();
    assert.ok(s.begin().get('thing', 'a/r', 'after'));
    s.close();
  });
});
