package flows

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Names and free text from users. A name (a unit's) is shown to others and
// compared with other names, so it must look like what it is: NormalizeName
// folds compatibility forms (full-width letters and digits, the ideographic
// space) with NFKC and refuses characters that do not print — zero-width
// spaces and joiners, bidi controls that reorder the text around them,
// private-use characters. Free text (a form's text answers) is only cleaned:
// CleanText drops those characters and keeps the rest as typed.

// MaxNameRunes caps a name after normalisation.
const MaxNameRunes = 50

// invisible reports whether r does not print (or changes how the text around
// it is shown) and has no place in a name: control characters (Cc), format
// characters (Cf: zero-width space U+200B, ZWNJ/ZWJ, U+FEFF, the bidi
// controls U+202A–U+202E and U+2066–U+2069, soft hyphen…), private use (Co),
// surrogates (Cs), line and paragraph separators (Zl, Zp), variation
// selectors, and the other default-ignorable code points (Hangul fillers,
// the combining grapheme joiner…), which render as nothing.
func invisible(r rune) bool {
	return r == utf8.RuneError ||
		unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp,
			unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// NormalizeName returns the canonical form of a name: NFKC, trimmed, each
// run of spaces (including the full-width space U+3000, which NFKC folds)
// one ASCII space. It refuses with a *UserError (Chinese) a name that is
// empty, longer than MaxNameRunes, or contains a character that does not
// print (see invisible), a line break or a tab. Two names that look the same
// normalise to the same string, so compare names after normalising them.
func NormalizeName(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", &UserError{Msg: "名称中含有无法识别的字符，请重新输入。"}
	}
	s = norm.NFKC.String(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == '\v' || r == '\f':
			return "", &UserError{Msg: "名称中不能包含换行或制表符，请写在一行内。"}
		case invisible(r):
			return "", &UserError{Msg: "名称中含有不可见字符（如零宽空格或方向控制符），请删除后重试。"}
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	name := b.String()
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", &UserError{Msg: "名称不能为空。"}
	case n > MaxNameRunes:
		return "", &UserError{Msg: fmt.Sprintf("名称太长（%d 个字，最多 %d 个字），请精简后重试。", n, MaxNameRunes)}
	}
	return name, nil
}

// CleanText removes from free text the characters that do not print (see
// invisible), keeping line breaks and tabs (a Windows or old-Mac line break
// becomes "\n", as do U+2028 and U+2029), variation selectors (emoji) and
// everything else as typed:
// no NFKC, no trimming. Invalid UTF-8 is dropped.
func CleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r' || r == '\u2028' || r == '\u2029':
			return '\n'
		case unicode.Is(unicode.Variation_Selector, r):
			return r // part of an emoji as typed; harmless in free text
		case invisible(r):
			return -1
		}
		return r
	}, s)
}
