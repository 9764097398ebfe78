-- Two schemas: the input contract the user fills (or maps views onto) and the tables the
-- pipeline owns. Nothing outside `confirma` is ever written by the pipeline.
CREATE SCHEMA IF NOT EXISTS confirma_source;
CREATE SCHEMA IF NOT EXISTS confirma;
