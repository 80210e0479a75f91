package sources

// Limited is implemented by streams whose Latest can stop short of the data available because of
// a per-trigger limit (max_files_per_trigger, max_rows_per_trigger, max_bytes_per_trigger, or an
// unbounded generator). Backlogged reports whether the last Latest did: the driver's default
// trigger then starts the next epoch at once instead of pausing. It is safe to call concurrently
// with Latest.
type Limited interface {
	Backlogged() bool
}
