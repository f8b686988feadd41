package loadtest

import (
	"sync/atomic"
	"time"
)

// warpClock is the fake Telegram's clock in a rush. Telegram's limits stay
// enforced the whole time, but the preparation (binding, filling 200 forms
// up to the summary) would take minutes at 25 messages a second and is not
// what the rush measures. So while the units prepare, the clock jumps a
// second forward at every reading: between any two sends the fake sees at
// least a second pass, which refills a private chat's bucket (1 a second)
// and the global one (30 a second); the only group message of the
// preparation is the answer to /setgroup. Then it is frozen to real time
// plus the jumps made, and the rush runs on real time, under the limits.
type warpClock struct {
	warping atomic.Bool
	jumps   atomic.Int64
}

const warpStep = time.Second

func newWarpClock() *warpClock {
	w := &warpClock{}
	w.warping.Store(true)
	return w
}

// now is the fake's time: real time plus the jumps made so far.
func (w *warpClock) now() time.Time {
	n := w.jumps.Load()
	if w.warping.Load() {
		n = w.jumps.Add(1)
	}
	return time.Now().Add(time.Duration(n) * warpStep)
}

// freeze ends the jumps. Call it when nothing is being sent: a reading
// that raced with it may still add one jump.
func (w *warpClock) freeze() { w.warping.Store(false) }
