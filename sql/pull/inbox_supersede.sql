-- An older unprocessed answer of the same client whose settlements are all in the tables now (written from
-- a newer answer, e.g. a date-range rerun) is superseded: the newer answer is the API's later word.
UPDATE confirma.api_inbox i
SET processed_at = now(), last_error = 'superseded by inbox answer ' || %(id)s::text
WHERE i.kind = %(kind)s AND i.processed_at IS NULL
  AND i.creditor_id = %(creditor_id)s AND i.id < %(id)s
  AND jsonb_typeof(i.payload -> 'settlements') = 'array'
  AND jsonb_array_length(i.payload -> 'settlements') > 0
  AND NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(i.payload -> 'settlements') AS e
      WHERE NOT EXISTS (
          SELECT 1 FROM confirma.settlements s
          WHERE s.settlement_id = (e ->> 'settlementId')::bigint AND s.creditor_id = i.creditor_id
      )
  )
