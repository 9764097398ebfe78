-- confirma.row_status (migration 0005) gains entity 'invoice_action': "why was this action (not) sent?" is
-- answered where invoices and creditors already are. Every existing column and row is kept as 0005 wrote it.
--
-- state (invoice actions): the action ledger's (waiting | pending | in_flight | sent | rejected | failed), or
--   rejected when an open validation reason stands (an action never registered has only that), or waiting when
--   its only open reasons say it waits for its invoice's case.
-- open_reasons: the open rejected rows of the action (validation, the API, waiting_for_case), else its waiting
--   reason, else its last error while not sent.

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
           (array_agg(run_id ORDER BY last_seen_at DESC))[1] AS last_run_id,
           bool_and(checks <@ ARRAY['waiting_for_case']) AS waiting_for_case
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
  AND NOT EXISTS (SELECT 1 FROM confirma.clients c WHERE c.creditor_id = o.entity_key)
UNION ALL
SELECT 'invoice_action',
       a.action_id,
       coalesce(a.creditor_id, o.creditor_id),
       CASE
           WHEN a.state IN ('sent', 'in_flight') THEN a.state
           WHEN o.entity_key IS NOT NULL AND NOT o.waiting_for_case THEN 'rejected'
           ELSE a.state
       END,
       coalesce(
           o.reasons,
           CASE WHEN a.state = 'waiting' AND a.waiting_reason IS NOT NULL THEN ARRAY[a.waiting_reason] END,
           CASE WHEN a.state <> 'sent' AND a.last_error IS NOT NULL THEN ARRAY[a.last_error] END,
           ARRAY[]::text[]
       ),
       coalesce(a.last_http_status, o.http_status),
       a.attempts,
       least(a.created_at, o.first_seen_at),
       greatest(a.updated_at, o.last_seen_at),
       coalesce(a.run_id, o.last_run_id)
FROM confirma.invoice_action_ledger a
LEFT JOIN open_reasons o ON o.entity = 'invoice_action' AND o.entity_key = a.action_id
UNION ALL
SELECT 'invoice_action', o.entity_key, o.creditor_id,
       CASE WHEN o.waiting_for_case THEN 'waiting' ELSE 'rejected' END,
       o.reasons, o.http_status, 0, o.first_seen_at, o.last_seen_at, o.last_run_id
FROM open_reasons o
WHERE o.entity = 'invoice_action'
  AND NOT EXISTS (SELECT 1 FROM confirma.invoice_action_ledger a WHERE a.action_id = o.entity_key);
