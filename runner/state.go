package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"perfpilot/engine"
	"perfpilot/formats"
)

// StateFile is the name of the run state kept in the log directory.
const StateFile = "run-state.json"

// ConfigState is the last attempt at one configuration, as kept in the
// state file. Measured values themselves live in the database.
type ConfigState struct {
	Config   engine.Config `json:"config"`
	Status   Status        `json:"status"`
	ExitCode int           `json:"exit_code"`
	Reason   string        `json:"reason,omitempty"`
	Log      string        `json:"log"`
	Attempts int           `json:"attempts"`
	// Executor ran the attempt; Ref is its job id and SchedState the
	// scheduler's last word; Nonce names the attempt in the log and in
	// what was submitted.
	Executor   string    `json:"executor,omitempty"`
	Ref        string    `json:"job_id,omitempty"`
	Nonce      string    `json:"nonce,omitempty"`
	SchedState string    `json:"scheduler_state,omitempty"`
	Updated    time.Time `json:"updated_at"`
}

// inFlight reports whether the attempt was handed to an executor and has
// not finished.
func (c *ConfigState) inFlight() bool {
	switch c.Status {
	case StatusSubmitting, StatusQueued, StatusRunning:
		return true
	}
	return false
}

// sessionState is one session's part of the state file.
type sessionState struct {
	Configs map[string]*ConfigState `json:"configs"`
}

// stateDoc is the whole state file; sessions sharing a log directory keep
// their own parts.
type stateDoc struct {
	Version  int                      `json:"version"`
	Sessions map[string]*sessionState `json:"sessions"`
}

// state is the run state of one session, written atomically after every
// change so a crash loses at most the configuration that was running.
type state struct {
	mu      sync.Mutex
	path    string
	session string
	doc     stateDoc
}

// ReadState returns the recorded attempts of a session from the state file
// in logDir (nil when there is none).
func ReadState(logDir, session string) (map[string]*ConfigState, error) {
	st, err := loadState(filepath.Join(logDir, StateFile), session)
	if err != nil {
		return nil, err
	}
	return st.doc.Sessions[session].Configs, nil
}

func loadState(path, session string) (*state, error) {
	st := &state{path: path, session: session, doc: stateDoc{Version: 1, Sessions: map[string]*sessionState{}}}
	data, err := readRegular(path, maxStateBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("run state: %w", err)
	default:
		if err := json.Unmarshal(data, &st.doc); err != nil {
			return nil, fmt.Errorf("run state %s is damaged (%v); move it away to start the session's bookkeeping afresh", path, err)
		}
		if st.doc.Sessions == nil {
			st.doc.Sessions = map[string]*sessionState{}
		}
	}
	if st.doc.Sessions[session] == nil {
		st.doc.Sessions[session] = &sessionState{}
	}
	if st.doc.Sessions[session].Configs == nil {
		st.doc.Sessions[session].Configs = map[string]*ConfigState{}
	}
	return st, nil
}

func (st *state) get(key string) *ConfigState {
	st.mu.Lock()
	defer st.mu.Unlock()
	if c := st.doc.Sessions[st.session].Configs[key]; c != nil {
		cp := *c
		return &cp
	}
	return nil
}

// set records each cs under its configuration and writes the file once.
func (st *state) set(cs ...ConfigState) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	for i := range cs {
		st.doc.Sessions[st.session].Configs[cs[i].Config.Key()] = &cs[i]
	}
	data, err := json.MarshalIndent(st.doc, "", "  ")
	if err != nil {
		return err
	}
	if err := formats.WriteFileAtomic(st.path, append(data, '\n'), true); err != nil {
		return fmt.Errorf("run state: %w", err)
	}
	return nil
}
