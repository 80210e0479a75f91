// Package state owns checkpoint files: a directory per continuous query, readable by a person,
//
//	<checkpoint>/metadata            query id, SQL text, plan fingerprint (JSON)
//	<checkpoint>/offsets/<epoch>     written before the epoch runs: each source's range (JSON)
//	<checkpoint>/commits/<epoch>     written after the sink committed: the next watermark (JSON)
//	<checkpoint>/state/<op>/<epoch>  an operator's state after the epoch (Arrow IPC file)
//
// Every file is written atomically: a temporary file in the same directory, fsync, rename over
// the final name, fsync of the directory. A reader therefore sees a whole file or none, whatever
// instant the process dies at.
//
// state imports only Arrow.
package state
