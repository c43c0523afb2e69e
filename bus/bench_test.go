package bus

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPublishFetch measures the bus end to end: 1000-record batches of
// real Windows events published (each waiting for its PubAck) while one
// consumer fetches and acknowledges (each ack confirmed). One op is one batch.
func BenchmarkPublishFetch(b *testing.B) {
	for _, pubs := range []int{1, 4} {
		b.Run(map[int]string{1: "publishers=1", 4: "publishers=4"}[pubs], func(b *testing.B) {
			benchPublishFetch(b, pubs, false)
		})
	}
	b.Run("publishers=4/sync_always", func(b *testing.B) { benchPublishFetch(b, 4, true) })
}

func benchPublishFetch(b *testing.B, publishers int, syncAlways bool) {
	bus := openTest(b, "", func(c *Config) { c.SyncAlways = syncAlways })
	tmpl := benchBatch(b, 1000)
	perBatch := tmpl.Bytes()
	ctx := context.Background()

	var fetched atomic.Int64
	consumerDone := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() {
		for fetched.Load() < int64(b.N) {
			ds, err := bus.Fetch(ctx, 64, 200*time.Millisecond)
			if err != nil {
				consumerDone <- err
				return
			}
			for _, d := range ds {
				if err := d.Ack(ctx); err != nil {
					consumerDone <- err
					return
				}
			}
			fetched.Add(int64(len(ds)))
		}
		consumerDone <- nil
	}()

	var next atomic.Int64
	var wg sync.WaitGroup
	for p := 0; p < publishers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := *tmpl
			for next.Add(1) <= int64(b.N) {
				batch.ID = testIDs.New(time.Now())
				if err := bus.Publish(ctx, &batch); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := <-consumerDone; err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)*1000/elapsed, "records/s")
	b.ReportMetric(float64(b.N)*float64(perBatch)/elapsed/1e6, "MB/s")
}
