package exec

// entryPages holds a join side's entries in fixed-size pages, so growing the state never copies
// the entries already stored (a growing slice of a million 80-byte entries spent most of an
// insert-heavy join's time in copying and faulting in the doubled arrays) and a pointer to an
// entry stays valid while entries are added.
type entryPages struct {
	pages []*[joinEntryPage]joinEntry
	n     int32
}

// joinEntryPage is the entries per page (320 KiB of 80-byte entries).
const joinEntryPage = 4096

// at returns entry id (0 <= id < len()).
func (p *entryPages) at(id int32) *joinEntry {
	return &p.pages[id/joinEntryPage][id%joinEntryPage]
}

// len is the number of entries ever added (live or free).
func (p *entryPages) len() int { return int(p.n) }

// add appends e and returns its id.
func (p *entryPages) add(e joinEntry) int32 {
	id := p.n
	if int(id/joinEntryPage) == len(p.pages) {
		p.pages = append(p.pages, new([joinEntryPage]joinEntry))
	}
	p.pages[id/joinEntryPage][id%joinEntryPage] = e
	p.n++
	return id
}
