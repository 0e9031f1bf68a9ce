-- Which generator wrote each answer ("extractive", "gemini", "openai", "extractive-fallback")
-- and the LLM's model; rows from before generation existed were extractive.
ALTER TABLE queries ADD COLUMN generator TEXT NOT NULL DEFAULT 'extractive';
ALTER TABLE queries ADD COLUMN model TEXT;
