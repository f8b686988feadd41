package flows

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// MaxImportUnits bounds the rows of one units file.
const MaxImportUnits = 20000

// CheckUnitName returns a message (Chinese) if name cannot be a unit name,
// else "".
func CheckUnitName(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case n < 2:
		return "单位名称太短（至少 2 个字），请输入完整名称。"
	case n > 50:
		return "单位名称太长（最多 50 个字），请精简后重试。"
	case strings.ContainsAny(name, ",，\n\r\t"):
		return "单位名称中不能包含逗号、换行或制表符。"
	}
	return ""
}

// UnitImport is what a units file would change.
type UnitImport struct {
	Add  []Unit   // new units, in file order (Name, Category, Note set)
	Same []string // names already present with the same category: left as they are
}

// The header names accepted for each column of a units file.
var (
	nameHeaders     = []string{"名称", "单位名称", "单位"}
	categoryHeaders = []string{"类别", "单位类别", "类型"}
	noteHeaders     = []string{"联系人说明", "说明", "备注", "联系人"}
)

// ParseUnitsCSV reads a units file (columns 名称,类别 and optionally
// 联系人说明, header first; UTF-8 with or without BOM, or GB18030 as Excel
// saves it on Chinese Windows) and checks it against the campaign and the
// existing units. It reports every bad row by line number; when there is
// any problem the import must not be applied at all.
func ParseUnitsCSV(data []byte, c *Campaign, existing []Unit) (UnitImport, []Problem) {
	data, prob := unitsText(data)
	if prob != nil {
		return UnitImport{}, []Problem{*prob}
	}

	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // checked below, per line
	r.TrimLeadingSpace = true

	header, err := r.Read()
	if err != nil {
		return UnitImport{}, []Problem{csvProblem(err, 1)}
	}
	col, probs := unitsColumns(header)
	if len(probs) > 0 {
		return UnitImport{}, probs
	}

	u := unitRows{c: c, col: col, header: len(header), byName: unitsByName(existing), seen: map[string]int{}}
	u.read(r)
	if len(u.probs) == 0 && u.rows == 0 {
		u.probs = append(u.probs, Problem{Msg: "文件中只有表头，没有任何单位。"})
	}
	if len(u.probs) > 0 {
		return UnitImport{}, u.probs
	}
	return u.imp, nil
}

// unitsText returns a units file as UTF-8 text without a BOM, or the
// problem that it is not a text file (a workbook, another encoding, binary)
// or is empty.
func unitsText(data []byte) ([]byte, *Problem) {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return nil, &Problem{Msg: "这是 Excel 工作簿（.xlsx），不是 CSV 文件。请在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”后重新发送。"}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil || !utf8.Valid(dec) || !plainText(dec) {
			return nil, &Problem{Msg: "文件编码无法识别。请在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”后重新发送。"}
		}
		data = dec
	}
	if !plainText(data) {
		return nil, &Problem{Msg: "文件不是文本格式的 CSV。请在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”后重新发送（不要直接发送 .xlsx 文件）。"}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Problem{Msg: "文件是空的。第一行应为表头：名称,类别,联系人说明，之后每行一个单位。"}
	}
	return data, nil
}

// unitsColumns maps the header of a units file to the column of each field
// ("name", "category", "note"; -1 when absent), or lists what is wrong with it.
func unitsColumns(header []string) (map[string]int, []Problem) {
	col := map[string]int{"name": -1, "category": -1, "note": -1}
	var probs []Problem
	for i, h := range header {
		h = strings.TrimSpace(h)
		var key string
		switch {
		case h == "":
			continue // an empty trailing column, as spreadsheets leave them
		case slices.Contains(nameHeaders, h):
			key = "name"
		case slices.Contains(categoryHeaders, h):
			key = "category"
		case slices.Contains(noteHeaders, h):
			key = "note"
		default:
			probs = append(probs, Problem{Line: 1, Msg: fmt.Sprintf("表头中的“%s”不是可识别的列。表头应为：名称,类别,联系人说明（联系人说明可省略）", h)})
			continue
		}
		if col[key] >= 0 {
			probs = append(probs, Problem{Line: 1, Msg: fmt.Sprintf("表头中的“%s”列重复", h)})
			continue
		}
		col[key] = i
	}
	if col["name"] < 0 || col["category"] < 0 {
		probs = append(probs, Problem{Line: 1, Msg: "第一行应为表头：名称,类别,联系人说明（缺少“名称”或“类别”列）"})
	}
	return col, probs
}

// unitsByName indexes the existing units by name. Existing names are
// compared as normalised: a unit stored before names were normalised is
// found by the name it looks like.
func unitsByName(existing []Unit) map[string]Unit {
	byName := make(map[string]Unit, len(existing))
	for _, u := range existing {
		byName[u.Name] = u
		if n, err := NormalizeName(u.Name); err == nil {
			if _, taken := byName[n]; !taken {
				byName[n] = u
			}
		}
	}
	return byName
}

