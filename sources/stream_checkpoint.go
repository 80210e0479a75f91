package sources

import (
	"encoding/json"
	"fmt"
)

// fileStreamState is the checkpointed form of a FileStream: the discovery log and what each
// file looked like when discovered. Checkpoints written before file metadata hold only the
// list of names (a JSON array); their files are read without change detection.
type fileStreamState struct {
	Files []string   `json:"files"`
	Meta  []fileMeta `json:"meta"`
}

// SaveState returns the discovery log and the files' discovery metadata: offsets are positions
// in the log, so it is part of the checkpoint.
func (s *FileStream) SaveState() (json.RawMessage, error) {
	s.mu.Lock()
	st := fileStreamState{Files: append([]string(nil), s.log...), Meta: make([]fileMeta, len(s.log))}
	for i, n := range s.log {
		m, ok := s.meta[n]
		if !ok {
			m = fileMeta{Size: -1}
		}
		st.Meta[i] = m
	}
	s.mu.Unlock()
	return json.Marshal(st)
}

// RestoreState restores a log saved by SaveState (or, from an older checkpoint, a list of names).
func (s *FileStream) RestoreState(b json.RawMessage) error {
	var st fileStreamState
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &st.Files); err != nil {
			return err
		}
	} else if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	if st.Meta != nil && len(st.Meta) != len(st.Files) {
		return fmt.Errorf("source %s: the checkpointed discovery log has %d files but metadata for %d", s.name, len(st.Files), len(st.Meta))
	}
	if err := s.RestoreLog(st.Files); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range st.Meta {
		if m.Size >= 0 {
			s.meta[st.Files[i]] = m
		}
	}
	return nil
}

// Unreplayable: lines received before a restart are gone.
func (s *SocketStream) Unreplayable() {}

// Unreplayable: rows pushed before a restart are gone.
func (p *PushStream) Unreplayable() {}
