package codec

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"reportbot/flows"
	"reportbot/storage/storetest"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name           string
		d              flows.Draft
		wantCompressed bool
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
		if got := b[0] == s2Block; got != tt.wantCompressed {
			t.Errorf("EncodeDraft(%s): compressed %v, want %v", tt.name, got, tt.wantCompressed)
		}
		if js, _ := json.Marshal(tt.d); len(b) > len(js)*4/5 && tt.wantCompressed {
			t.Errorf("EncodeDraft(%s) = %d bytes for %d bytes of JSON, want at least a fifth less", tt.name, len(b), len(js))
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

// TestDecodeOlder: drafts stored before CBOR, as JSON or deflated JSON,
// still decode.
func TestDecodeOlder(t *testing.T) {
	want := storetest.FullDraft(7)
	js, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON flows.Draft
	if err := DecodeDraft(js, &fromJSON); err != nil || !reflect.DeepEqual(fromJSON, want) {
		t.Errorf("DecodeDraft(JSON) = %+v, %v; want %+v", fromJSON, err, want)
	}
	var buf bytes.Buffer
	buf.WriteByte(deflated)
	w, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(js); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var got flows.Draft
	if err := DecodeDraft(buf.Bytes(), &got); err != nil {
		t.Fatalf("DecodeDraft(deflated) error: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeDraft(deflated) = %+v, want %+v", got, want)
	}
}

func TestDecodeBad(t *testing.T) {
	full, err := EncodeDraft(storetest.FullDraft(1))
	if err != nil {
		t.Fatal(err)
	}
	truncated := full[:len(full)/2]
	for _, b := range [][]byte{nil, {0}, {0, 1, 2, 3}, {1}, {1, 0xff}, {2}, {2, 0xff, 0xff, 0xff, 0xff, 0x0f}, truncated, []byte("{"), []byte("[]")} {
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

func TestOutgoingRoundTrip(t *testing.T) {
	upload := bytes.Repeat([]byte{0, 1, 0xff}, 100_000)
	m := flows.Outgoing{
		ID: "dropped", Chat: -1001234567890, Kind: flows.OutFile, MsgID: 9, Text: "汇总表",
		Buttons: [][]flows.Button{{{Text: "上一题", Data: "back"}}},
		File:    &flows.File{Name: "汇总.xlsx", Size: 300_000}, Upload: upload, Post: true,
		At: time.Date(2022, 1, 10, 9, 0, 0, 123, time.UTC),
	}
	b, err := EncodeOutgoing(m)
	if err != nil {
		t.Fatalf("EncodeOutgoing error: %v", err)
	}
	if len(b) > len(upload)+200 {
		t.Errorf("EncodeOutgoing with a %d-byte upload = %d bytes, want the upload raw (no base64)", len(upload), len(b))
	}
	var got flows.Outgoing
	if err := DecodeOutgoing(b, &got); err != nil {
		t.Fatalf("DecodeOutgoing error: %v", err)
	}
	want := m
	want.ID = ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeOutgoing(EncodeOutgoing(m)) = %+v, want %+v", got, want)
	}
	for _, bad := range [][]byte{nil, {plain}, {2, 0xa0}, []byte(`{"k":"text"}`), b[:len(b)/2]} {
		if err := DecodeOutgoing(bad, &got); err == nil {
			t.Errorf("DecodeOutgoing(%.20q) error = nil, want an error", bad)
		}
	}
}
