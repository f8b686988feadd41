package flows

import (
	"strconv"
	"strings"
)

// Callback data of inline buttons: "<rev>:<verb>" or "<rev>:<verb>:<arg>",
// where rev is the draft revision the button was shown at. Buttons of a
// question message name their question (arg), so that a button of the
// question the contact is still on keeps working after the draft moved on
// within that question (toggled options, photos received). DataGo is the
// one button without a revision.
const (
	// DataGo means the same as the command /report: start, resume, or show
	// the submitted report. Reminders and the greeting carry it.
	DataGo = "go"

	verbBack   = "back"   // arg: question id
	verbSkip   = "skip"   // arg: question id
	verbCancel = "cancel" // arg: question id, or none
	verbKeep   = "keep"   // keep the current answer; arg: question id
	verbOpt    = "opt"    // arg: "<question id>.<option id>"
	verbDone   = "done"   // finish multichoice/photos; arg: question id
	verbSubmit = "submit" // at the summary
	verbEdit   = "edit"   // at the summary; arg: question id to change
	verbSum    = "sum"    // show the summary again
	verbRevise = "revise" // change a submitted report
	verbSure   = "sure"   // 确认无误: store the answer far from last year's; arg: question id
	verbRedo   = "redo"   // 重新填写: drop it and ask again; arg: question id
)

// maxDataLen is Telegram's limit on callback data, in bytes.
const maxDataLen = 64

func data(rev int64, verb, arg string) string {
	s := strconv.FormatInt(rev, 10) + ":" + verb
	if arg != "" {
		s += ":" + arg
	}
	return s
}

// optData is the data of an option button. Ids are short (question ids ≤
// 32 bytes, option ids ≤ 16, checked by ParseCampaign), so it fits 64 bytes
// for any revision below 10¹⁰; past that it falls back to the option id
// alone, which only acts while the revision is current.
func optData(rev int64, q *Question, optID string) string {
	if s := data(rev, verbOpt, q.ID+"."+optID); len(s) <= maxDataLen {
		return s
	}
	return data(rev, verbOpt, optID)
}

// callback is parsed callback data.
type callback struct {
	rev  int64
	verb string
	qid  string // the question the button belongs to, if it names one
	arg  string // the option id (opt) or the question to change (edit)
}

func parseCallback(s string) (callback, bool) {
	revText, rest, ok := strings.Cut(s, ":")
	if !ok {
		return callback{}, false
	}
	rev, err := strconv.ParseInt(revText, 10, 64)
	if err != nil {
		return callback{}, false
	}
	verb, arg, _ := strings.Cut(rest, ":")
	cb := callback{rev: rev, verb: verb}
	switch verb {
	case verbOpt:
		if qid, opt, ok := strings.Cut(arg, "."); ok {
			cb.qid, cb.arg = qid, opt
		} else {
			cb.arg = arg
		}
		if cb.arg == "" {
			return callback{}, false
		}
	case verbBack, verbSkip, verbCancel, verbKeep, verbDone, verbSure, verbRedo:
		cb.qid = arg
	case verbEdit:
		if arg == "" {
			return callback{}, false
		}
		cb.arg = arg
	case verbSubmit, verbSum, verbRevise:
	default:
		return callback{}, false
	}
	return cb, true
}
