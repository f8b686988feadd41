package codec

import (
	"reflect"
	"strings"
	"testing"

	"reportbot/flows"
	"reportbot/storage/storetest"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name         string
		d            flows.Draft
		wantDeflated bool
	}{
		{"zero", flows.Draft{UnitID: 1}, false},
		{"small", flows.Draft{UnitID: 2, Rev: 3, Answers: map[string]flows.Answer{"essays": {Num: 4}}}, false},
		{"full", storetest.FullDraft(3), true},
		{"long text", flows.Draft{UnitID: 4, Answers: map[string]flows.Answer{"summary_text": {Text: strings.Repeat("双拥", 1000)}}}, true},
	}
	for _, tt := range tests {
		b, err := EncodeDraft(tt.d)
		if err != nil {
			t.Fatalf("EncodeDraft(%s) error: %v", tt.name, err)
		}
		if got := b[0] == deflated; got != tt.wantDeflated {
			t.Errorf("EncodeDraft(%s): deflated %v, want %v", tt.name, got, tt.wantDeflated)
		}
		var got flows.Draft
		if err := DecodeDraft(b, &got); err != nil {
			t.Fatalf("DecodeDraft(EncodeDraft(%s)) error: %v", tt.name, err)
		}
		if !reflect.DeepEqual(got, tt.d) {
			t.Errorf("DecodeDraft(EncodeDraft(%s)) = %+v, want %+v", tt.name, got, tt.d)
		}
	}
}

func TestDecodeBad(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {0, 1, 2, 3}, []byte("{"), []byte("[]")} {
		var d flows.Draft
		if err := DecodeDraft(b, &d); err == nil {
			t.Errorf("DecodeDraft(%q) error = nil, want an error", b)
		}
	}
}

func TestConcurrent(t *testing.T) {
	d := storetest.FullDraft(5)
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 50 {
				b, err := EncodeDraft(d)
				if err != nil {
					t.Error(err)
					return
				}
				var got flows.Draft
				if err := DecodeDraft(b, &got); err != nil || !reflect.DeepEqual(got, d) {
					t.Errorf("round trip under concurrency: %v", err)
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

func BenchmarkEncodeFull(b *testing.B) {
	d := storetest.FullDraft(1)
	var n int
	for b.Loop() {
		out, err := EncodeDraft(d)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes/draft")
}

func BenchmarkDecodeFull(b *testing.B) {
	in, _ := EncodeDraft(storetest.FullDraft(1))
	for b.Loop() {
		var d flows.Draft
		if err := DecodeDraft(in, &d); err != nil {
			b.Fatal(err)
		}
	}
}
