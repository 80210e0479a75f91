package sources

import (
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
)

// Decoder reads records from one input.
//
// Next returns a record of at most BatchSize rows that the caller owns and must Release, io.EOF
// after the last record, or an error (a *RecordError for bad input) after which the decoder is
// finished and returns that error again. Close releases the decoder's buffers (and the files
// OpenFiles opened); it does not close a reader passed to a NewXxxDecoder. Next after Close fails.
type Decoder interface {
	Next() (arrow.RecordBatch, error)
	Close() error
}

var errClosed = errors.New("decoder is closed")
