package flows

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
)

// Fuzz targets of the engine fed arbitrary button data, typed text and
// files: a stranger can send any callback data (a modified client) and any
// text or file, in any state of the draft.

// fuzzState is a draft in a state a contact can be in, with its env.
type fuzzState struct {
	name string
	d    Draft
	env  Env
}

// fuzzStates walks a county unit's report with Step from not started to
// submitted and returned, keeping the draft at every question (a pending
// selection and pending photos included), at the summary, submitted
// (before and after the deadline) and returned.
func fuzzStates(tb testing.TB) []fuzzState {
	tb.Helper()
	c := DefaultCampaign()
	env := Env{Unit: countyUnit, UserID: 1001, Now: beforeDeadline}
	d := Draft{UnitID: countyUnit.ID}
	var states []fuzzState
	keep := func(name string) { states = append(states, fuzzState{name, d, env}) }
	step := func(in Input) {
		r := c.Step(d, env, in)
		if r.Changed {
			d = r.Draft
		}
	}
	keep("new")
	step(Input{Cmd: "report"})
	for i := 0; d.Cursor != ""; i++ {
		if i > 200 {
			tb.Fatalf("fuzzStates: no summary after 200 steps; at %q", d.Cursor)
		}
		q := c.Question(d.Cursor)
		keep("at " + q.ID)
		before := d.Cursor
		switch q.Type {
		case TypeInteger:
			step(Input{Text: "3"})
		case TypeMoney:
			step(Input{Text: "1.25"})
		case TypeText:
			step(Input{Text: "开展走访慰问活动"})
		case TypePhone:
			step(Input{Text: "13912345678"})
		case TypeChoice:
			step(Input{Text: q.Options[0].Label})
		case TypeMultiChoice:
			step(Input{Data: optData(d.Rev, q, q.Options[0].ID)})
			keep("picking " + q.ID)
			step(Input{Text: "完成"})
		case TypeDocument:
			f := pdfFile
			step(Input{File: &f})
		case TypePhotos:
			p := photo(1)
			step(Input{File: &p})
			keep("photos " + q.ID)
			step(Input{Text: "完成"})
		}
		if d.Cursor == before {
			tb.Fatalf("fuzzStates: question %s did not take its answer", before)
		}
	}
	keep("summary")
	step(Input{Data: data(d.Rev, verbSubmit, "")})
	if d.Status != StatusSubmitted {
		tb.Fatalf("fuzzStates: submit left status %q", d.Status)
	}
	keep("submitted")
	env.Now = afterDeadline
	keep("submitted, after the deadline")
	rd, err := c.Return(d, "慰问金数额与附件不符", "veteran_cash", 9001, afterDeadline)
	if err != nil {
		tb.Fatalf("fuzzStates: Return: %v", err)
	}
	d = rd
	keep("returned")
	env.Now = beforeDeadline
	step(Input{Data: data(d.Rev, verbRevise, "")})
	keep("revising")
	return append(states, confirmingStates(tb, c, states)...)
}

// confirmingStates are drafts with last year's figures: at the summary,
// and with an answer far from last year's waiting for 确认无误.
func confirmingStates(tb testing.TB, c *Campaign, states []fuzzState) []fuzzState {
	tb.Helper()
	prev := &Previous{Campaign: "lvliang-2021-spring", Nums: map[string]int64{"veteran_visits": 120, "troop_visits": 2}, Skipped: []string{"forums"}}
	var out []fuzzState
	for _, st := range states {
		switch st.name {
		case "summary":
			st.d.Prev = prev
			out = append(out, fuzzState{"summary beside last year", st.d, st.env})
		case "at veteran_visits":
			st.d.Prev = prev
			r := c.Step(st.d, st.env, Input{Text: "3000"})
			if !confirming(r.Draft, c.Question("veteran_visits")) {
				tb.Fatalf("confirmingStates: 3000 against last year's 120 is not waiting for 确认无误")
			}
			out = append(out, fuzzState{"confirming veteran_visits", r.Draft, st.env})
		}
	}
	if len(out) != 2 {
		tb.Fatalf("confirmingStates: made %d states, want 2", len(out))
	}
	return out
}

