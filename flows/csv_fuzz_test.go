package flows

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// FuzzParseUnitsCSV: an /import file in each encoding ParseUnitsCSV
// accepts (enc 0: as is, 1: with a UTF-8 BOM, 2: encoded as GB18030). It
// does not panic; it returns either problems (Chinese, nothing to add) or
// an import of valid, distinct, new units; and the same text reads the same
// with a BOM, or as GB18030 when that encoding is not also valid UTF-8.
func FuzzParseUnitsCSV(f *testing.F) {
	c := DefaultCampaign()
	existing := []Unit{
		{ID: 1, Name: "市财政局", Category: "department"},
		{ID: 3, Name: "旧单位", Category: "county", Removed: true},
	}
	if sample, err := os.ReadFile("testdata/units-lvliang.csv"); err == nil {
		f.Add(string(sample), uint8(0))
		f.Add(string(sample), uint8(2))
	}
	for _, s := range []string{
		"", "\n", "名称,类别\n", "名称,类别,联系人说明\r\n市教育局,市直单位,张科长\r\n团市委,团体,\r\n",
		"类别 , 单位名称\n 市直 , 市教育局 \n", "名称,类别,\n市教育局,市直单位,\n\n,,\n",
		"名称,类别\n市财政局,市直\n旧单位,县市区\n市财政局,县市区\n", "名称,类别\n\"市,教育局\",市直\n\"未闭合,市直\n",
		"名称,名称,类别\n甲乙,市直\n", "单位,类型,备注,多余\n甲乙,部队,x,y\n", "名称,类别\n甲,市直\n" + strings.Repeat("字", 51) + ",市直\n",
		"名称,类别\n市教育局\u200b,市直\n\u202e局育教市,市直\n😀😀,企业\n", "名称,类别\n１２,县（市、区）\n",
		"PK\x03\x04rest", "名称,类别\n\x00\x01,市直\n", "\xef\xbb\xbf\xef\xbb\xbf名称,类别\n", "名称,类别\n\xc4\xe3\xba\xc3,市直\n",
		"名称\t类别\n甲乙\t市直\n", "名称,类别\r市教育局,市直\r", "\"名称\",\"类别\"\n\"市\"\"教育\"\"局\",\"市直\"\n",
	} {
		for enc := range uint8(3) {
			f.Add(s, enc)
		}
	}
	f.Fuzz(func(t *testing.T, text string, enc uint8) {
		data := []byte(text)
		switch enc % 3 {
		case 1:
			data = append([]byte("\xef\xbb\xbf"), data...)
		case 2:
			gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes(data)
			if err != nil {
				return
			}
			data = gb
		}
		imp, probs := ParseUnitsCSV(data, c, existing)
		checkUnitImport(t, c, existing, data, imp, probs)

		// The encodings read alike.
		var same bool
		switch enc % 3 {
		case 1:
			same = !bytes.HasPrefix([]byte(text), []byte("\xef\xbb\xbf"))
		case 2:
			// A BOM is stripped before decoding, so a GB18030-encoded
			// U+FEFF stays in the header (Excel writes none in GB18030).
			// Private-use code points do not round-trip through x/text's
			// GB18030 (U+E6C2 comes back as another character).
			same = utf8.ValidString(text) && !utf8.Valid(data) && !strings.HasPrefix(text, "\ufeff") &&
				!strings.ContainsFunc(text, func(r rune) bool { return unicode.Is(unicode.Co, r) })
		}
		if same {
			// The same units, or problems both ways (their wording may
			// differ: the encoding is refused before the content is read).
			imp0, probs0 := ParseUnitsCSV([]byte(text), c, existing)
			if !reflect.DeepEqual(imp, imp0) || (len(probs) == 0) != (len(probs0) == 0) {
				t.Errorf("ParseUnitsCSV(%q) in encoding %d = %+v, %v; as UTF-8 = %+v, %v", text, enc%3, imp, probs, imp0, probs0)
			}
		}
	})
}

func checkUnitImport(t *testing.T, c *Campaign, existing []Unit, data []byte, imp UnitImport, probs []Problem) {
	t.Helper()
	if len(probs) > 0 {
		if len(imp.Add) > 0 || len(imp.Same) > 0 {
			t.Errorf("ParseUnitsCSV(%q) = %+v with problems %v; want nothing to import", data, imp, probs)
		}
		for _, p := range probs {
			if !hasCJK(p.Msg) || p.Line < 0 {
				t.Errorf("ParseUnitsCSV(%q) problem %+v: want a Chinese message and a line ≥ 0", data, p)
			}
		}
		return
	}
	if len(imp.Add)+len(imp.Same) == 0 {
		t.Errorf("ParseUnitsCSV(%q) = nothing, and no problem", data)
	}
	seen := map[string]bool{}
	for _, u := range imp.Add {
		if msg := CheckUnitName(u.Name); msg != "" || u.Name != strings.TrimSpace(u.Name) || !utf8.ValidString(u.Name) {
			t.Errorf("ParseUnitsCSV(%q) adds unit name %q (%s)", data, u.Name, msg)
		}
		if _, ok := c.Category(u.Category); !ok {
			t.Errorf("ParseUnitsCSV(%q) adds %q with category %q", data, u.Name, u.Category)
		}
		if utf8.RuneCountInString(u.Note) > 100 {
			t.Errorf("ParseUnitsCSV(%q) adds %q with a note of %d runes", data, u.Name, utf8.RuneCountInString(u.Note))
		}
		if seen[u.Name] || slices.ContainsFunc(existing, func(e Unit) bool { return e.Name == u.Name }) {
			t.Errorf("ParseUnitsCSV(%q) adds %q twice or again", data, u.Name)
		}
		seen[u.Name] = true
	}
	for _, name := range imp.Same {
		if !slices.ContainsFunc(existing, func(e Unit) bool { return e.Name == name && !e.Removed }) {
			t.Errorf("ParseUnitsCSV(%q) leaves %q as it is, but no such unit exists", data, name)
		}
	}
}
