package exec

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// An inner join of two streams takes a large pushed batch's rows group by group: a side's groups
// are far larger than the caches and a batch's rows hit them at random, so taking each row in
// turn costs a few cache misses per row (the group, its times, the tail it appends to), while
// taking the rows of one key together costs them once per key in the batch. The result is that
// of taking the rows in order:
//
//   - probeByGroup gathers the candidate pairs of every row, then sorts them back by row (stable:
//     each row's pairs stay in its group's order) and emits them in joinChunk records, exactly
//     the records probe emits;
//   - update folds the rows in by their own side's group, keeping the order of the rows of one
//     key (rowsByOwnGroup), so every group lists its rows as in arrival order. Only the
//     numbering of groups made by the batch differs, which no output depends on (a snapshot
//     lists groups in that order; a restore gives every group its rows in the same order).
//
// Outer joins keep the row order: their padded rows and match counts are emitted in it.

// joinSortRows is the batch size from which an inner join takes rows group by group.
const joinSortRows = 256

// joinSortMaxPairs bounds the candidate pairs probeByGroup gathers before it emits any; a batch
// with more is probed row by row instead, so memory stays bounded for any key skew.
const joinSortMaxPairs = 1 << 18

// joinSortScratch is probeByGroup's and rowsByOwnGroup's reused buffers.
type joinSortScratch struct {
	counts     []int32
	order      []int32
	bucket     []int32 // bucket[i] is order[i]'s bucket
	view       []joinRowState
	prow, pent []int32 // gathered pairs: row, entry
	srow, sent []int32 // the pairs by row
	own, other []rowRef
	rowEval    []bool
}

// byGroup returns the rows of st for which key gives a bucket in [0, buckets), in bucket order
// and, within a bucket, in row order (a counting sort), in s.order, their buckets in s.bucket.
func (s *joinSortScratch) byGroup(st []joinRowState, buckets int, key func(*joinRowState) int32) []int32 {
	counts := growInt32(s.counts, buckets+1)
	clear(counts)
	n := 0
	for r := range st {
		if b := key(&st[r]); b >= 0 {
			counts[b+1]++
			n++
		}
	}
	for b := 1; b <= buckets; b++ {
		counts[b] += counts[b-1]
	}
	order, bucket := growInt32(s.order, n), growInt32(s.bucket, n)
	for r := range st {
		if b := key(&st[r]); b >= 0 {
			order[counts[b]], bucket[counts[b]] = int32(r), b
			counts[b]++
		}
	}
	s.counts, s.order, s.bucket = counts, order, bucket
	return order
}

// gather returns st's rows in the order rows gives, copied (into s.view).
func (s *joinSortScratch) gather(st []joinRowState, rows []int32) []joinRowState {
	if cap(s.view) < len(rows) {
		s.view = make([]joinRowState, len(rows), len(rows)+len(rows)/4)
	}
	view := s.view[:len(rows)]
	for i, r := range rows {
		view[i] = st[r]
	}
	return view
}

// rowsByOwnGroup is the order update folds an inner join's rows in: by their own side's group
// as Push found it (rows of a key not held yet last), rows of one key in arrival order; rows
// skipped (weight 0, late) or with a NULL key, which an inner join neither stores nor pads, are
// left out.
func (j *SymmetricHashJoin) rowsByOwnGroup(st []joinRowState, own *joinSide) []int32 {
	ng := int32(len(own.glist))
	return j.sorted.byGroup(st, int(ng)+1, func(s *joinRowState) int32 {
		switch {
		case s.skip || s.null:
			return -1
		case s.own < 0 || s.own >= ng:
			return ng
		}
		return s.own
	})
}

// probeByGroup is probe for an inner join, taking the rows by the other side's group (see
// above). It returns false, having emitted nothing, when the batch has more than
// joinSortMaxPairs candidate pairs; the caller then probes in order.
func (j *SymmetricHashJoin) probeByGroup(ctx *Ctx, input int, rec arrow.RecordBatch, st []joinRowState, emit Emit) (bool, error) {
	oth := j.sides[1-input]
	sc := &j.sorted
	order := sc.byGroup(st, len(oth.glist), func(s *joinRowState) int32 {
		if s.skip || s.null {
			return -1
		}
		return s.group
	})
	rg, rts, rtArr := j.rangeTimes(input, rec)
	// evalAll: every pair needs the residual; else only those of rows marked in rowEval.
	evalAll := j.residual != nil && (rg == nil || rg.Exact <= 0)
	var rowEval []bool
	if j.residual != nil && !evalAll {
		if cap(sc.rowEval) < len(st) {
			sc.rowEval = make([]bool, len(st))
		}
		rowEval = sc.rowEval[:len(st)]
		clear(rowEval)
	}
	groups := sc.bucket // the other side's group of each row of order
	prow, pent := sc.prow[:0], sc.pent[:0]
	for i, r32 := range order {
		far, near := int32(-1), int32(-1)
		if k := i + 2*joinTouchAhead; k < len(groups) {
			far = groups[k]
		}
		if k := i + joinTouchAhead; k < len(groups) {
			near = groups[k]
		}
		oth.touchGroups(far, near)
		r := int(r32)
		grp := &oth.glist[groups[i]]
		if rg != nil {
			if rtArr.IsNull(r) {
				continue // a NULL time matches nothing under the bound
			}
			elo, ehi, ok := storedTimeRange(rg, input, rts[r])
			if !ok {
				continue
			}
			if rowEval != nil && (rts[r] < -rg.Exact || rts[r] > rg.Exact || elo < -rg.Exact || ehi > rg.Exact) {
				rowEval[r] = true
			}
			for k, et := range grp.rts {
				if et < elo || et > ehi {
					continue
				}
				e := grp.entries[k]
				if et == minTime && oth.entries.at(e).rtNull {
					continue
				}
				prow, pent = append(prow, r32), append(pent, e)
			}
		} else {
			for _, e := range grp.entries {
				prow, pent = append(prow, r32), append(pent, e)
			}
		}
		if len(prow) > joinSortMaxPairs {
			sc.prow, sc.pent = prow[:0], pent[:0]
			return false, nil
		}
	}
	sc.prow, sc.pent = prow, pent
	// Back to row order, each row's pairs in the order gathered.
	counts := growInt32(sc.counts, len(st)+1)
	clear(counts)
	for _, r := range prow {
		counts[r+1]++
	}
	for r := 1; r <= len(st); r++ {
		counts[r] += counts[r-1]
	}
	srow, sent := growInt32(sc.srow, len(prow)), growInt32(sc.sent, len(prow))
	for k, r := range prow {
		p := counts[r]
		counts[r]++
		srow[p], sent[p] = r, pent[k]
	}
	sc.counts, sc.srow, sc.sent = counts, srow, sent
	for lo := 0; lo < len(srow); lo += joinChunk {
		hi := min(len(srow), lo+joinChunk)
		own, other := sc.own[:0], sc.other[:0]
		eval := evalAll
		for k := lo; k < hi; k++ {
			own = append(own, rowRef{chunk: 0, row: srow[k]})
			other = append(other, rowRef{chunk: sent[k], row: 0}) // chunk holds the entry id until emitPairs
			if rowEval != nil && rowEval[srow[k]] {
				eval = true
			}
		}
		sc.own, sc.other = own, other
		if err := j.emitPairs(ctx, input, rec, st, own, other, eval, emit); err != nil {
			return true, err
		}
	}
	return true, nil
}

// minTime is a stored range time standing for NULL (with the entry's rtNull).
const minTime = -1 << 63

func growInt32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n, n+n/4)
	}
	return s[:n]
}
