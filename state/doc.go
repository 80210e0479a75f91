// Package state owns checkpoint files: a directory per continuous query, readable by a person,
//
//	<checkpoint>/metadata            query id, SQL text, plan fingerprint (JSON)
//	<checkpoint>/offsets/<epoch>     written before the epoch runs: each source's range (JSON)
//	<checkpoint>/commits/<epoch>     written after the sink committed: the next watermark (JSON)
//	<checkpoint>/state/<op>/<epoch>  an operator's state after the epoch (Arrow IPC file)
//
//	<checkpoint>/format              "streamsql checkpoint format 2": every file ends with a checksum
//
// Every file ends with a line "#streamsql-crc32c:<8 hex digits>" holding the CRC-32C of the bytes
// before it; a reader verifies it and refuses a file whose checksum is wrong or (in a format-2
// directory) missing, naming the file, so a flipped byte or a truncation never reaches a sink.
// Directories written before checksums (no format file, format 1) are read unverified.
//
// Every file is written atomically: a temporary file in the same directory, fsync, rename over
// the final name, fsync of the directory. A reader therefore sees a whole file or none, whatever
// instant the process dies at.
//
// state imports only Arrow.
package state
