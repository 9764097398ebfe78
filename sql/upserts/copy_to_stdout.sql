-- Stream a query's result as CSV (NULL = unquoted empty field, '' = ""), read back with pyarrow
-- by confirma_pipeline/warehouse/copy_format.py.
COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER false)
