-- Same as postgres/0003_generator.sql.
ALTER TABLE queries ADD COLUMN generator TEXT NOT NULL DEFAULT 'extractive';
ALTER TABLE queries ADD COLUMN model TEXT;
