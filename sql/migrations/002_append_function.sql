-- The group-commit function relay_append() was first defined here. Its one current
-- definition is sql/functions/relay_append.sql, applied after the migrations (and again
-- whenever that file changes); this migration is kept so that the numbering has no gap.
SELECT 1;
