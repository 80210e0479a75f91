package exec

import (
	"container/heap"
	"math"
)

// dedupExpiry finds the deduplication's keys whose expiry time the watermark has passed without
// scanning the keys still held: ids are kept in time buckets of 2^dedupBucketShift microseconds
// (about a second) of expiry time, and a min-heap orders the non-empty buckets. Advancing the
// watermark removes the buckets wholly below it and filters only the one bucket it falls in, so
// the cost of an eviction is that of the keys evicted plus at most one bucket.
//
// Keys without an expiry (a NULL event time) are held until expireAll.
type dedupExpiry struct {
	byKey   map[int64]int32 // bucket key (expiry >> shift) -> index in buckets
	buckets []expiryBucket
	spare   []int32 // indexes of unused buckets
	order   bucketHeap
	never   []int32
	lastKey int64 // the bucket add used last (consecutive rows usually share one)
	lastIdx int32
}

type expiryBucket struct {
	key int64
	ids []int32
}

const dedupBucketShift = 20

// noExpiry is the expiry of a key held until expireAll.
const noExpiry = math.MaxInt64

func newDedupExpiry() *dedupExpiry { return &dedupExpiry{byKey: map[int64]int32{}, lastIdx: -1} }

// add records that id expires at exp (noExpiry: never).
func (e *dedupExpiry) add(id int32, exp int64) {
	if exp == noExpiry {
		e.never = append(e.never, id)
		return
	}
	key := exp >> dedupBucketShift
	if e.lastIdx < 0 || e.lastKey != key {
		idx, ok := e.byKey[key]
		if !ok {
			if n := len(e.spare); n > 0 {
				idx = e.spare[n-1]
				e.spare = e.spare[:n-1]
				e.buckets[idx].key = key
			} else {
				idx = int32(len(e.buckets))
				e.buckets = append(e.buckets, expiryBucket{key: key})
			}
			e.byKey[key] = idx
			heap.Push(&e.order, key)
		}
		e.lastKey, e.lastIdx = key, idx
	}
	b := &e.buckets[e.lastIdx]
	b.ids = append(b.ids, id)
}

// expire appends to out the ids whose expiry (exps[id]) is below wm, forgets them, and returns
// out.
func (e *dedupExpiry) expire(wm int64, exps []int64, out []int32) []int32 {
	limit := wm >> dedupBucketShift // buckets below limit hold only expiries below wm
	for len(e.order) > 0 && e.order[0] <= limit {
		key := e.order[0]
		idx := e.byKey[key]
		b := &e.buckets[idx]
		if key < limit {
			out = append(out, b.ids...)
		} else {
			kept := b.ids[:0]
			for _, id := range b.ids {
				if exps[id] < wm {
					out = append(out, id)
				} else {
					kept = append(kept, id)
				}
			}
			b.ids = kept
			if len(kept) > 0 {
				break
			}
		}
		heap.Pop(&e.order)
		delete(e.byKey, key)
		b.ids = b.ids[:0]
		e.spare = append(e.spare, idx)
		if e.lastIdx == idx {
			e.lastIdx = -1
		}
	}
	return out
}

// len is the number of ids held (with or without an expiry).
func (e *dedupExpiry) len() int {
	n := len(e.never)
	for _, idx := range e.byKey {
		n += len(e.buckets[idx].ids)
	}
	return n
}

// reset forgets every id.
func (e *dedupExpiry) reset() { *e = *newDedupExpiry() }

type bucketHeap []int64

func (h bucketHeap) Len() int           { return len(h) }
func (h bucketHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h bucketHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *bucketHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *bucketHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
