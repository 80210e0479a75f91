package streamtest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/streamsql/streamsql"
)

// recorder stands in for *testing.T to observe the DSL's failures: Run returns right after
// Fatalf, so recording is enough.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}

const evSource = "CREATE SOURCE ev (k VARCHAR, v BIGINT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '10 minutes') WITH (connector = 'push');\n"

func at(h, m int) time.Time { return time.Date(2024, 1, 1, h, m, 0, 0, time.UTC) }

func TestUpdateModeRunningCounts(t *testing.T) {
	Run(t, Setup{SQL: evSource + `CREATE SINK out WITH (connector = 'console', format = 'json', output_mode = 'update', trigger = 'manual')
		AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k`, Keys: []string{"k"}},
		CheckNewAnswer(),
		AddData("ev", []any{"a", 1, at(12, 0)}, []any{"b", 2, at(12, 1)}),
		AddData("ev", []any{"a", 3, at(12, 2)}), // same epoch as the previous AddData
		CheckNewAnswer("a,2,4", []any{"b", int64(1), 2}),
		AssertStateRows(2),
		AddData("ev", []any{"a", nil, at(12, 3)}),
		CheckNewAnswer("a,3,4"),
		CheckAnswer("a,3,4", "b,1,2"),
		CheckNewAnswer(), // CheckAnswer counts as a check
		AddData("ev", []any{"c", 7, at(12, 4)}),
		CheckAnswer("a,3,4", "b,1,2", "c,1,7"),
		AssertStateRows(3),
		ExpectFailure("column v: want BIGINT"),
		AddData("ev", []any{"d", "seven", at(12, 5)}),
		Execute(func(eng *streamsql.Engine) error {
			p, err := eng.QueryProgress("out")
			if err != nil {
				return err
			}
			// the rejected row was not pushed: the source holds 5 rows, the last epoch read 1
			if p.NumInputRows != 1 || p.Sources[0].EndOffset != `{"rows":5}` {
				return fmt.Errorf("last progress: %d rows up to %s, want 1 row up to {\"rows\":5}", p.NumInputRows, p.Sources[0].EndOffset)
			}
			return nil
		}),
		ExpectFailure("wrong epoch"),
		Execute(func(*streamsql.Engine) error { return fmt.Errorf("wrong epoch count") }),
	)
}

func TestCompleteModeAnswerIsTheLastEpoch(t *testing.T) {
	Run(t, Setup{SQL: evSource + `CREATE SINK top WITH (connector = 'console', format = 'json', output_mode = 'complete', trigger = 'manual')
		AS SELECT k, SUM(v) AS s FROM ev GROUP BY k ORDER BY s DESC, k LIMIT 2`},
		AddData("ev", []any{"a", 1, at(12, 0)}, []any{"b", 5, at(12, 0)}, []any{"c", 3, at(12, 0)}),
		CheckAnswerInOrder("b,5", "c,3"),
		AddData("ev", []any{"a", 10, at(12, 1)}),
		CheckNewAnswer("a,11", "b,5"),
		CheckAnswerInOrder("a,11", "b,5"),
		AssertStateRows(3),
	)
}

func TestAppendModeEmitsClosedWindowsOnce(t *testing.T) {
	Run(t, Setup{SQL: evSource + `CREATE SINK w WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = 'manual')
		AS SELECT window_start, k, COUNT(*) AS n FROM ev GROUP BY window(ts, '10 minutes'), k`},
		AddData("ev", []any{"a", 1, at(12, 1)}, []any{"a", 1, at(12, 9)}),
		CheckNewAnswer(),
		AssertStateRows(1),
		AddData("ev", []any{"b", 1, at(12, 25)}), // watermark 12:15 closes [12:00, 12:10)
		CheckNewAnswer("2024-01-01 12:00:00,a,2"),
		AssertStateRows(1),
		AddData("ev", []any{"a", 1, at(12, 2)}), // older than the watermark: dropped
		CheckNewAnswer(),
		CheckAnswer([]any{at(12, 0), "a", 2}),
	)
}