// unitRows reads the rows of a units file after its header.
type unitRows struct {
	c      *Campaign
	col    map[string]int  // field → column (unitsColumns)
	header int             // columns in the header
	byName map[string]Unit // existing units (unitsByName)
	seen   map[string]int  // name → line, of the rows read so far

	imp   UnitImport
	probs []Problem
	rows  int // rows read, blank ones not counted
}

// read reads every row and checks it.
func (u *unitRows) read(r *csv.Reader) {
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			u.probs = append(u.probs, csvProblem(err, 0))
			return // the reader cannot be trusted past a syntax error
		}
		line, _ := r.FieldPos(0)
		if isBlank(rec) {
			continue
		}
		u.rows++
		if u.rows > MaxImportUnits {
			u.probs = append(u.probs, Problem{Line: line, Msg: fmt.Sprintf("单位太多：一个文件最多 %d 个单位", MaxImportUnits)})
			return
		}
		u.row(rec, line)
	}
}

// row checks one row: a unit to add, one already present with the same
// category, or a problem.
func (u *unitRows) row(rec []string, line int) {
	if len(rec) > u.header {
		extra := strings.TrimSpace(strings.Join(rec[u.header:], ""))
		if extra != "" {
			u.probs = append(u.probs, Problem{Line: line, Msg: fmt.Sprintf("列数多于表头（%d 列，表头 %d 列）；单位名称中如有逗号，请去掉", len(rec), u.header)})
			return
		}
	}
	field := func(key string) string {
		i := u.col[key]
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	name, catName, note := field("name"), field("category"), strings.TrimSpace(CleanText(field("note")))
	if name == "" {
		u.probs = append(u.probs, Problem{Line: line, Msg: "缺少单位名称"})
		return
	}
	typed := strings.TrimSpace(CleanText(name)) // quoted back as written, without what does not print
	norm, err := NormalizeName(name)
	if ue := (*UserError)(nil); errors.As(err, &ue) {
		u.probs = append(u.probs, Problem{Line: line, Msg: "“" + typed + "”：" + ue.Msg})
		return
	}
	name = norm
	if msg := CheckUnitName(name); msg != "" {
		u.probs = append(u.probs, Problem{Line: line, Msg: "“" + typed + "”：" + msg})
		return
	}
	cat, ok := u.c.CategoryByName(catName)
	switch {
	case catName == "":
		u.probs = append(u.probs, Problem{Line: line, Msg: "“" + name + "”缺少类别（可选：" + u.c.CategoryNames() + "）"})
		return
	case !ok:
		u.probs = append(u.probs, Problem{Line: line, Msg: "“" + name + "”的类别“" + catName + "”不存在（可选：" + u.c.CategoryNames() + "）"})
		return
	}
	if prev, dup := u.seen[name]; dup {
		u.probs = append(u.probs, Problem{Line: line, Msg: fmt.Sprintf("单位“%s”与第 %d 行重复", name, prev)})
		return
	}
	u.seen[name] = line
	if len([]rune(note)) > 100 {
		u.probs = append(u.probs, Problem{Line: line, Msg: "“" + name + "”的联系人说明太长（最多 100 个字）"})
		return
	}
	u.add(name, cat, note, line)
}

// add adds the row's unit, unless a unit of that name exists: one of the
// same category is left as it is, a removed one or one of another category
// is a problem.
func (u *unitRows) add(name string, cat Category, note string, line int) {
	if old, ok := u.byName[name]; ok {
		oldCat, _ := u.c.Category(old.Category)
		switch {
		case old.Removed:
			u.probs = append(u.probs, Problem{Line: line, Msg: "单位“" + name + "”此前已删除（报告存档保留），不能重新导入同名单位；请换用其他名称"})
		case old.Category != cat.ID:
			u.probs = append(u.probs, Problem{Line: line, Msg: "单位“" + name + "”已存在，类别为“" + oldCat.Name + "”，与文件中的“" + cat.Name + "”不一致"})
		default:
			u.imp.Same = append(u.imp.Same, name)
		}
		return
	}
	u.imp.Add = append(u.imp.Add, Unit{Name: name, Category: cat.ID, Note: note})
}

// plainText reports whether data has no control characters besides tab and
// line breaks, nor replacement characters (a binary file or the wrong
// encoding).
func plainText(data []byte) bool {
	return !bytes.ContainsFunc(data, func(r rune) bool {
		return r == utf8.RuneError || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f
	})
}

// csvProblem turns a CSV syntax error into a problem on its line.
func csvProblem(err error, line int) Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		line = pe.StartLine
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			return Problem{Line: line, Msg: "引号不成对或位置不对（CSV 格式错误），请检查该行的英文双引号"}
		}
	}
	return Problem{Line: line, Msg: "无法读取该行（CSV 格式错误）"}
}

func isBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
