package loadtest

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// stepStats counts the contacts' inputs and the bot's answer times.
type stepStats struct {
	steps  atomic.Int64
	nudges atomic.Int64
	done   atomic.Int64 // contacts finished

	mu  sync.Mutex
	lat []time.Duration
}

func (s *stepStats) step()  { s.steps.Add(1) }
func (s *stepStats) nudge() { s.nudges.Add(1) }

func (s *stepStats) latency(d time.Duration) {
	s.mu.Lock()
	s.lat = append(s.lat, d)
	s.mu.Unlock()
}

// answered counts the steps whose reply arrived.
func (s *stepStats) answered() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.lat))
}

// inOrder returns the latencies in the order they were measured.
func (s *stepStats) inOrder() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lat)
}

// percentiles returns the p-th percentiles (0 < p ≤ 100) of the latencies.
func (s *stepStats) percentiles(ps ...float64) []time.Duration {
	s.mu.Lock()
	lat := slices.Clone(s.lat)
	s.mu.Unlock()
	slices.Sort(lat)
	out := make([]time.Duration, len(ps))
	if len(lat) == 0 {
		return out
	}
	for i, p := range ps {
		k := int(float64(len(lat))*p/100+0.5) - 1
		out[i] = lat[min(max(k, 0), len(lat)-1)]
	}
	return out
}
