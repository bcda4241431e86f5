// Fixed-rate load for `npm run bench`: offers GET requests at a constant rate, whatever the
// server's answers do (an open loop, unlike wrk's closed one), and measures each request's
// latency from the moment it was due to be sent, so a stalled server shows in the tail instead of
// slowing the load down (no coordinated omission). Standard library only.
//
//	rate -base http://127.0.0.1:8080 -paths paths.txt -rate 1000 -seconds 10 -conns 64
//
// prints one JSON line: offered and achieved rates, completed requests, errors, and p50, p90,
// p99 and max latency in milliseconds.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

type result struct {
	latency time.Duration
	ok      bool
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

func main() {
	base := flag.String("base", "", "the server's base URL")
	pathsFile := flag.String("paths", "", "file of request targets (path and query), one a line")
	rate := flag.Float64("rate", 1000, "requests offered per second")
	seconds := flag.Float64("seconds", 10, "seconds of load")
	conns := flag.Int("conns", 64, "connections at most (and requests in flight at most)")
	flag.Parse()

	f, err := os.Open(*pathsFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var paths []string
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64*1024), 64*1024)
	for scanner.Scan() {
		if line := scanner.Text(); line != "" {
			paths = append(paths, line)
		}
	}
	f.Close()
	if *base == "" || len(paths) == 0 || *rate <= 0 || *seconds <= 0 || *conns <= 0 {
		fmt.Fprintln(os.Stderr, "usage: rate -base URL -paths FILE [-rate R] [-seconds S] [-conns C]")
		os.Exit(2)
	}

	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: *conns,
			MaxConnsPerHost:     *conns,
			DisableCompression:  true,
		},
	}
	total := int(*rate * *seconds)
	type job struct {
		due  time.Time
		path string
	}
	jobs := make(chan job, total)
	results := make(chan result, total)
	var wg sync.WaitGroup
	for w := 0; w < *conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				ok := false
				if res, err := client.Get(*base + j.path); err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					ok = res.StatusCode < 400
				}
				results <- result{latency: time.Since(j.due), ok: ok}
			}
		}()
	}

	interval := time.Duration(float64(time.Second) / *rate)
	start := time.Now()
	for k := 0; k < total; k++ {
		due := start.Add(time.Duration(k) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		jobs <- job{due: due, path: paths[k%len(paths)]}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(results)

	latencies := make([]time.Duration, 0, total)
	errors := 0
	for r := range results {
		if !r.ok {
			errors++
		}
		latencies = append(latencies, r.latency)
	}
	sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
	out, _ := json.Marshal(map[string]any{
		"offered":  *rate,
		"achieved": float64(len(latencies)) / elapsed.Seconds(),
		"requests": len(latencies),
		"errors":   errors,
		"p50":      percentile(latencies, 0.50),
		"p90":      percentile(latencies, 0.90),
		"p99":      percentile(latencies, 0.99),
		"max":      percentile(latencies, 1),
	})
	fmt.Println(string(out))
}
