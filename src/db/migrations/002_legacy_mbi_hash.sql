-- Legacy hashed MBIs, for partners still searching BFD's `mbi-hash` system during the migration.
-- Kept apart from the core tables on purpose: beneficiaries and beneficiaries_history hold no
-- hash column, and dropping this table (or never filling it) removes the feature and nothing
-- else. Filled by `npm run legacy-hash` (PBKDF2-HMAC-SHA256, see scripts/legacy-hash.ts).
create table legacy_mbi_hash (
  mbi_num              varchar(11) primary key,
  mbi_hash             char(64) not null unique check (mbi_hash ~ '^[0-9a-f]{64}$')
);

-- The parameters the table was filled with, as a check value only: the hash of a fixed,
-- non-MBI string under the same pepper and iteration count. A rerun with another pepper or
-- count is refused instead of mixing two kinds of hash in one table. Never the pepper itself.
create table legacy_mbi_hash_params (
  singleton            boolean primary key default true check (singleton),
  iterations           integer not null check (iterations > 0),
  check_hash           char(64) not null
);
