-- Researchers' tables and views in ${catalog}.${schema} (the de-identified zone's schema), refreshed
-- by the nightly job after the gate check (deploy/run_sql.py registers deid_metadata, deid_runs,
-- deid_redactions from the Delta tables in the output volume; Unity Catalog cannot register tables
-- on files inside a volume, so each night's snapshot is published as a managed table).
-- Researchers hold USE_SCHEMA and SELECT on the schema (resources/unity_catalog.yml).

CREATE OR REPLACE TABLE ${catalog}.${schema}.metadata
COMMENT 'De-identified instances (one row per published SOP instance); refreshed nightly'
AS SELECT * FROM deid_metadata;

CREATE OR REPLACE TABLE ${catalog}.${schema}.runs
COMMENT 'Pipeline runs: stage, status, counts, profile, key version, code version'
AS SELECT * FROM deid_runs;

CREATE OR REPLACE TABLE ${catalog}.${schema}.redactions
COMMENT 'Burned-in text regions found per frame and what was done with them (no text)'
AS SELECT * FROM deid_redactions;

-- One row per instance, without the bulky DICOM JSON.
CREATE OR REPLACE VIEW ${catalog}.${schema}.instances AS
SELECT sop_instance_uid, study_uid, series_uid, patient_pseudonym, modality, body_part, study_date,
       manufacturer, model, rows, columns, frames, pixel_spacing, slice_thickness,
       study_description, series_description, burned_in_status, redacted_regions,
       profile, key_version, output_path, run_id, processed_at
FROM ${catalog}.${schema}.metadata;

-- One row per study.
CREATE OR REPLACE VIEW ${catalog}.${schema}.studies AS
SELECT study_uid, patient_pseudonym,
       min(study_date) AS study_date,
       concat_ws(',', sort_array(collect_set(modality))) AS modalities,
       count(DISTINCT series_uid) AS n_series,
       count(*) AS n_instances,
       sum(coalesce(redacted_regions, 0)) AS redacted_regions
FROM ${catalog}.${schema}.metadata
GROUP BY study_uid, patient_pseudonym;

-- Redactions per modality and label (what the pixel stage found, by kind).
CREATE OR REPLACE VIEW ${catalog}.${schema}.redaction_summary AS
SELECT m.modality, r.label, r.action, count(*) AS n_regions,
       count(DISTINCT r.sop_instance_uid) AS n_instances
FROM ${catalog}.${schema}.redactions r
JOIN ${catalog}.${schema}.metadata m
  ON r.run_id = m.run_id AND r.sop_instance_uid = m.sop_instance_uid
GROUP BY m.modality, r.label, r.action;

-- Run history, newest first.
CREATE OR REPLACE VIEW ${catalog}.${schema}.run_history AS
SELECT run_id, stage, status, started_at, finished_at,
       n_inputs, n_ingested, n_deidentified, n_quarantined, n_skipped,
       profile, key_version, code_version
FROM ${catalog}.${schema}.runs
ORDER BY finished_at DESC;
