package kafkatest

import (
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// closeTimeout bounds MockCluster.Close.
const closeTimeout = 15 * time.Second

// Close closes a mock cluster without letting a stuck Close hang the test binary. librdkafka's
// mock thread can die when its poll() is interrupted by a signal (the SIGCHLD of a killed child
// process, Go's preemption signal), and Close then waits for it forever. The test has finished its
// checks by then, so a Close that does not return in time is logged and abandoned.
func Close(t testing.TB, mc *kafka.MockCluster) {
	if mc == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		mc.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeTimeout):
		t.Logf("kafka mock cluster did not close within %s (librdkafka's mock thread was interrupted); abandoning it", closeTimeout)
	}
}
