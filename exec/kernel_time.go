package exec

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Date and time functions. TIMESTAMP values are microseconds since the epoch in UTC; DATE
// arguments convert implicitly to TIMESTAMP (midnight). Units are case-insensitive and may be
// plural ('hours').
//
// extract(unit, ts) returns BIGINT for every unit (second is whole seconds; millisecond and
// microsecond include the seconds, like PostgreSQL: 5.123 s -> 5123 ms); the binder only sees
// types, so extract('epoch', ts) is BIGINT whole seconds here and epoch(ts) is the DOUBLE
// variant. dayofweek is Spark's 1 = Sunday .. 7 = Saturday; extract('dow') is PostgreSQL's
// 0 = Sunday; 'week' is the ISO week. now(), current_timestamp() and current_date() read ctx.Now.

func init() {
	registerOverloads("date_trunc", "date_trunc(unit VARCHAR, ts TIMESTAMP): unit is microsecond, millisecond, second, minute, hour, day, week, month, quarter, year, decade, century",
		overload{args: types(String, Timestamp), ret: Timestamp, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			u, ts := a[0].(*array.String), fixedValues[int64](a[1])
			return int64sTo(ctx, Timestamp, a, n, func(i int) (int64, error) { return truncTimestamp(u.Value(i), ts[i]) })
		}})
	// extract returns DOUBLE like PostgreSQL's numeric result: seconds keep their fraction and epoch
	// its microseconds; every other field is a whole number.
	registerOverloads("extract", "extract(unit VARCHAR, ts TIMESTAMP|DATE) -> DOUBLE; units: year, quarter, month, week, day, dow, isodow, doy, hour, minute, second, millisecond, microsecond, epoch",
		overload{args: types(String, Timestamp), ret: Float64, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			u, ts := a[0].(*array.String), fixedValues[int64](a[1])
			return float64sTo(ctx, a, n, func(i int) (float64, error) {
				switch strings.ToLower(u.Value(i)) {
				case "second", "seconds":
					return float64(((ts[i]%60_000_000)+60_000_000)%60_000_000) / 1e6, nil
				case "millisecond", "milliseconds":
					return float64(((ts[i]%60_000_000)+60_000_000)%60_000_000) / 1e3, nil
				case "epoch":
					return float64(ts[i]) / 1e6, nil
				}
				v, err := extractField(u.Value(i), ts[i])
				return float64(v), err
			})
		}})
	register(&Function{Name: "date_part", Bind: func(args []arrow.DataType) (*Bound, error) { return BindCall("extract", args) }})
	field := func(name, unit string) {
		registerOverloads(name, name+"(ts TIMESTAMP|DATE) -> BIGINT", overload{args: types(Timestamp), ret: Int64, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return map1(ctx, Int64, a[0], n, func(us int64) (int64, error) { return extractField(unit, us) })
		}})
	}
	for name, unit := range map[string]string{"year": "year", "quarter": "quarter", "month": "month", "day": "day",
		"dayofmonth": "day", "hour": "hour", "minute": "minute", "second": "second", "dayofyear": "doy",
		"weekofyear": "week", "dayofweek": "spark_dow"} {
		field(name, unit)
	}
	registerOverloads("epoch", "epoch(ts TIMESTAMP) -> DOUBLE seconds since 1970-01-01", overload{args: types(Timestamp), ret: Float64, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		return map1(ctx, Float64, a[0], n, func(us int64) (float64, error) { return float64(us) / 1e6, nil })
	}})

	parseTS := func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		s := a[0].(*array.String)
		return int64sTo(ctx, Timestamp, a, n, func(i int) (int64, error) {
			v, err := ParseTimestamp(s.Value(i))
			if err != nil {
				return 0, syntaxErr("timestamp", s.Value(i))
			}
			return v, nil
		})
	}
	parseTSFmt := func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		s, f := a[0].(*array.String), a[1].(*array.String)
		cache := dtPatternCache{}
		return int64sTo(ctx, Timestamp, a, n, func(i int) (int64, error) {
			dp, err := cache.get(f.Value(i))
			if err != nil {
				return 0, err
			}
			return dp.Parse(s.Value(i))
		})
	}
	registerOverloads("to_timestamp", "to_timestamp(str VARCHAR[, pattern VARCHAR]) or to_timestamp(epoch_seconds DOUBLE); patterns are Java/Spark style (yyyy-MM-dd HH:mm:ss.SSS) or PostgreSQL style (YYYY-MM-DD HH24:MI:SS.MS)",
		overload{args: types(String), ret: Timestamp, k: parseTS},
		overload{args: types(String, String), ret: Timestamp, k: parseTSFmt},
		overload{args: types(Float64), ret: Timestamp, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return map1(ctx, Timestamp, a[0], n, func(s float64) (int64, error) {
				us := math.Round(s * 1e6)
				if math.IsNaN(us) || us >= math.MaxInt64 || us < math.MinInt64 {
					return 0, fmt.Errorf("timestamp out of range: %s seconds", FormatFloat(s))
				}
				return int64(us), nil
			})
		}},
		overload{args: types(Timestamp), ret: Timestamp, k: func(_ *Ctx, a []arrow.Array, _ int) (arrow.Array, error) {
			a[0].Retain()
			return a[0], nil
		}})
	registerOverloads("from_unixtime", "from_unixtime(seconds BIGINT) -> TIMESTAMP", overload{args: types(Int64), ret: Timestamp, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		return map1(ctx, Timestamp, a[0], n, func(s int64) (int64, error) { return checkedMul(s, 1_000_000, errTSRange) })
	}})
	secs := func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		return map1(ctx, Int64, a[0], n, func(us int64) (int64, error) { return floorDiv(us, 1_000_000), nil })
	}
	registerOverloads("unix_timestamp", "unix_timestamp([ts TIMESTAMP | str VARCHAR[, pattern VARCHAR]]) -> BIGINT seconds",
		overload{args: types(), ret: Int64, volatile: true, k: func(ctx *Ctx, _ []arrow.Array, n int) (arrow.Array, error) {
			return ConstantArray(ctx.Mem, Int64, ctx.Now.Unix(), n)
		}},
		overload{args: types(Timestamp), ret: Int64, k: secs},
		overload{args: types(String), ret: Int64, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return composeK(ctx, a, n, parseTS, secs)
		}},
		overload{args: types(String, String), ret: Int64, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return composeK(ctx, a, n, parseTSFmt, secs)
		}})
	nowK := func(ctx *Ctx, _ []arrow.Array, n int) (arrow.Array, error) {
		return ConstantArray(ctx.Mem, Timestamp, ctx.Now.UnixMicro(), n)
	}
	registerOverloads("now", "now()", overload{args: types(), ret: Timestamp, volatile: true, k: nowK})
	// proctime() is the processing time: in a continuous query the epoch's time, taken from the
	// engine's clock when the epoch is planned and kept in its offsets log (a replay sees the
	// same value); in a batch query the statement's time, as now().
	registerOverloads("proctime", "proctime() -> TIMESTAMP: the processing time of the epoch (batch: of the statement)", overload{args: types(), ret: Timestamp, volatile: true, k: nowK})
	registerOverloads("current_timestamp", "current_timestamp()", overload{args: types(), ret: Timestamp, volatile: true, k: nowK})
	registerOverloads("current_date", "current_date()", overload{args: types(), ret: Date, volatile: true, k: func(ctx *Ctx, _ []arrow.Array, n int) (arrow.Array, error) {
		return ConstantArray(ctx.Mem, Date, int32(floorDiv(ctx.Now.UnixMicro(), usPerDay)), n)
	}})
	toDate := func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
		return map1(ctx, Date, a[0], n, func(us int64) (int32, error) { return int32(floorDiv(us, usPerDay)), nil })
	}
	registerOverloads("to_date", "to_date(str VARCHAR[, pattern VARCHAR]) or to_date(ts TIMESTAMP) -> DATE",
		overload{args: types(String), ret: Date, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			s := a[0].(*array.String)
			return rowsTo(ctx, Date, a, n, func(b *array.Date32Builder, i int) error {
				d, err := ParseDate(s.Value(i))
				if err != nil {
					us, err2 := ParseTimestamp(s.Value(i))
					if err2 != nil {
						return syntaxErr("date", s.Value(i))
					}
					d = int32(floorDiv(us, usPerDay))
				}
				b.Append(arrow.Date32(d))
				return nil
			})
		}},
		overload{args: types(String, String), ret: Date, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			return composeK(ctx, a, n, parseTSFmt, toDate)
		}},
		overload{args: types(Timestamp), ret: Date, k: toDate})
	registerOverloads("date_format", "date_format(ts TIMESTAMP, pattern VARCHAR) -> VARCHAR; Java/Spark-style pattern such as yyyy-MM-dd HH:mm:ss or PostgreSQL-style such as YYYY-MM-DD HH24:MI:SS",
		overload{args: types(Timestamp, String), ret: String, k: func(ctx *Ctx, a []arrow.Array, n int) (arrow.Array, error) {
			ts, f := fixedValues[int64](a[0]), a[1].(*array.String)
			cache := dtPatternCache{}
			var buf []byte
			return stringsTo(ctx, a, n, func(i int) (string, bool, error) {
				dp, err := cache.get(f.Value(i))
				if err != nil {
					return "", false, err
				}
				buf = dp.Append(buf[:0], ts[i])
				return string(buf), false, nil
			})
		}})
}

