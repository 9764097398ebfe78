-- "Why was this row not sent?" answered in one query: confirma.row_status has one row per invoice, orphan
-- invoice row and creditor the pipeline has seen, with its state and every open reason.
--
-- state (invoices): submitted | in_flight | pending | failed | rejected (validation or the API: the reasons
--   say which) | waiting_for_creditor (its creditor does not exist, was rejected or is not onboarded yet);
-- state (creditors): onboarded | in_flight | rejected | failed | not_created.
-- Reasons come from confirma.rejected_rows (open = not resolved); a ledger row adds its last error when it
-- has no open rejection and was not submitted.

CREATE INDEX IF NOT EXISTS rejected_rows_open_idx
    ON confirma.rejected_rows (entity, entity_key) WHERE resolved_at IS NULL;

CREATE OR REPLACE VIEW confirma.row_status AS
WITH open_reasons AS (
    SELECT entity,
           entity_key,
           max(creditor_id) AS creditor_id,
           array_agg(reason ORDER BY first_seen_at, reason) AS reasons,
           bool_and(checks <@ ARRAY['creditor_onboarded']) AS waiting,
           max((regexp_match(array_to_string(checks, ','), 'api_(\d{3})'))[1]::integer) AS http_status,
           min(first_seen_at) AS first_seen_at,
           max(last_seen_at) AS last_seen_at,
           (array_agg(run_id ORDER BY last_seen_at DESC))[1] AS last_run_id
    FROM confirma.rejected_rows
    WHERE resolved_at IS NULL
    GROUP BY entity, entity_key
)
SELECT 'invoice'::text AS entity,
       l.invoice_id AS entity_key,
       l.creditor_id,
       CASE
           WHEN l.state IN ('submitted', 'in_flight') THEN l.state
           WHEN o.entity_key IS NOT NULL AND NOT o.waiting THEN 'rejected'
           ELSE l.state
       END AS state,
       coalesce(
           o.reasons,
           CASE WHEN l.changed_after_submission
                THEN ARRAY['source changed after submission (not resent; decide by hand)'] END,
           CASE WHEN l.state <> 'submitted' AND l.last_error IS NOT NULL THEN ARRAY[l.last_error] END,
           ARRAY[]::text[]
       ) AS open_reasons,
       coalesce(l.last_http_status, o.http_status) AS http_status,
       l.attempts,
       least(l.created_at, o.first_seen_at) AS first_seen_at,
       greatest(l.updated_at, o.last_seen_at) AS last_seen_at,
       coalesce(l.run_id, o.last_run_id) AS last_run_id
FROM confirma.invoice_ledger l
LEFT JOIN open_reasons o ON o.entity = 'invoice' AND o.entity_key = l.invoice_id
UNION ALL
SELECT o.entity,
       o.entity_key,
       o.creditor_id,
       CASE WHEN o.waiting THEN 'waiting_for_creditor' ELSE 'rejected' END,
       o.reasons,
       o.http_status,
       0,
       o.first_seen_at,
       o.last_seen_at,
       o.last_run_id
FROM open_reasons o
WHERE o.entity IN ('invoice', 'invoice_row')
  AND NOT EXISTS (SELECT 1 FROM confirma.invoice_ledger l WHERE l.invoice_id = o.entity_key)
UNION ALL
SELECT 'creditor',
       c.creditor_id,
       c.creditor_id,
       CASE WHEN c.state IN ('created', 'imported') THEN 'onboarded' ELSE c.state END,
       coalesce(
           o.reasons,
           CASE WHEN c.state NOT IN ('created', 'imported') AND c.last_error IS NOT NULL
                THEN ARRAY[c.last_error] END,
           ARRAY[]::text[]
       ),
       o.http_status,
       c.attempts,
       least(c.created_at, o.first_seen_at),
       greatest(c.updated_at, o.last_seen_at),
       coalesce(c.run_id, o.last_run_id)
FROM confirma.clients c
LEFT JOIN open_reasons o ON o.entity = 'creditor' AND o.entity_key = c.creditor_id
UNION ALL
SELECT 'creditor', o.entity_key, o.creditor_id, 'rejected', o.reasons, o.http_status, 0,
       o.first_seen_at, o.last_seen_at, o.last_run_id
FROM open_reasons o
WHERE o.entity = 'creditor'
  AND NOT EXISTS (SELECT 1 FROM confirma.clients c WHERE c.creditor_id = o.entity_key);
