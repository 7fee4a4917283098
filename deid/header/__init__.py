"""Header de-identification: PS3.15 Annex E, Table E.1-1, applied table-driven at every depth."""
