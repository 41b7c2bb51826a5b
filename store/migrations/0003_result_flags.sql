-- perfpilot schema 3: a result kept despite failing the import plausibility
-- checks (import --allow-implausible) carries the reason; '' when plausible.
ALTER TABLE results ADD COLUMN flag TEXT NOT NULL DEFAULT '';
