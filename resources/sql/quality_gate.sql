-- Nightly gate check after the de-identify task (deploy/run_sql.py runs it; any failed assertion
-- fails the task and the job). The de-identify job already releases a run only through the quality
-- gate; this re-checks what was published, from the de-identified zone alone.
-- Views registered by deploy/run_sql.py: deid_metadata, deid_runs, deid_redactions.

-- 1. The most recent de-identify run passed the gate and was released.
SELECT assert_true(
         coalesce(max_by(status, finished_at) = 'SUCCEEDED', false),
         'the most recent de-identify run did not pass the quality gate (or there is none)') AS last_run_ok
FROM deid_runs
WHERE stage = 'deidentify';

-- 2. Every published instance of that run says Patient Identity Removed, with its profile and key
--    version recorded (rows without them cannot be traced through a key rotation).
SELECT assert_true(
         count_if(NOT coalesce(patient_identity_removed, false)
                  OR profile IS NULL OR key_version IS NULL) = 0,
         'published instances without Patient Identity Removed, profile or key version') AS rows_ok
FROM deid_metadata
WHERE run_id = (SELECT max_by(run_id, finished_at) FROM deid_runs WHERE stage = 'deidentify');

-- 3. Redaction records only point at published instances.
SELECT assert_true(count(*) = 0, 'redaction records of instances that were not published') AS redactions_ok
FROM deid_redactions r
LEFT ANTI JOIN deid_metadata m
  ON r.run_id = m.run_id AND r.sop_instance_uid = m.sop_instance_uid;
