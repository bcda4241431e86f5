-- Key destruction (npm run keys -- destroy, sweep): a retired or revoked key's private material
-- is removed, its row stays (its kid and hpke_key_id are never reused). destroyed_at records when;
-- destroy_at when a sweep is to destroy it. A destroyed key holds no sealed value.
alter table key_ring_keys
  add column destroy_at timestamptz,
  add column destroyed_at timestamptz,
  drop constraint key_ring_keys_state_check,
  add constraint key_ring_keys_state_check check (
    state in ('pending', 'active', 'retiring', 'retired', 'revoked', 'destroyed')
  ),
  drop constraint key_ring_keys_check2,
  add constraint key_ring_keys_sealed_check check (
    (state = 'destroyed') = (destroyed_at is not null)
    and (state <> 'destroyed' or sealed_private_jwk is null)
    and (custody <> 'sealed' or state = 'destroyed' or sealed_private_jwk is not null)
  );