// checkFuzzStep checks what every step must hold whatever the input: it
// does not panic (the caller), it leaves the draft it was given as it was,
// says something in Chinese, and returns the old draft when it reports no
// change (checkResult has the rest).
func checkFuzzStep(t *testing.T, c *Campaign, st fuzzState, in Input) {
	t.Helper()
	before, _ := json.Marshal(st.d)
	r := c.Step(st.d, st.env, in)
	if after, _ := json.Marshal(st.d); string(after) != string(before) {
		t.Fatalf("Step(%s) at %s modified the draft it was given", describeInput(in), st.name)
	}
	checkResult(t, c, st.d, st.env, in, r)
	for _, rep := range r.Replies {
		if !hasCJK(rep.Text) {
			t.Errorf("Step(%s) at %s said %q, which has no Chinese", describeInput(in), st.name, rep.Text)
		}
	}
	if !r.Changed && !reflect.DeepEqual(r.Draft, st.d) {
		t.Errorf("Step(%s) at %s reported no change but returned another draft", describeInput(in), st.name)
	}
}

// FuzzStepData: arbitrary callback data in every state of the draft.
func FuzzStepData(f *testing.F) {
	c := DefaultCampaign()
	states := fuzzStates(f)
	for i, st := range states {
		rev := strconv.FormatInt(st.d.Rev, 10)
		for _, s := range []string{"go", rev + ":submit", rev + ":sum", rev + ":revise", rev + ":edit:essays", rev + ":edit:nope",
			rev + ":back:" + st.d.Cursor, rev + ":skip:" + st.d.Cursor, rev + ":keep:" + st.d.Cursor, rev + ":done:" + st.d.Cursor,
			rev + ":opt:help_kinds.health", rev + ":opt:health", rev + ":cancel", "0:submit", "1:opt:x.y", "\xff",
			rev + ":sure:" + st.d.Cursor, rev + ":redo:" + st.d.Cursor, "1:sure:veteran_visits"} {
			f.Add(s, uint16(i))
		}
	}
	f.Fuzz(func(t *testing.T, s string, which uint16) {
		if s == "" {
			return // not a button: Step reads it as typed text
		}
		checkFuzzStep(t, c, states[int(which)%len(states)], Input{Data: s})
	})
}

// FuzzStepText: arbitrary typed text in every state of the draft.
func FuzzStepText(f *testing.F) {
	c := DefaultCampaign()
	states := fuzzStates(f)
	for i := range states {
		for j, s := range nastyTexts {
			if (i+j)%5 == 0 {
				f.Add(s, uint16(i))
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string, which uint16) {
		checkFuzzStep(t, c, states[int(which)%len(states)], Input{Text: s})
	})
}

// FuzzStepFile: an arbitrary file (its name, type and size are the
// sender's) in every state of the draft.
func FuzzStepFile(f *testing.F) {
	c := DefaultCampaign()
	states := fuzzStates(f)
	for i := range states {
		f.Add("专题报告.pdf", "application/pdf", int64(1<<20), false, uint16(i))
		f.Add("", "", int64(90_000), true, uint16(i))
	}
	f.Add("扫描件.PDF", "image/jpeg", int64(MaxFileSize+1), false, uint16(0))
	f.Add("..\\..\\x.exe\u202egpj.pdf", "application/x-msdownload", int64(-1), false, uint16(3))
	f.Add("\xff\xfe.docx", "APPLICATION/MSWORD", int64(0), false, uint16(5))
	f.Fuzz(func(t *testing.T, name, mime string, size int64, isPhoto bool, which uint16) {
		file := File{ID: "BQACAgUAAxkBAAIBfuzz", UniqueID: "AgADfuzz", Name: name, MIME: mime, Size: size, Photo: isPhoto}
		checkFuzzStep(t, c, states[int(which)%len(states)], Input{File: &file})
	})
}
