package storetest_test

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"io"
	"testing"

	"reportbot/storage/storetest"
)

func BenchmarkFlate(b *testing.B) {
	d := storetest.FullDraft(1)
	js, _ := json.Marshal(d)
	for _, lvl := range []int{1, 5, 6, 9} {
		w, _ := flate.NewWriter(io.Discard, lvl)
		var buf bytes.Buffer
		b.Run(string(rune('0'+lvl)), func(b *testing.B) {
			for b.Loop() {
				buf.Reset()
				w.Reset(&buf)
				w.Write(js)
				w.Close()
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
		b.Run("dec"+string(rune('0'+lvl)), func(b *testing.B) {
			r := flate.NewReader(bytes.NewReader(buf.Bytes()))
			out := make([]byte, 0, 4096)
			for b.Loop() {
				r.(flate.Resetter).Reset(bytes.NewReader(buf.Bytes()), nil)
				o := bytes.NewBuffer(out[:0])
				io.Copy(o, r)
			}
		})
	}
	b.Run("json-enc", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(d)
		}
	})
	b.Run("json-dec", func(b *testing.B) {
		for b.Loop() {
			var x any
			_ = x
			var dd = d
			json.Unmarshal(js, &dd)
		}
	})
}
