package flows

import (
	"strings"
	"testing"
)

// Fuzz target of the callback codec: a stranger can send any callback data
// (a modified client).

// FuzzParseCallback: parseCallback does not panic, and data it accepts
// names a known verb and reads back the same after encoding it again the
// way the buttons are made (data).
func FuzzParseCallback(f *testing.F) {
	for _, s := range []string{
		"go", "", ":", "::", "1", "1:", "1:submit", "7:opt:help_kinds.industry", "7:opt:industry", "7:opt:help_kinds.", "7:opt:.x",
		"7:opt:", "7:edit:", "7:edit:essays", "7:edit:a:b", "7:back", "7:back:essays", "7:cancel", "+7:sum", "-1:revise", "007:done:photos",
		"9223372036854775807:keep:essays", "9223372036854775808:submit", "１:submit", "1:SUBMIT", "1:submit\x00", "1:opt:h.i.j",
		"adm:rm:12", "7:sure:troop_visits", "7:redo:troop_visits", "7:sure", "7:redo:", "adm:remind:m202202100900", "1:edit:\xff", "\u202e1:submit", "1:opt:😀.😀", "1 :submit",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cb, ok := parseCallback(s)
		if !ok {
			if cb != (callback{}) {
				t.Errorf("parseCallback(%q) = %+v, false; want a zero callback", s, cb)
			}
			return
		}
		var arg string
		switch cb.verb {
		case verbOpt:
			arg = cb.arg
			if cb.qid != "" || strings.Contains(cb.arg, ".") {
				arg = cb.qid + "." + cb.arg
			}
		case verbBack, verbSkip, verbCancel, verbKeep, verbDone, verbSure, verbRedo:
			arg = cb.qid
		case verbEdit:
			arg = cb.arg
		case verbSubmit, verbSum, verbRevise:
		default:
			t.Fatalf("parseCallback(%q) accepted unknown verb %q", s, cb.verb)
		}
		enc := data(cb.rev, cb.verb, arg)
		if back, ok := parseCallback(enc); !ok || back != cb {
			t.Errorf("parseCallback(%q) = %+v, encoded %q, which reads back as %+v (ok %v)", s, cb, enc, back, ok)
		}
	})
}
