-- Bulk load of CSV written by confirma_pipeline/warehouse/copy_format.py: unquoted empty
-- field = NULL, quoted "" = empty string.
COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER false, NULL '', ENCODING 'UTF8')
