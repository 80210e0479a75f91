package sources

import "encoding/json"

// SaveState returns the discovery log: offsets are positions in it, so it is part of the checkpoint.
func (s *FileStream) SaveState() (json.RawMessage, error) { return json.Marshal(s.Log()) }

// RestoreState restores a log saved by SaveState.
func (s *FileStream) RestoreState(b json.RawMessage) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return err
	}
	return s.RestoreLog(names)
}

// Unreplayable: lines received before a restart are gone.
func (s *SocketStream) Unreplayable() {}

// Unreplayable: rows pushed before a restart are gone.
func (p *PushStream) Unreplayable() {}
