package flows

import (
	"fmt"
	"time"
)

// FormatTime formats a time for users in the campaign's zone:
// 2022年2月10日 18:00.
func FormatTime(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	return fmt.Sprintf("%d年%d月%d日 %02d:%02d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute())
}