// composeK applies second to the result of first (one intermediate array, released here).
func composeK(ctx *Ctx, a []arrow.Array, n int, first, second Kernel) (arrow.Array, error) {
	mid, err := first(ctx, a, n)
	if err != nil {
		return nil, err
	}
	defer mid.Release()
	return second(ctx, []arrow.Array{mid}, n)
}

func normUnit(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	switch u {
	case "microseconds", "us":
		return "microsecond"
	case "milliseconds", "ms":
		return "millisecond"
	case "seconds", "sec", "secs":
		return "second"
	case "minutes", "min", "mins":
		return "minute"
	case "hours":
		return "hour"
	case "days", "dayofmonth":
		return "day"
	case "weeks":
		return "week"
	case "months":
		return "month"
	case "quarters":
		return "quarter"
	case "years":
		return "year"
	case "decades":
		return "decade"
	case "centuries":
		return "century"
	case "dayofweek":
		return "dow"
	case "dayofyear":
		return "doy"
	}
	return u
}

var truncSteps = map[string]int64{"microsecond": 1, "millisecond": 1000, "second": 1e6, "minute": 60e6, "hour": 3600e6, "day": usPerDay}

// truncTimestamp implements date_trunc: weeks start on Monday (ISO), like PostgreSQL.
func truncTimestamp(unit string, us int64) (int64, error) {
	u := normUnit(unit)
	if step, ok := truncSteps[u]; ok {
		return floorDiv(us, step) * step, nil
	}
	t := time.UnixMicro(us).UTC()
	y, m, d := t.Date()
	var r time.Time
	switch u {
	case "week":
		wd := (int(t.Weekday()) + 6) % 7 // days since Monday
		r = time.Date(y, m, d-wd, 0, 0, 0, 0, time.UTC)
	case "month":
		r = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	case "quarter":
		r = time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, time.UTC)
	case "year":
		r = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	case "decade":
		r = time.Date(y-((y%10)+10)%10, 1, 1, 0, 0, 0, 0, time.UTC)
	case "century":
		c := (y - 1) / 100
		if y <= 0 {
			c = y/100 - 1
		}
		r = time.Date(c*100+1, 1, 1, 0, 0, 0, 0, time.UTC)
	default:
		return 0, fmt.Errorf("date_trunc: unit %q not recognized (expected microsecond, millisecond, second, minute, hour, day, week, month, quarter, year, decade or century)", unit)
	}
	return r.UnixMicro(), nil
}

