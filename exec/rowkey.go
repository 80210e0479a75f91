package exec

import "github.com/apache/arrow-go/v18/arrow"

// AppendRowKey appends an unambiguous binary encoding of row r of cols to buf, NULLs included
// (so two rows get equal keys exactly when every column is equal or both NULL): the key of a row
// in update-mode sinks and result tables.
func AppendRowKey(buf []byte, cols []arrow.Array, r int) []byte {
	for _, c := range cols {
		if c.IsNull(r) {
			buf = append(buf, 0)
			continue
		}
		buf = append(buf, 1)
		buf = appendKeyValue(buf, c, r)
	}
	return buf
}
