-- perfpilot schema 2: session parameters are typed JSON (store.SessionParams)
-- instead of a string map under "extra". Converting each stored session is
-- data-dependent and runs in Go right after this step (convertSessionParams
-- in store/sessions.go). The index serves the session list, newest first.
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated_at);
