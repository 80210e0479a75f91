// Package state owns checkpoint files: a directory per continuous query, readable by a person,
//
//	<checkpoint>/metadata            query id, SQL text, plan fingerprint (JSON)
//	<checkpoint>/offsets/<epoch>     written before the epoch runs: each source's range (JSON)
//	<checkpoint>/commits/<epoch>     written after the sink committed: the next watermark (JSON)
//	<checkpoint>/state/<op>/<epoch>  an operator's whole state after the epoch (Arrow IPC file):
//	                                 a full snapshot, or a base compacted from a changelog chain
//	<checkpoint>/state/<op>/changes/<epoch>
//	                                 a keyed operator's changes in the epoch (Arrow IPC file):
//	                                 the state's rows of the keys that changed, plus tombstones
//	                                 (column __deleted); metadata names the key columns and the
//	                                 epoch it follows
//
//	<checkpoint>/format              "streamsql checkpoint format 2": every file ends with a checksum
//
// Every file ends with a line "#streamsql-crc32c:<8 hex digits>" holding the CRC-32C of the bytes
// before it; a reader verifies it and refuses a file whose checksum is wrong or (in a format-2
// directory) missing, naming the file, so a flipped byte or a truncation never reaches a sink.
// Directories written before checksums (no format file, format 1) are read unverified.
// Arrow files are read front to back one record at a time with the checksum computed over the
// bytes as they are read (recordstream.go): what a reader derived from a file's records is not
// used or made durable until the file's end verified, so a damaged base fails its compaction
// (no new base) or its restore (no state handed to the operator) instead of reaching either.
//
// Every file is written atomically: a temporary file in the same directory, fsync, rename over
// the final name, fsync of the directory. A reader therefore sees a whole file or none, whatever
// instant the process dies at.
//
// An operator's state at epoch E is its last base at or before E merged by key with the
// changelogs after that base up to E (changelog.go, merge.go). The state layer compacts a
// chain into a new base by itself (Compact, CompactPlan), without the operator, so compaction
// can run beside the query; RemoveBefore never deletes a base or changelog that a retained
// epoch's state needs. The merge streams the base and holds the changelogs and a fixed-width
// index of their keys (keyindex.go); CompactPolicy.MaxBytes bounds the changelog bytes one
// compaction merges, and so its memory. Operators that keep full snapshots simply write a base
// every epoch, and checkpoints written before changelogs existed are read the same way.
//
// SpillStore (spillstore.go) is not a checkpoint file: it is an operator's on-disk overflow
// under a memory budget, an embedded Pebble database emptied at every start (a cache; the
// checkpoints hold the whole state).
//
// state imports only Arrow and, for SpillStore, Pebble.
package state
