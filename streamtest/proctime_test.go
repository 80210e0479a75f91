package streamtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/streamsql/streamsql"
)

// waitEpoch waits until query has finished epoch n.
func waitEpoch(query string, n int64) Step {
	return Execute(func(eng *streamsql.Engine) error {
		deadline := time.Now().Add(5 * time.Second)
		for {
			p, err := eng.QueryProgress(query)
			if err != nil {
				return err
			}
			if p != nil && p.Epoch >= n {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("query %s did not finish epoch %d (last progress %+v)", query, n, p)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// TestProcTimeIdleTrigger: with an interval trigger, the watermark of a PROCTIME() column follows
// the clock through epochs without rows, so each 3-second batch's count is emitted (append mode)
// two triggers after the batch even when no more orders arrive.
func TestProcTimeIdleTrigger(t *testing.T) {
	start := time.Date(2016, 3, 22, 20, 0, 0, 0, time.UTC)
	Run(t, Setup{Start: start, Stopped: true, SQL: `CREATE SOURCE orders (side VARCHAR, pt AS PROCTIME(), WATERMARK FOR pt AS pt) WITH (connector = 'push');
		CREATE SINK buys WITH (connector = 'console', format = 'json', output_mode = 'append', trigger = '3 seconds') AS
		SELECT window_start, COUNT(*) AS buys FROM orders WHERE side = 'B' GROUP BY window(pt, '3 seconds')`},
		AddData("orders", []any{"B"}, []any{"S"}, []any{"B"}),
		StartStream, // epoch 0 at 20:00:00
		waitEpoch("buys", 0),
		AddData("orders", []any{"B"}),
		AdvanceClock(3*time.Second), // epoch 1 at 20:00:03 reads the fourth order
		waitEpoch("buys", 1),
		AdvanceClock(3*time.Second), // epoch 2 at 20:00:06, no rows: the watermark 20:00:03 closes the first batch
		CheckNewAnswer("2016-03-22 20:00:00,2"),
		AdvanceClock(3*time.Second), // epoch 3 at 20:00:09, no rows: the watermark 20:00:06 closes the second
		CheckNewAnswer("2016-03-22 20:00:03,1"),
		CheckAnswer("2016-03-22 20:00:00,2", "2016-03-22 20:00:03,1"),
	)
}
