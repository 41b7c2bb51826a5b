-- perfpilot schema 4: text-generation results (issue 12). A result measures
-- a phase ('' forward pass, prefill, decode, generate) on gpu_count devices
-- (0: one) split by parallelism, with the request's token counts, the decode
-- step's mean context, the KV cache reserved per sequence (0: prompt +
-- output), the weight format and its bits per weight (0: what the label or
-- precision implies) and the KV cache type ('' 16-bit). Defaults describe
-- the forward passes stored before, whose dedup keys do not change.
ALTER TABLE results ADD COLUMN phase           TEXT    NOT NULL DEFAULT '';
ALTER TABLE results ADD COLUMN gpu_count       INTEGER NOT NULL DEFAULT 0 CHECK (gpu_count >= 0);
ALTER TABLE results ADD COLUMN parallelism     TEXT    NOT NULL DEFAULT '';
ALTER TABLE results ADD COLUMN prompt_tokens   INTEGER NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0);
ALTER TABLE results ADD COLUMN output_tokens   INTEGER NOT NULL DEFAULT 0 CHECK (output_tokens >= 0);
ALTER TABLE results ADD COLUMN context_tokens  INTEGER NOT NULL DEFAULT 0 CHECK (context_tokens >= 0);
ALTER TABLE results ADD COLUMN context_size    INTEGER NOT NULL DEFAULT 0 CHECK (context_size >= 0);
ALTER TABLE results ADD COLUMN precision_label TEXT    NOT NULL DEFAULT '';
ALTER TABLE results ADD COLUMN weight_bits     REAL    NOT NULL DEFAULT 0 CHECK (weight_bits >= 0);
ALTER TABLE results ADD COLUMN kv_cache_dtype  TEXT    NOT NULL DEFAULT '';