func TestMaterializedViewAnswer(t *testing.T) {
	Run(t, Setup{SQL: evSource + `CREATE MATERIALIZED VIEW mv WITH (trigger = 'manual') AS SELECT k, MAX(v) AS hi FROM ev GROUP BY k`},
		AddData("ev", []any{"a", 4, at(12, 0)}, []any{"a", 9, at(12, 0)}),
		CheckAnswer("a,9"),
		AddData("ev", []any{"b", -1, at(12, 0)}),
		CheckAnswer("a,9", "b,-1"),
	)
}

func TestStopStartWithoutData(t *testing.T) {
	Run(t, Setup{SQL: evSource + `CREATE SINK out WITH (connector = 'console', format = 'json', output_mode = 'update', trigger = 'manual')
		AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`, Keys: []string{"k"}},
		StopStream,
		Execute(func(eng *streamsql.Engine) error {
			if q := eng.RunningQueries(); len(q) != 0 {
				return fmt.Errorf("running after StopStream: %v", q)
			}
			return nil
		}),
		ExpectFailure("not running"),
		StopStream,
		StartStream,
		ExpectFailure("already running"),
		StartStream,
		AddData("ev", []any{"a", 1, at(12, 0)}),
		CheckNewAnswer("a,1"),
		CheckAnswer("a,1"),
	)
}

func TestStartStreamAfterDataNeedsCheckpoints(t *testing.T) {
	rec := &recorder{TB: t}
	Run(rec, Setup{SQL: evSource + `CREATE SINK out WITH (connector = 'console', format = 'json', output_mode = 'update', trigger = 'manual')
		AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`},
		AddData("ev", []any{"a", 1, at(12, 0)}),
		CheckNewAnswer("a,1"),
		StopStream,
		ExpectFailure("anything"), // a limit of the DSL is not an expected failure
		StartStream,
	)
	if !rec.failed || !strings.Contains(rec.msg, "restart needs checkpoints (issue 4)") || !strings.Contains(rec.msg, "=>  5. StartStream") {
		t.Fatalf("StartStream after data: failed=%v, report:\n%s", rec.failed, rec.msg)
	}
}

func TestFailureReport(t *testing.T) {
	rec := &recorder{TB: t}
	Run(rec, Setup{SQL: evSource + `CREATE SINK out WITH (connector = 'console', format = 'json', output_mode = 'update', trigger = 'manual')
		AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`},
		AddData("ev", []any{"a", 1, at(12, 0)}),
		CheckNewAnswer("a,1"),
		AddData("ev", []any{"a", 1, at(12, 0)}),
		CheckNewAnswer("a,3"),
		CheckNewAnswer(),
	)
	want := []string{
		"step 4 (CheckNewAnswer(\"a,3\")) failed: new rows differ",
		"got  (1): a,2",
		"want (1, in any order): a,3",
		"    1. AddData(ev, [a,1,2024-01-01 12:00:00])",
		"=>  4. CheckNewAnswer(\"a,3\")",
		"    5. CheckNewAnswer()",
		`{"batch_id": 1, "row": {"k": "a", "n": 2}}`,
		"EXPLAIN CREATE SINK out",
		"StreamScan ev",
		`"batchId": 1`,
	}
	for _, w := range want {
		if !strings.Contains(rec.msg, w) {
			t.Errorf("the report lacks %q; report:\n%s", w, rec.msg)
		}
	}
	// An expected failure that does not happen fails the test, as does a wrong one.
	rec = &recorder{TB: t}
	Run(rec, Setup{SQL: evSource + "CREATE SINK out WITH (connector = 'console', format = 'json', trigger = 'manual') AS SELECT k FROM ev"},
		ExpectFailure("boom"),
		AddData("ev", []any{"a", 1, at(12, 0)}),
	)
	if !strings.Contains(rec.msg, `expected a failure containing "boom", but AddData`) {
		t.Errorf("missing expected failure: %s", rec.msg)
	}
	rec = &recorder{TB: t}
	Run(rec, Setup{SQL: evSource + "CREATE SINK out WITH (connector = 'console', format = 'json', trigger = 'manual') AS SELECT k FROM ev"},
		ExpectFailure("boom"),
		AddData("ev", []any{"a"}),
	)
	if !strings.Contains(rec.msg, `expected a failure containing "boom", got: source ev: row 0 has 1 values`) {
		t.Errorf("wrong expected failure: %s", rec.msg)
	}
	// Setup mistakes are reported before any step runs.
	for sql, want := range map[string]string{
		evSource: "no CREATE SINK or CREATE MATERIALIZED VIEW",
		evSource + "CREATE SINK out WITH (connector = 'console') AS SELECT k FROM ev":                     "add format = 'json'",
		evSource + "CREATE SINK out WITH (connector = 'console', format = 'table') AS SELECT k FROM ev":   "format = 'json', not \"table\"",
		evSource + "CREATE SINK out WITH (connector = 'console', format = 'json') AS SELECT nope FROM ev": "setup SQL",
	} {
		rec = &recorder{TB: t}
		Run(rec, Setup{SQL: sql})
		if !strings.Contains(rec.msg, want) {
			t.Errorf("setup %q: report %q lacks %q", sql, rec.msg, want)
		}
	}
}

