package stream

import "context"

// SampleLag exposes the lag sampling Run does every ClaimInterval.
func (c *Consumer) SampleLag(ctx context.Context) { c.sampleLag(ctx) }
