package pgcatalog

import "time"

func zeroTime() time.Time { return time.Unix(0, 0).UTC() }
