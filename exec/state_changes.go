package exec

// stateChanges counts a stateful operator's state row changes since it was built, for the
// progress reports' numRowsUpdated and numRowsRemoved (Spark's state operator metrics): updated
// counts rows inserted or changed, removed rows deleted (evicted by the watermark, retracted to
// nothing). Operators embed it and add to it where they change their state; the counts are not
// part of any checkpoint (a restored operator starts from zero).
type stateChanges struct {
	rowsUpdated, rowsRemoved int64
}

// StateRowsUpdated is the number of state rows inserted or changed since the operator was built.
func (s *stateChanges) StateRowsUpdated() int64 { return s.rowsUpdated }

// StateRowsRemoved is the number of state rows removed since the operator was built.
func (s *stateChanges) StateRowsRemoved() int64 { return s.rowsRemoved }