// TestAdvanceClockFiresProcessingTimeTrigger: a '1 hour' trigger runs on the injected clock, so
// rows added after an epoch wait until the test advances the clock by an hour.
func TestAdvanceClockFiresProcessingTimeTrigger(t *testing.T) {
	start := time.Date(2030, 6, 1, 8, 0, 0, 0, time.UTC)
	epochAt := func(epoch int64, ts time.Time) Step {
		return Execute(func(eng *streamsql.Engine) error {
			p, err := eng.QueryProgress("hourly")
			if err != nil {
				return err
			}
			if p == nil || p.Epoch != epoch || !p.Timestamp.Equal(ts) {
				return fmt.Errorf("last progress %+v, want epoch %d at %s", p, epoch, ts)
			}
			return nil
		})
	}
	Run(t, Setup{Start: start, Stopped: true, Keys: []string{"k"}, SQL: evSource + `CREATE SINK hourly WITH (connector = 'console', format = 'json', output_mode = 'update', trigger = '1 hour')
		AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`},
		AddData("ev", []any{"a", 1, at(12, 0)}),
		StartStream, // the first epoch runs at once
		CheckNewAnswer("a,1"),
		epochAt(0, start),
		AddData("ev", []any{"a", 1, at(12, 0)}, []any{"b", 1, at(12, 0)}),
		AdvanceClock(59*time.Minute),
		CheckNewAnswer(),
		epochAt(0, start),
		AdvanceClock(time.Minute),
		CheckNewAnswer("a,2", "b,1"),
		epochAt(1, start.Add(time.Hour)),
		CheckAnswer("a,2", "b,1"),
	)
}

// TestProcessingTimeCheckTimesOut: a check on a clock-driven query waits for the trigger, and
// reports the mismatch when its deadline passes.
func TestProcessingTimeCheckTimesOut(t *testing.T) {
	rec := &recorder{TB: t}
	begin := time.Now()
	Run(rec, Setup{Timeout: 200 * time.Millisecond, Stopped: true, SQL: evSource + `CREATE SINK hourly WITH (connector = 'console', format = 'json', output_mode = 'update', trigger = '1 hour')
		AS SELECT k, COUNT(*) AS n FROM ev GROUP BY k`},
		AddData("ev", []any{"a", 1, at(12, 0)}),
		StartStream,
		CheckNewAnswer("a,1"),
		AddData("ev", []any{"b", 1, at(12, 0)}), // waits for an hour that never comes
		CheckNewAnswer("b,1"),
	)
	if !strings.Contains(rec.msg, "still different after waiting 200ms for the query's trigger") || time.Since(begin) > 5*time.Second {
		t.Fatalf("report after %s:\n%s", time.Since(begin), rec.msg)
	}
}

func TestExpectedRowsFormats(t *testing.T) {
	got, err := expectedRows([]any{" a , 1 ", []any{nil, true, 1.5, int64(-2), 3 * time.Minute, at(1, 2).Add(500 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	want := "a,1|NULL,true,1.5,-2,00:03:00,2024-01-01 01:02:00.5"
	if s := strings.Join(joinRows(got), "|"); s != want {
		t.Fatalf("got %s, want %s", s, want)
	}
	if _, err := expectedRows([]any{42}); err == nil || !strings.Contains(err.Error(), "is a int") {
		t.Fatalf("a bare int: %v", err)
	}
	if _, err := expectedRows([]any{[]any{struct{}{}}}); err == nil || !strings.Contains(err.Error(), "unsupported type struct {}") {
		t.Fatalf("a struct: %v", err)
	}
}
