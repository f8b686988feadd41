package flows

import "fmt"

// RoundResult tells what a run of a reminder round did (the scheduler's
// RunReminders and RunRound, an admin's /remind).
type RoundResult struct {
	Round Round
	// Ran is true when this call ran the round to its end.
	Ran bool
	// Skip says why a due round did not run: "done" (it ran before),
	// "busy" (another replica holds it), "reminders off", "panicked" (this
	// or an earlier run of the round panicked: it is marked and not run
	// again), "" when it ran or when nothing was due (Round is zero).
	Skip  string
	Tally RoundTally
	// Panics counts the units whose reminder panicked (they count as
	// Failed too) and a panic of the round itself.
	Panics int
}

// String is a short description for logs.
func (r RoundResult) String() string {
	switch {
	case r.Round.At.IsZero():
		return ""
	case r.Skip == "done":
		return "" // the normal state of every tick after a round: not worth a log line
	case r.Skip != "":
		return fmt.Sprintf("round %s skipped: %s", r.Round.Key(), r.Skip)
	}
	t := r.Tally
	s := fmt.Sprintf("round %s: %d units, %d reached, %d unreachable, %d unbound, %d failed, %d submitted meanwhile, %d reminders sent",
		r.Round.Key(), t.Units, t.Sent, t.Unreachable, t.NoContact, t.Failed, t.Submitted, t.Messages)
	if r.Panics > 0 {
		s += fmt.Sprintf(", %d panicked (round marked)", r.Panics)
	}
	return s
}
