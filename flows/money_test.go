package flows

import "testing"

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1", 100, true}, {"1.5", 150, true}, {"12.34", 1234, true},
		{"1.234", 0, false}, {"abc", 0, false}, {"1.", 0, false}, {".5", 0, false}, {"1e3", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if got := FormatMoney(1234); got != "12.34" {
		t.Errorf("FormatMoney(1234) = %q", got)
	}
}
