package exec

import "math"

// evictQueue finds the rows of a join side whose event time has fallen below an eviction bound
// without visiting the whole state: it lists the side's entries in arrival order, in pages that
// know the least event time they hold, so a Flush reads only the pages holding a row below the
// bound. Streams arrive roughly in event-time order, so those are the oldest pages, which empty
// and are dropped; a page of rows that are all still above the bound costs one comparison.
//
// An item names its entry by id and generation: an entry removed by a retraction leaves a stale
// item behind (the id may be reused by then), which is dropped when its page is next read.
type evictQueue struct {
	pages []*evictPage
	spare []*evictPage // emptied pages, for reuse
}

type evictPage struct {
	items []evictItem
	min   int64 // least evt of items (stale ones included)
}

type evictItem struct {
	id  int32
	gen uint32
	evt int64 // the entry's event time, math.MinInt64 for NULL
}

// evictPageRows is the items per page.
const evictPageRows = 1024

// push lists entry id (generation gen) with event time evt.
func (q *evictQueue) push(id int32, gen uint32, evt int64) {
	n := len(q.pages)
	if n == 0 || len(q.pages[n-1].items) == cap(q.pages[n-1].items) {
		var p *evictPage
		if k := len(q.spare); k > 0 {
			p = q.spare[k-1]
			q.spare = q.spare[:k-1]
		} else {
			p = &evictPage{items: make([]evictItem, 0, evictPageRows)}
		}
		p.min = math.MaxInt64
		q.pages = append(q.pages, p)
		n++
	}
	p := q.pages[n-1]
	p.items = append(p.items, evictItem{id: id, gen: gen, evt: evt})
	p.min = min(p.min, evt)
}

// below removes from the queue the items of live entries whose event time is below bound and
// appends their ids to gone (in arrival order); stale items of the pages it reads are dropped.
func (q *evictQueue) below(bound int64, entries *entryPages, gone []int32) []int32 {
	keep := q.pages[:0]
	for _, p := range q.pages {
		if p.min >= bound {
			keep = append(keep, p)
			continue
		}
		k := 0
		least := int64(math.MaxInt64)
		for _, it := range p.items {
			e := entries.at(it.id)
			if !e.live || e.gen != it.gen {
				continue
			}
			if it.evt < bound {
				gone = append(gone, it.id)
				continue
			}
			p.items[k] = it
			k++
			least = min(least, it.evt)
		}
		p.items, p.min = p.items[:k], least
		if k > 0 {
			keep = append(keep, p)
		} else {
			q.spare = append(q.spare, p)
		}
	}
	clear(q.pages[len(keep):])
	q.pages = keep
	return gone
}