// extractField implements extract/date_part and the single-field functions.
func extractField(unit string, us int64) (int64, error) {
	t := time.UnixMicro(us).UTC()
	secUs := floorMod(us, 60e6) // microseconds within the minute
	switch normUnit(unit) {
	case "year":
		return int64(t.Year()), nil
	case "quarter":
		return int64((t.Month()-1)/3 + 1), nil
	case "month":
		return int64(t.Month()), nil
	case "week":
		_, w := t.ISOWeek()
		return int64(w), nil
	case "day":
		return int64(t.Day()), nil
	case "dow":
		return int64(t.Weekday()), nil
	case "spark_dow":
		return int64(t.Weekday()) + 1, nil
	case "isodow":
		return int64((int(t.Weekday())+6)%7 + 1), nil
	case "doy":
		return int64(t.YearDay()), nil
	case "hour":
		return int64(t.Hour()), nil
	case "minute":
		return int64(t.Minute()), nil
	case "second":
		return secUs / 1e6, nil
	case "millisecond":
		return secUs / 1000, nil
	case "microsecond":
		return secUs, nil
	case "epoch":
		return floorDiv(us, 1e6), nil
	}
	return 0, fmt.Errorf("extract: unit %q not recognized (expected year, quarter, month, week, day, dow, isodow, doy, hour, minute, second, millisecond, microsecond or epoch)", unit)
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// dtPatternCache compiles the patterns of one kernel call: a pattern argument is nearly always a
// constant, so each distinct text is compiled once per batch.
type dtPatternCache map[string]*DatetimePattern

func (c dtPatternCache) get(p string) (*DatetimePattern, error) {
	if dp, ok := c[p]; ok {
		return dp, nil
	}
	dp, err := CompileDatetimePattern(p)
	if err != nil {
		return nil, err
	}
	c[p] = dp
	return dp, nil
}
