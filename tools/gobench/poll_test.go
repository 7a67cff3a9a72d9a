// Package gobench measures the Go original's per-poll work in the same four
// scenarios as benches/poll.rs, so the two can be set side by side in
// docs/PERFORMANCE.md. It restates the original's delta and event encoding
// (a map per snapshot, a map per delta, encoding/json for the event) with the
// standard library only, since the original's own packages are not vendored
// here.
//
//	go test -bench . -benchmem
package gobench

import (
	"encoding/json"
	"io"
	"testing"
	"time"
)

type label uint8

type counters struct{ tx, rx uint64 }

// snapshot is the original's sockstats.SockStats, reduced to what poll uses.
type snapshot struct {
	stats    map[label]counters
	cellular bool
}

type deltaStat [2]uint64

// event has the original's fields and JSON tags.
type event struct {
	Time                int64               `json:"t"`
	Duration            int64               `json:"d"`
	IsCellularInterface int                 `json:"c,omitempty"`
	Stats               map[label]deltaStat `json:"s"`
}

// delta is the original's: unchecked subtraction, a new map per call.
func delta(a, b *snapshot) map[label]deltaStat {
	var stats map[label]deltaStat
	for l, bs := range b.stats {
		as := a.stats[l]
		if as.tx == bs.tx && as.rx == bs.rx {
			continue
		}
		if stats == nil {
			stats = make(map[label]deltaStat)
		}
		stats[l] = deltaStat{bs.tx - as.tx, bs.rx - as.rx}
	}
	return stats
}

// platform builds a fresh snapshot each poll, as sockstats.Get does.
type platform struct {
	counters []counters
	changing int
}

func (p *platform) get() *snapshot {
	for i := 0; i < p.changing; i++ {
		p.counters[i].tx += 1500
		p.counters[i].rx += 4000
	}
	s := &snapshot{stats: make(map[label]counters, len(p.counters))}
	for i, c := range p.counters {
		s.stats[label(i)] = c
	}
	return s
}

func bench(b *testing.B, labels, changing int) {
	p := &platform{counters: make([]counters, labels), changing: changing}
	for i := range p.counters {
		p.counters[i] = counters{1_000_000, 2_000_000}
	}
	enc := json.NewEncoder(io.Discard)
	last := p.get()
	lastTime := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := lastTime.Add(100 * time.Millisecond)
		stats := p.get()
		if d := delta(last, stats); len(d) > 0 {
			e := event{Time: lastTime.UnixMilli(), Duration: t.Sub(lastTime).Milliseconds(), Stats: d}
			if stats.cellular {
				e.IsCellularInterface = 1
			}
			if err := enc.Encode(e); err != nil {
				b.Fatal(err)
			}
		}
		last, lastTime = stats, t
	}
}

func BenchmarkPoll13AllChanging(b *testing.B)   { bench(b, 13, 13) }
func BenchmarkPoll13ThreeChanging(b *testing.B) { bench(b, 13, 3) }
func BenchmarkPoll13NoneChanging(b *testing.B)  { bench(b, 13, 0) }
func BenchmarkPoll64AllChanging(b *testing.B)   { bench(b, 64, 64) }
