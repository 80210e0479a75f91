package exec

import (
	"slices"
)

// The held keys of a Deduplicate, in parts. When the identity of a row includes its event time
// (SELECT DISTINCT over columns that include it, the usual deduplication with a watermark),
// equal rows have equal expiry times, so the keys are split by expiry bucket (2^dedupBucketShift
// microseconds, about a second): each bucket is a small key set of its own, found by a row's
// expiry before its key is looked up. A stream arriving roughly in event-time order then works
// on the few sets of its current seconds, which stay in the caches, where one table of every
// held key would miss them on every probe; and eviction drops whole buckets below the watermark
// (only the bucket the watermark falls in is filtered key by key), with no per-key removal from
// a large table. Otherwise (keep-first by columns without the event time) all keys are one part
// and dedupExpiry finds the expired ones.

// dedupPart is one part: a key set and, by the set's ids, each key's expiry and stored row.
type dedupPart struct {
	key int64 // expiry >> dedupBucketShift (by time), 0 (one part)
	set *dedupSet
	exp []int64
	ref []rowRef
}

// dedupPartMinSlots is the smallest table of a part by time: a sparse stream's buckets hold
// few keys each, and many of them may be held at once.
const dedupPartMinSlots = 16

// partKey is the part of a key expiring at exp.
func (d *Deduplicate) partKey(exp int64) int64 {
	if d.byTime {
		return exp >> dedupBucketShift
	}
	return 0
}

// part returns the part with key k, made (or taken from the spares) if there is none.
func (d *Deduplicate) part(k int64) *dedupPart {
	if p := d.lastPart; p != nil && p.key == k {
		return p
	}
	p, ok := d.parts[k]
	if !ok {
		if n := len(d.spareParts); n > 0 {
			p = d.spareParts[n-1]
			d.spareParts = d.spareParts[:n-1]
		} else {
			p = &dedupPart{set: newDedupSet(d.keys.stride)}
			if d.byTime {
				p.set.minSlots = dedupPartMinSlots
			}
		}
		p.key = k
		d.parts[k] = p
	}
	d.lastPart = p
	return p
}

// hold records the expiry of id, newly added to p's set, and makes room for its stored row
// (withRef).
func (p *dedupPart) hold(id int32, exp int64, withRef bool) {
	for int(id) >= len(p.exp) {
		p.exp = append(p.exp, 0)
	}
	p.exp[id] = exp
	for withRef && int(id) >= len(p.ref) {
		p.ref = append(p.ref, rowRef{})
	}
}

// liveIDs appends p's held ids to out, in id order.
func (p *dedupPart) liveIDs(out []int32) []int32 {
	first := len(out)
	for _, sl := range p.set.slots {
		if sl != 0 {
			out = append(out, int32(uint32(sl)-1))
		}
	}
	slices.Sort(out[first:])
	return out
}

// dropPart forgets every key of p (its bucket is wholly below the watermark) and keeps it as a
// spare (up to dedupMaxSpareParts), its arrays kept for the next bucket.
func (d *Deduplicate) dropPart(p *dedupPart) {
	if !d.keysRows {
		for _, sl := range p.set.slots {
			if sl != 0 {
				d.store.drop(p.ref[uint32(sl)-1])
			}
		}
	}
	delete(d.parts, p.key)
	if d.lastPart == p {
		d.lastPart = nil
	}
	if len(d.spareParts) < dedupMaxSpareParts {
		p.set.clear()
		p.exp, p.ref = p.exp[:0], p.ref[:0]
		d.spareParts = append(d.spareParts, p)
	}
}

// dedupMaxSpareParts bounds the emptied parts kept for reuse (about the buckets of one epoch of a
// steady stream), so the memory of a burst's buckets is given back.
const dedupMaxSpareParts = 256

// expireByTime forgets the keys expiring below wm when parts are by time: whole parts below the
// bucket wm falls in, and the keys below wm in that bucket.
func (d *Deduplicate) expireByTime(wm int64) {
	limit := wm >> dedupBucketShift
	for k, p := range d.parts {
		switch {
		case k < limit:
			d.dropPart(p)
		case k == limit:
			gone := d.evicted[:0]
			for _, sl := range p.set.slots {
				if id := int32(uint32(sl) - 1); sl != 0 && p.exp[id] < wm {
					gone = append(gone, id)
				}
			}
			d.evicted = gone
			if len(gone) == p.set.len() {
				d.dropPart(p)
				continue
			}
			p.set.removeAll(gone)
			for _, id := range gone {
				if !d.keysRows {
					d.store.drop(p.ref[id])
					p.ref[id] = rowRef{}
				}
			}
			p.set.tidy()
		}
	}
}

// sortedParts is the parts in key order (snapshots list rows in a stable order).
func (d *Deduplicate) sortedParts() []*dedupPart {
	keys := make([]int64, 0, len(d.parts))
	for k := range d.parts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*dedupPart, len(keys))
	for i, k := range keys {
		out[i] = d.parts[k]
	}
	return out
}
