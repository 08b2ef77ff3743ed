package convert

import (
	"context"
	"sync"
)

// parallel calls fn(i) for i in [0, n) on up to workers goroutines and
// returns when all calls have returned. It stops handing out indices when
// ctx is done and then returns ctx's error.
func parallel(ctx context.Context, n, workers int, fn func(i int)) error {
	workers = max(1, min(workers, n))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}
