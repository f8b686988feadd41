package sheet

import (
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"reportbot/flows"
	"reportbot/flows/flowstest"
)

// bigOverview is n submitted units, every field answered, and a text
// source that makes each unit's report again as the store would decode it.
func bigOverview(n int) (*flows.Overview, TextSource) {
	c := flows.DefaultCampaign()
	cats := []string{"county", "department", "organization", "enterprise", "military"}
	us := make([]flows.UnitData, n)
	for i := range us {
		u := flows.Unit{ID: int64(i + 1), Name: fmt.Sprintf("吕梁市第%05d号双拥工作单位", i+1), Category: cats[i%len(cats)], Note: "办公室"}
		r := &flows.Report{UnitID: u.ID, Version: 1, Receipt: c.ReceiptNumber(u.ID, 1), SubmittedAt: now, Answers: flowstest.SampleAnswers(c, u.Category, uint64(i))}
		us[i] = flows.UnitData{Unit: u, Latest: r,
			Contacts: []flows.Contact{{UserID: u.ID, UnitID: u.ID, Name: "联系人"}},
			Draft:    flows.Draft{UnitID: u.ID, Status: flows.StatusSubmitted, Version: 1, Answers: r.Answers}}
	}
	o := flows.NewOverview(c, c.Deadline, now, us)
	texts := func(u *flows.UnitOverview) ([]string, error) {
		r := flows.Report{UnitID: u.Unit.ID, Version: 1, Answers: flowstest.SampleAnswers(c, u.Unit.Category, uint64(u.Unit.ID-1))}
		return o.Texts(u, r), nil
	}
	return o, texts
}

// bigCompared is bigOverview in next year's campaign beside last year's
// (other sample answers, the same units): every 100th unit confirmed an
// outlier.
func bigCompared(tb testing.TB, n int) (*flows.Overview, TextSource) {
	prev, _ := bigOverview(n)
	c := nextYear(tb)
	cats := []string{"county", "department", "organization", "enterprise", "military"}
	us := make([]flows.UnitData, n)
	for i := range us {
		u := flows.Unit{ID: int64(i + 1), Name: fmt.Sprintf("吕梁市第%05d号双拥工作单位", i+1), Category: cats[i%len(cats)], Note: "办公室"}
		r := &flows.Report{UnitID: u.ID, Version: 1, Receipt: c.ReceiptNumber(u.ID, 1), SubmittedAt: now, Answers: flowstest.SampleAnswers(c, u.Category, uint64(i)+7)}
		if i%100 == 0 {
			r.Outliers = []string{"theme_essays"}
			r.Answers["theme_essays"] = flows.Answer{Num: 5000}
		}
		us[i] = flows.UnitData{Unit: u, Latest: r,
			Contacts: []flows.Contact{{UserID: u.ID, UnitID: u.ID, Name: "联系人"}},
			Draft:    flows.Draft{UnitID: u.ID, Status: flows.StatusSubmitted, Version: 1, Answers: r.Answers}}
	}
	o := flows.NewOverview(c, c.Deadline, now, us)
	o.SetPrevious(prev)
	texts := func(u *flows.UnitOverview) ([]string, error) {
		r := flows.Report{UnitID: u.Unit.ID, Version: 1, Answers: flowstest.SampleAnswers(c, u.Unit.Category, uint64(u.Unit.ID-1)+7)}
		return o.Texts(u, r), nil
	}
	return o, texts
}

// peakHeap samples the live heap while it runs and reports the highest.
type peakHeap struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startPeakHeap() *peakHeap {
	p := &peakHeap{stop: make(chan struct{}), peak: heapNow()}
	p.wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.peak = max(p.peak, heapNow())
			}
		}
	})
	return p
}

func (p *peakHeap) end() uint64 {
	close(p.stop)
	p.wg.Wait()
	return max(p.peak, heapNow())
}

// BenchmarkExport10000 writes the workbook of 10,000 units with every field
// answered. It reports the peak heap during the export (the overview's
// data included, as in the bot) and the overview's own share; the target
// is ≤ 2 s and ≤ 150 MB.
func BenchmarkExport10000(b *testing.B) {
	o, texts := bigOverview(10000)
	benchExport(b, o, texts)
}

// BenchmarkExportCompare10000 is BenchmarkExport10000 beside last year:
// every figure with its 上年 and 增减% columns, and 与上年对比. Run with
// BenchmarkExport10000 (-bench 'Export(Compare)?10000$') to compare.
func BenchmarkExportCompare10000(b *testing.B) {
	o, texts := bigCompared(b, 10000)
	benchExport(b, o, texts)
}

// benchExport times writing o's workbook and reports the peak heap during
// the export and the overview's own share.
func benchExport(b *testing.B, o *flows.Overview, texts TextSource) {
	runtime.GC()
	base := heapNow()
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		p := startPeakHeap()
		if err := WriteXLSX(io.Discard, o, texts); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, p.end())
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(base)/(1<<20), "overview-MB")
	runtime.KeepAlive(o)
}

// BenchmarkExportCSV10000 is the same for /export csv.
func BenchmarkExportCSV10000(b *testing.B) {
	o, texts := bigOverview(10000)
	runtime.GC()
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		p := startPeakHeap()
		if err := WriteCSV(io.Discard, o, texts); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, p.end())
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	runtime.KeepAlive(o)
}
