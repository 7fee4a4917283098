"""The Spark pipeline: ingest (export -> bronze), de-identify (bronze -> staged), release (staged -> output)."""
