package loadtest

import (
	"fmt"
	"slices"

	"reportbot/flows"
)

// verdict is the comparison of what contacts typed with what was stored.
type verdict struct {
	Lost     int      `json:"lost"`
	Doubled  int      `json:"doubled"`
	Problems []string `json:"problems,omitempty"` // the first few, for the reader
}

const maxProblems = 20

func (v *verdict) add(lost bool, format string, args ...any) {
	if lost {
		v.Lost++
	} else {
		v.Doubled++
	}
	if len(v.Problems) < maxProblems {
		v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
	}
}

// checkReports compares a contact's submitted reports with the answers the
// contact meant to give (want, by question id). It counts:
//
//   - lost: an answer missing from the report, or a different value that is
//     no other question's answer; every answer when nothing was submitted;
//   - doubled: a second submitted version (one submission was made), an
//     answer that holds another question's value (an input applied twice
//     answers the next question with it), an answer the contact never gave.
//
// The latest version is compared. name labels the problems.
func checkReports(v *verdict, name string, want map[string]flows.Answer, reports []flows.Report) {
	if len(reports) == 0 {
		if len(want) > 0 {
			v.add(true, "%s: nothing submitted (%d answers lost)", name, len(want))
			v.Lost += len(want) - 1
		}
		return
	}
	if len(reports) > 1 {
		for _, r := range reports[1:] {
			v.add(false, "%s: submitted %d times (version %d, %s)", name, len(reports), r.Version, r.Receipt)
		}
	}
	got := reports[len(reports)-1].Answers
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		w := want[id]
		g, ok := got[id]
		switch {
		case !ok:
			v.add(true, "%s: %s missing, want %s", name, id, show(w))
		case sameAnswer(g, w):
		case otherAnswer(id, g, want) != "":
			v.add(false, "%s: %s = %s, which is the answer to %s (want %s)", name, id, show(g), otherAnswer(id, g, want), show(w))
		default:
			v.add(true, "%s: %s = %s, want %s", name, id, show(g), show(w))
		}
	}
	var extra []string
	for id, g := range got {
		if _, ok := want[id]; !ok && !g.Skipped {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	for _, id := range extra {
		v.add(false, "%s: %s = %s, never answered", name, id, show(got[id]))
	}
}

// otherAnswer names another question whose wanted answer g is.
func otherAnswer(id string, g flows.Answer, want map[string]flows.Answer) string {
	ids := make([]string, 0, len(want))
	for other := range want {
		ids = append(ids, other)
	}
	slices.Sort(ids)
	for _, other := range ids {
		if other != id && sameAnswer(g, want[other]) && !want[other].Skipped && !isEmpty(g) {
			return other
		}
	}
	return ""
}

func isEmpty(a flows.Answer) bool {
	return a.Num == 0 && a.Text == "" && len(a.Picks) == 0 && len(a.Files) == 0
}

// sameAnswer compares a stored answer with a wanted one. Files are compared
// by what the contact chose: the document's name, the number of photos.
func sameAnswer(got, want flows.Answer) bool {
	if got.Skipped || want.Skipped {
		return got.Skipped == want.Skipped
	}
	if got.Num != want.Num || got.Text != want.Text || !slices.Equal(got.Picks, want.Picks) || len(got.Files) != len(want.Files) {
		return false
	}
	for i, f := range want.Files {
		if f.Photo != got.Files[i].Photo || (f.Name != "" && f.Name != got.Files[i].Name) {
			return false
		}
	}
	return true
}

func show(a flows.Answer) string {
	switch {
	case a.Skipped:
		return "(skipped)"
	case len(a.Files) > 0:
		if a.Files[0].Photo {
			return fmt.Sprintf("%d photos", len(a.Files))
		}
		return fmt.Sprintf("file %q", a.Files[0].Name)
	case len(a.Picks) > 0:
		return fmt.Sprint(a.Picks)
	case a.Text != "":
		if r := []rune(a.Text); len(r) > 24 {
			return fmt.Sprintf("%q…", string(r[:24]))
		}
		return fmt.Sprintf("%q", a.Text)
	}
	return fmt.Sprint(a.Num)
}
