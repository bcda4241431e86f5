-- The fleet key ring (KEY_STORE=postgres): every gateway of a deployment reads its keys here and
-- follows changes by LISTEN/NOTIFY and by polling key_ring.version. Written only by the key
-- custodian commands (npm run keys), each change one transaction that locks the key_ring row.

-- One row: the version of the ring's content (src/keys/ring-version.ts), changed with it, and
-- the check value of the fleet's AUDIT_HMAC_KEY (an HMAC of a fixed label, never the key), so
-- every instance fingerprints identifiers alike.
create table key_ring (
  singleton            boolean primary key default true check (singleton),
  version              bigint not null default 0,
  changed_at           timestamptz not null default now(),
  audit_key_check      text
);
insert into key_ring (singleton) values (true);

-- One row per key, as the directory store's manifest entries. A private key is kept only sealed
-- (a PBES2 JWE under KEYS_PASSPHRASE): reading this table does not give the key without the
-- passphrase. A key held by an HSM has no private part here.
create table key_ring_keys (
  kid                  text primary key check (kid ~ '^[A-Za-z0-9_-]{1,64}$'),
  hpke_key_id          integer not null unique check (hpke_key_id between 1 and 65535),
  crv                  text not null check (crv in ('P-256', 'X25519')),
  state                text not null
                       check (state in ('pending', 'active', 'retiring', 'retired', 'revoked')),
  created              timestamptz not null,
  not_after            timestamptz,
  publish_at           timestamptz,
  retire_at            timestamptz,
  public_jwk           jsonb not null,
  custody              text not null default 'sealed' check (custody in ('sealed', 'hsm')),
  sealed_private_jwk   text,
  check (state <> 'pending' or publish_at is not null),
  check (state <> 'retiring' or not_after is not null),
  check (custody <> 'sealed' or sealed_private_jwk is not null)
);
