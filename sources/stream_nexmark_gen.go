package sources

import (
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// nexGen generates the records of one NexmarkStream column by column. A record is made in two
// passes: the first draws every event's random choices, in the model's order (stream_nexmark.go),
// into reusable per-row scratch; the second writes each declared column straight into one
// buffer of its exact size allocated from the stream's allocator. No builder, no per-value
// append, no growth copies. The buffers belong to the record handed to emit (released with it);
// the scratch stays the generator's.
type nexGen struct {
	s        *NexmarkStream
	ids      []int64
	bids     []nexBidRow
	people   []nexPersonRow
	auctions []nexAuctionRow
}

// nexBidRow is one bid's draws. extra is the random sequence positioned where the padding's
// letters start (the model draws them last), so the padding is written in the second pass.
type nexBidRow struct {
	auction, bidder, price, ts int64
	path                       uint64 // the draw the url's five letters come from
	nexPadding
	channelNo int32
	channel   uint8
}

type nexPersonRow struct {
	id, card, ts int64
	nexPadding
	first, last, city, state uint8
}

type nexAuctionRow struct {
	id, initial, reserve, ts, expires, seller, category int64
	nexPadding
}

// nexPadding is an event's extra column: extraLen letters drawn from extra, the random
// sequence positioned where they start.
type nexPadding struct {
	extra    nexRand
	extraLen int32
}

const (
	nexURLPrefix = "https://www.nexmark.com/"
	nexURLQuery  = "/item.htm?query=1&channel_id="
	nexItem      = "item-"
	nexDesc      = "description of item "
)

const nexURLLen = len(nexURLPrefix) + 5 + len(nexURLQuery) + 1

var nexURLTemplate = func() (t [nexURLLen]byte) {
	copy(t[:], nexURLPrefix+"aaaaa"+nexURLQuery+"0")
	return t
}()

func newNexGen(s *NexmarkStream) *nexGen { return &nexGen{s: s} }

// record generates the events ids (all of the stream's kind) as one record in declared column
// order. The caller owns the record.
func (g *nexGen) record(ids []int64) arrow.RecordBatch {
	g.ids = ids
	switch g.s.kind {
	case nexPerson:
		g.drawPeople()
	case nexAuction:
		g.drawAuctions()
	default:
		g.drawBids()
	}
	arrs := make([]arrow.Array, len(g.s.fields))
	for j, idx := range g.s.fields {
		typ := g.s.schema.Field(j).Type
		if g.s.unused != nil && g.s.unused[j] {
			// The draws above are made for every column (they fix the random sequence); only the
			// writing of a column no reader uses is skipped.
			arrs[j] = array.MakeArrayOfNull(g.s.mem, typ, len(ids))
			continue
		}
		switch g.s.kind {
		case nexPerson:
			arrs[j] = g.personColumn(idx, typ)
		case nexAuction:
			arrs[j] = g.auctionColumn(idx, typ)
		default:
			arrs[j] = g.bidColumn(idx, typ)
		}
	}
	rec := array.NewRecordBatch(g.s.schema, arrs, int64(len(ids)))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

func (g *nexGen) eventUs(id int64) int64 { return g.s.startUs + int64(float64(id)*g.s.interUs) }

// The draw functions follow the model's order of draws exactly (TestNexmarkGeneratorMatchesModel).

func (g *nexGen) drawBids() {
	s := g.s
	g.bids = grow(g.bids, len(g.ids))
	for i, id := range g.ids {
		r := newNexRand(s.seed, id)
		row := &g.bids[i]
		row.auction = nexFirstAuction + r.auction(id, r.intn(2) == 0)
		row.bidder = nexFirstPerson + nexLastPerson(id)/nexHotRatio*nexHotRatio + 1
		if r.intn(4) == 0 {
			row.bidder = nexFirstPerson + r.person(id, false)
		}
		row.price = r.logUniformCents()
		channel := r.intn(int64(len(nexChannels)) + 1)
		row.channel, row.channelNo = uint8(channel), int32(r.intn(10_000))
		row.path = r.next()
		row.extra = r
		row.ts = g.eventUs(id)
		used := 4*8 + bidChannelLen(row) + len(nexURLPrefix) + 5 + len(nexURLQuery) + 1
		row.extraLen = int32(max(0, 100-used))
	}
}

func bidChannelLen(row *nexBidRow) int {
	if int(row.channel) < len(nexChannels) {
		return len(nexChannels[row.channel])
	}
	return 8 + decimalDigits(int64(row.channelNo))
}

func (g *nexGen) drawPeople() {
	s := g.s
	g.people = grow(g.people, len(g.ids))
	for i, id := range g.ids {
		r := newNexRand(s.seed, id)
		row := &g.people[i]
		row.id = nexFirstPerson + nexLastPerson(id)
		row.first = uint8(r.intn(int64(len(nexFirstNames))))
		row.last = uint8(r.intn(int64(len(nexLastNames))))
		row.city = uint8(r.intn(int64(len(nexCities))))
		row.state = uint8(r.intn(int64(len(nexStates))))
		row.card = r.intn(10_000_000_000_000_000)
		row.extra = r
		row.ts = g.eventUs(id)
		first, last := len(nexFirstNames[row.first]), len(nexLastNames[row.last])
		used := 8 + (first + 1 + last) + (last + 1 + first + 4) + 19 + len(nexCities[row.city]) + len(nexStates[row.state]) + 8
		row.extraLen = int32(max(0, 200-used))
	}
}

func (g *nexGen) drawAuctions() {
	s := g.s
	g.auctions = grow(g.auctions, len(g.ids))
	// About nexInFlight auctions open at a time: one opens every 50/3 events.
	length := int64(float64(nexInFlight*nexProportion/nexAuctionProp) * s.interUs)
	for i, id := range g.ids {
		r := newNexRand(s.seed, id)
		row := &g.auctions[i]
		row.id = nexFirstAuction + nexLastAuction(id)
		row.ts = g.eventUs(id)
		row.initial = r.logUniformCents()
		row.reserve = row.initial + r.logUniformCents()
		row.seller = nexFirstPerson + r.person(id, r.intn(4) > 0)
		row.category = nexFirstCategory + r.intn(nexCategories)
		row.expires = row.ts + max(1, r.intn(2*max(length, 1)))
		row.extra = r
		digits := decimalDigits(row.id)
		used := 8 + (len(nexItem) + digits) + (len(nexDesc) + digits) + 6*8
		row.extraLen = int32(max(0, 500-used))
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func (g *nexGen) bidColumn(idx int, typ arrow.DataType) arrow.Array {
	rows := g.bids
	switch idx {
	case 0:
		return g.ints(typ, func(v []int64) {
			for i := range v {
				v[i] = rows[i].auction
			}
		})
	case 1:
		return g.ints(typ, func(v []int64) {
			for i := range v {
				v[i] = rows[i].bidder
			}
		})
	case 2:
		return g.ints(typ, func(v []int64) {
			for i := range v {
				v[i] = rows[i].price
			}
		})
	case 3:
		return g.strings(typ, func(i int) int { return bidChannelLen(&rows[i]) }, func(b []byte, i int) {
			row := &rows[i]
			if int(row.channel) < len(nexChannels) {
				copy(b, nexChannels[row.channel])
				return
			}
			_ = strconv.AppendInt(append(b[:0], "channel-"...), int64(row.channelNo), 10)
		})
	case 4:
		// The url is a constant template (one array move, no memmove call) with the five path
		// letters and the channel's digit (0-4) patched in.
		return g.strings(typ, func(int) int { return nexURLLen }, func(b []byte, i int) {
			row := &rows[i]
			*(*[nexURLLen]byte)(b) = nexURLTemplate
			putNexLettersFrom(b[len(nexURLPrefix):len(nexURLPrefix)+5], row.path)
			b[nexURLLen-1] = '0' + row.channel
		})
	case 5:
		return g.ints(typ, func(v []int64) {
			for i := range v {
				v[i] = rows[i].ts
			}
		})
	default:
		return g.padding(typ, func(i int) *nexPadding { return &rows[i].nexPadding })
	}
}

func (g *nexGen) personColumn(idx int, typ arrow.DataType) arrow.Array {
	rows := g.people
	switch idx {
	case 0:
		return g.ints(typ, func(v []int64) {
			for i := range v {
				v[i] = rows[i].id
			}
		})
	case 1:
		return g.strings(typ, func(i int) int {
			return len(nexFirstNames[rows[i].first]) + 1 + len(nexLastNames[rows[i].last])
		}, func(b []byte, i int) {
			_ = append(append(append(b[:0], nexFirstNames[rows[i].first]...), ' '), nexLastNames[rows[i].last]...)
		})
	case 2:
		return g.strings(typ, func(i int) int {
			return len(nexLastNames[rows[i].last]) + 1 + len(nexFirstNames[rows[i].first]) + 4
		}, func(b []byte, i int) {
			_ = append(append(append(append(b[:0], nexLastNames[rows[i].last]...), '@'), nexFirstNames[rows[i].first]...), ".com"...)
		})
	case 3:
		// Sixteen digits, zero-padded, in groups of four: "dddd dddd dddd dddd".
		return g.strings(typ, func(int) int { return 19 }, func(b []byte, i int) {
			v := rows[i].card
			for k := 18; k >= 0; k-- {
				if k%5 == 4 {
					b[k] = ' '
					continue
				}
				b[k] = byte('0' + v%10)
				v /= 10
			}
		})
	case 4:
		return g.strings(typ, func(i int) int { return len(nexCities[rows[i].city]) }, func(b []byte, i int) {
			copy(b, nexCities[rows[i].city])
		})
	case 5:
		return g.strings(typ, func(i int) int { return len(nexStates[rows[i].state]) }, func(b []byte, i int) {
			copy(b, nexStates[rows[i].state])
		})
	case 6:
		return g.ints(typ, func(v []int64) {
			for i := range v {
				v[i] = rows[i].ts
			}
		})
	default:
		return g.padding(typ, func(i int) *nexPadding { return &rows[i].nexPadding })
	}
}

func (g *nexGen) auctionColumn(idx int, typ arrow.DataType) arrow.Array {
	rows := g.auctions
	ints := func(field func(*nexAuctionRow) int64) arrow.Array {
		return g.ints(typ, func(v []int64) {
			for i := range v {
				v[i] = field(&rows[i])
			}
		})
	}
	switch idx {
	case 0:
		return ints(func(r *nexAuctionRow) int64 { return r.id })
	case 1:
		return g.strings(typ, func(i int) int { return len(nexItem) + decimalDigits(rows[i].id) }, func(b []byte, i int) {
			_ = strconv.AppendInt(append(b[:0], nexItem...), rows[i].id, 10)
		})
	case 2:
		return g.strings(typ, func(i int) int { return len(nexDesc) + decimalDigits(rows[i].id) }, func(b []byte, i int) {
			_ = strconv.AppendInt(append(b[:0], nexDesc...), rows[i].id, 10)
		})
	case 3:
		return ints(func(r *nexAuctionRow) int64 { return r.initial })
	case 4:
		return ints(func(r *nexAuctionRow) int64 { return r.reserve })
	case 5:
		return ints(func(r *nexAuctionRow) int64 { return r.ts })
	case 6:
		return ints(func(r *nexAuctionRow) int64 { return r.expires })
	case 7:
		return ints(func(r *nexAuctionRow) int64 { return r.seller })
	case 8:
		return ints(func(r *nexAuctionRow) int64 { return r.category })
	default:
		return g.padding(typ, func(i int) *nexPadding { return &rows[i].nexPadding })
	}
}

// padding makes the extra column from each row's padding draws (pad(i) for row i).
func (g *nexGen) padding(typ arrow.DataType, pad func(i int) *nexPadding) arrow.Array {
	return g.strings(typ, func(i int) int { return int(pad(i).extraLen) }, func(b []byte, i int) {
		r := pad(i).extra
		putNexLetters(b, &r)
	})
}

// ints makes a BIGINT or TIMESTAMP column (both 8-byte values, no nulls) of one value per
// generated event, filled by fill.
func (g *nexGen) ints(typ arrow.DataType, fill func([]int64)) arrow.Array {
	n := len(g.ids)
	buf := memory.NewBufferWithAllocator(g.s.mem.Allocate(n*8), g.s.mem)
	fill(arrow.Int64Traits.CastFromBytes(buf.Bytes())[:n])
	data := array.NewData(typ, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release()
	defer data.Release()
	return array.MakeFromData(data)
}

// strings makes a VARCHAR column: size(i) is row i's length in bytes and write(b, i) fills
// exactly that many bytes (b has that length; it may append into b[:0], the room is there).
func (g *nexGen) strings(typ arrow.DataType, size func(i int) int, write func(b []byte, i int)) arrow.Array {
	n := len(g.ids)
	offBuf := memory.NewBufferWithAllocator(g.s.mem.Allocate((n+1)*4), g.s.mem)
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())[:n+1]
	total := 0
	for i := 0; i < n; i++ {
		offs[i] = int32(total)
		total += size(i)
	}
	offs[n] = int32(total)
	dataBuf := memory.NewBufferWithAllocator(g.s.mem.Allocate(total), g.s.mem)
	b := dataBuf.Bytes()
	for i := 0; i < n; i++ {
		lo, hi := offs[i], offs[i+1]
		write(b[lo:hi:hi], i)
	}
	data := array.NewData(typ, n, []*memory.Buffer{nil, offBuf, dataBuf}, nil, 0, 0)
	offBuf.Release()
	dataBuf.Release()
	defer data.Release()
	return array.MakeFromData(data)
}

// nexLetterPairs[p] is the two letters of p = d0 + 26*d1 (base 26, low digit first), so that
// six table reads give the twelve letters of one draw, in the order appendNexLetters draws them.
var nexLetterPairs = func() (t [26 * 26][2]byte) {
	for p := range t {
		t[p] = [2]byte{nexLetters[p%26], nexLetters[p/26]}
	}
	return t
}()

// putNexLetters fills b with the letters appendNexLetters(nil, r, len(b)) would append.
func putNexLetters(b []byte, r *nexRand) {
	for len(b) >= 12 {
		x := r.next()
		for k := 0; k < 12; k += 2 {
			p := nexLetterPairs[x%676]
			b[k], b[k+1] = p[0], p[1]
			x /= 676
		}
		b = b[12:]
	}
	if len(b) > 0 {
		putNexLettersFrom(b, r.next())
	}
}

// putNexLettersFrom fills b (at most 12 bytes) with the letters of one draw x.
func putNexLettersFrom(b []byte, x uint64) {
	k := 0
	for ; k+1 < len(b); k += 2 {
		p := nexLetterPairs[x%676]
		b[k], b[k+1] = p[0], p[1]
		x /= 676
	}
	if k < len(b) {
		b[k] = nexLetters[x%26]
	}
}
