-- perfpilot schema 5: a result can be excluded from learning (benchmarks
-- exclude / include, reversible): it stays stored and listed, but Results
-- leaves it out unless asked (issue 11: a wrong measurement must not teach
-- the model).
ALTER TABLE results ADD COLUMN excluded INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1));
