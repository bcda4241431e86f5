-- The columns BFD's v2 Patient is built from beyond the core ones, with BFD's names: the race
-- code, the enrollment reference year, the twelve monthly Medicare-Medicaid dual eligibility
-- status codes, and the derived mailing address (six lines and the city), which the Patient
-- carries only when the request says `IncludeAddressFields: true`. All nullable: a row loaded
-- before this migration simply lacks the extensions, as a BFD row without the data does.
alter table beneficiaries
  add column bene_race_cd                 char(1),
  add column rfrnc_yr                     smallint,
  add column meta_dual_elgbl_stus_jan_cd  varchar(2),
  add column meta_dual_elgbl_stus_feb_cd  varchar(2),
  add column meta_dual_elgbl_stus_mar_cd  varchar(2),
  add column meta_dual_elgbl_stus_apr_cd  varchar(2),
  add column meta_dual_elgbl_stus_may_cd  varchar(2),
  add column meta_dual_elgbl_stus_jun_cd  varchar(2),
  add column meta_dual_elgbl_stus_jul_cd  varchar(2),
  add column meta_dual_elgbl_stus_aug_cd  varchar(2),
  add column meta_dual_elgbl_stus_sept_cd varchar(2),
  add column meta_dual_elgbl_stus_oct_cd  varchar(2),
  add column meta_dual_elgbl_stus_nov_cd  varchar(2),
  add column meta_dual_elgbl_stus_dec_cd  varchar(2),
  add column drvd_line_1_adr              varchar(40),
  add column drvd_line_2_adr              varchar(40),
  add column drvd_line_3_adr              varchar(40),
  add column drvd_line_4_adr              varchar(40),
  add column drvd_line_5_adr              varchar(40),
  add column drvd_line_6_adr              varchar(40),
  add column city_name                    varchar(100);

-- The newest last_updated is the data's freshness (a searchset Bundle's meta.lastUpdated when
-- nothing matched): one index probe per table instead of a scan.
create index beneficiaries_last_updated_idx on beneficiaries (last_updated);
create index beneficiaries_history_last_updated_idx on beneficiaries_history (last_updated);
