package exec

import "slices"

// topNBlocks holds a partition's distinct rows in sort order as a list of sorted blocks of at
// most topNBlockMax entries, so inserting or removing a row costs a binary search over the blocks'
// last rows, one within a block and a move of at most a block, not of the whole partition: a
// global ORDER BY ... LIMIT over a large stream keeps every row.
type topNBlocks struct {
	blocks [][]topNEntry
	n      int
}

const topNBlockMax = 512

// search finds the position of the row that cmp orders against (cmp(e) < 0: e sorts before the
// row): its block and index, and whether an equal entry is there.
func (b *topNBlocks) search(cmp func(e topNEntry) int) (bi, pos int, found bool) {
	if len(b.blocks) == 0 {
		return 0, 0, false
	}
	// The first block whose last entry does not sort before the row.
	bi, _ = slices.BinarySearchFunc(b.blocks, 0, func(blk []topNEntry, _ int) int {
		if cmp(blk[len(blk)-1]) < 0 {
			return -1
		}
		return 1
	})
	if bi == len(b.blocks) {
		last := len(b.blocks) - 1
		return last, len(b.blocks[last]), false
	}
	pos, found = slices.BinarySearchFunc(b.blocks[bi], 0, func(e topNEntry, _ int) int { return cmp(e) })
	return bi, pos, found
}

// insert puts e at (bi, pos) as returned by search, splitting a full block.
func (b *topNBlocks) insert(bi, pos int, e topNEntry) {
	b.n++
	if len(b.blocks) == 0 {
		b.blocks = append(b.blocks, make([]topNEntry, 0, 16))
	}
	blk := slices.Insert(b.blocks[bi], pos, e)
	if len(blk) <= topNBlockMax {
		b.blocks[bi] = blk
		return
	}
	half := len(blk) / 2
	first := make([]topNEntry, half, topNBlockMax+1)
	copy(first, blk[:half])
	second := make([]topNEntry, len(blk)-half, topNBlockMax+1)
	copy(second, blk[half:])
	b.blocks[bi] = first
	b.blocks = slices.Insert(b.blocks, bi+1, second)
}

// at returns the entry at (bi, pos).
func (b *topNBlocks) at(bi, pos int) *topNEntry { return &b.blocks[bi][pos] }

// remove deletes the entry at (bi, pos).
func (b *topNBlocks) remove(bi, pos int) {
	b.n--
	b.blocks[bi] = slices.Delete(b.blocks[bi], pos, pos+1)
	if len(b.blocks[bi]) == 0 {
		b.blocks = slices.Delete(b.blocks, bi, bi+1)
	}
}

// each calls fn on every entry in order until fn returns false.
func (b *topNBlocks) each(fn func(e *topNEntry) bool) {
	for _, blk := range b.blocks {
		for i := range blk {
			if !fn(&blk[i]) {
				return
			}
		}
	}
}
