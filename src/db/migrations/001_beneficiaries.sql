-- Beneficiaries and their MBI history, modelled on BFD's tables of the same names.
-- Lookups match the plaintext mbi_num columns: there are no hash columns.
create table beneficiaries (
  bene_id              bigint primary key,
  mbi_num              varchar(11),
  efctv_bgn_dt         date,
  efctv_end_dt         date,
  bene_srnm_name       varchar(24) not null,
  bene_gvn_name        varchar(15) not null,
  bene_mdl_name        char(1),
  bene_birth_dt        date not null,
  bene_sex_ident_cd    char(1) not null,
  state_code           char(2),
  bene_zip_cd          varchar(9),
  bene_death_dt        date,
  last_updated         timestamptz not null default now()
);

create index beneficiaries_mbi_num_idx on beneficiaries (mbi_num);

create table beneficiaries_history (
  bene_history_id      bigint primary key,
  bene_id              bigint not null references beneficiaries (bene_id),
  mbi_num              varchar(11),
  efctv_bgn_dt         date,
  efctv_end_dt         date,
  last_updated         timestamptz not null default now()
);

create index beneficiaries_history_mbi_num_idx on beneficiaries_history (mbi_num);
create index beneficiaries_history_bene_id_idx on beneficiaries_history (bene_id);
