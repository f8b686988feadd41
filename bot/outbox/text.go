package outbox

import (
	"strings"
	"unicode/utf8"
)

// MaxTextUnits is the longest message text Telegram accepts, counted in
// UTF-16 code units.
const MaxTextUnits = 4096

// SplitText splits text into parts of at most maxUnits UTF-16 code units (the
// unit Telegram counts in). Text that fits is returned as the only part,
// unchanged. Otherwise parts are cut at line breaks, the line breaks at the
// cuts are dropped (as are line breaks at either end of a part, and parts
// that would be empty), and a single line longer than maxUnits is cut at rune
// boundaries, never inside a surrogate pair. Joining the parts with "\n"
// therefore keeps every other character in order. Empty text gives no
// parts. maxUnits below 1 means 1; a rune needing 2 units then still makes one
// part on its own.
func SplitText(text string, maxUnits int) []string {
	if text == "" {
		return nil
	}
	maxUnits = max(maxUnits, 1)
	if textUnits(text) <= maxUnits {
		return []string{text}
	}

	var parts []string
	flush := func(p string) {
		if p = strings.Trim(p, "\r\n"); p != "" {
			parts = append(parts, p)
		}
	}
	// The current part is text[curStart:curEnd] (lines joined by their
	// original "\n"), curUnits long; curStart < 0 means none yet.
	curStart, curEnd, curUnits := -1, 0, 0
	for pos := 0; ; {
		end := len(text)
		nl := strings.IndexByte(text[pos:], '\n')
		if nl >= 0 {
			end = pos + nl
		}
		line := text[pos:end]
		lineUnits := textUnits(line)
		switch {
		case curStart >= 0 && curUnits+1+lineUnits <= maxUnits:
			curEnd, curUnits = end, curUnits+1+lineUnits
		case lineUnits <= maxUnits:
			if curStart >= 0 {
				flush(text[curStart:curEnd])
			}
			curStart, curEnd, curUnits = pos, end, lineUnits
		default:
			if curStart >= 0 {
				flush(text[curStart:curEnd])
			}
			// Emit full chunks; the rest starts the next part so that
			// following lines can join it.
			for {
				n := cutUnits(line, maxUnits)
				if n == len(line) {
					break
				}
				flush(line[:n])
				line = line[n:]
			}
			curStart, curEnd, curUnits = end-len(line), end, textUnits(line)
		}
		if nl < 0 {
			break
		}
		pos = end + 1
	}
	if curStart >= 0 {
		flush(text[curStart:curEnd])
	}
	return parts
}

// textUnits counts s in UTF-16 code units. Invalid bytes count as one
// unit each (they decode to U+FFFD).
func textUnits(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// cutUnits returns the byte length of the longest prefix of s that fits in
// maxUnits UTF-16 units, but at least one rune.
func cutUnits(s string, maxUnits int) int {
	units := 0
	for i, r := range s {
		u := 1
		if r >= 0x10000 {
			u = 2
		}
		if units+u > maxUnits {
			if i == 0 {
				_, size := utf8.DecodeRuneInString(s)
				return size
			}
			return i
		}
		units += u
	}
	return len(s)
}
