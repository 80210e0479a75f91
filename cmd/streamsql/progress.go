package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/streamsql/streamsql/incremental"
)

// isTerminal reports whether w is a terminal; `streamsql run` prints progress lines only then.
// Tests replace it.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// progressPrinter prints one line per continuous query: rows read so far, the average rate and
// the watermark. observe (an engine progress listener, called from the queries' goroutines)
// prints at most one line per query per interval; flush prints the lines not yet shown, and is
// called after each statement so an available_now query always ends with its final line.
type progressPrinter struct {
	w        io.Writer
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	queries map[string]*queryRun
}

// queryRun is what the printer knows of one query.
type queryRun struct {
	rows    int64
	first   time.Time // start of the first epoch seen
	last    incremental.Progress
	printed time.Time // when its line was last printed (zero: never)
	dirty   bool      // epochs since the last printed line
}

func newProgressPrinter(w io.Writer, interval time.Duration) *progressPrinter {
	return &progressPrinter{w: w, interval: interval, now: time.Now, queries: map[string]*queryRun{}}
}

func (pp *progressPrinter) observe(query string, p incremental.Progress) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	r := pp.queries[query]
	if r == nil {
		r = &queryRun{first: p.Timestamp}
		pp.queries[query] = r
	}
	r.rows += p.NumInputRows
	r.last = p
	r.dirty = true
	if now := pp.now(); now.Sub(r.printed) >= pp.interval {
		pp.print(query, r, now)
	}
}

// flush prints the line of every query with epochs not yet shown, in name order.
func (pp *progressPrinter) flush() {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	names := make([]string, 0, len(pp.queries))
	for n, r := range pp.queries {
		if r.dirty {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	now := pp.now()
	for _, n := range names {
		pp.print(n, pp.queries[n], now)
	}
}

// print writes one query's line; the caller holds mu.
func (pp *progressPrinter) print(query string, r *queryRun, now time.Time) {
	end := r.last.Timestamp.Add(time.Duration(r.last.DurationMs["triggerExecution"]) * time.Millisecond)
	rate := r.last.ProcessedRowsPerSecond
	if d := end.Sub(r.first).Seconds(); d > 0 {
		rate = float64(r.rows) / d
	}
	fmt.Fprintf(pp.w, "%s: %d rows, %.0f rows/s, watermark %s (epoch %d)\n", query, r.rows, rate, r.last.NextWatermark, r.last.Epoch)
	r.printed, r.dirty = now, false
}
