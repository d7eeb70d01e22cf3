// The on-disk layout, after k3s' kine: one append-only log where each row is one write and its id is the write's
// revision. Reads at a revision pick each key's newest row with id <= revision; compaction deletes rows nobody can
// read any more. Bump schemaVersion and add a migration step when this changes.
import type Database from 'better-sqlite3';

export const schemaVersion = 1;

const ddl = `
CREATE TABLE IF NOT EXISTS log (
  -- AUTOINCREMENT keeps sqlite_sequence at the newest revision ever written, so the revision never goes back
  -- even after compaction deleted the newest rows (a key deleted last).
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  -- The id of this key's previous row (0 for a first create): gives prevKv and tells compaction what is superseded.
  prev_revision INTEGER NOT NULL,
  -- A delete row repeats the deleted value, which its watch event carries.
  value TEXT NOT NULL
);
-- Serves get (newest row of a key), list (newest row per key at a revision, in key order) and prefix ranges.
CREATE INDEX IF NOT EXISTS log_name_id ON log (name, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Creates the tables in a new database and refuses one written by a newer hubspoke. */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > schemaVersion) {
    throw new Error(`database schema version ${version} is newer than this hubspoke supports (${schemaVersion})`);
  }
  db.transaction(() => {
    db.exec(ddl);
    db.pragma(`user_version = ${schemaVersion}`);
  })();
}
