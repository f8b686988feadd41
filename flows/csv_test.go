package flows

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestParseUnitsCSVSample(t *testing.T) {
	c := DefaultCampaign()
	data, err := os.ReadFile("testdata/units-lvliang.csv")
	if err != nil {
		t.Fatal(err)
	}
	imp, probs := ParseUnitsCSV(data, c, nil)
	if len(probs) > 0 {
		t.Fatalf("ParseUnitsCSV(units-lvliang.csv) problems: %v", probs)
	}
	if len(imp.Add) != 37 || len(imp.Same) != 0 {
		t.Fatalf("ParseUnitsCSV(units-lvliang.csv) adds %d, same %d; want 37, 0", len(imp.Add), len(imp.Same))
	}
	first, last := imp.Add[0], imp.Add[36]
	if first != (Unit{Name: "离石区双拥工作领导小组", Category: "county", Note: "区退役军人事务局"}) {
		t.Errorf("first unit = %+v", first)
	}
	if last != (Unit{Name: "驻吕某部", Category: "military", Note: "示例数据"}) {
		t.Errorf("last unit = %+v", last)
	}

	// Importing the same file again changes nothing.
	again, probs := ParseUnitsCSV(data, c, imp.Add)
	if len(probs) > 0 || len(again.Add) != 0 || len(again.Same) != 37 {
		t.Errorf("re-import: adds %d, same %d, problems %v; want 0, 37, none", len(again.Add), len(again.Same), probs)
	}
}

func TestParseUnitsCSV(t *testing.T) {
	c := DefaultCampaign()
	gbk, err := simplifiedchinese.GB18030.NewEncoder().String("名称,类别\n市教育局,市直单位\n")
	if err != nil {
		t.Fatal(err)
	}
	existing := []Unit{
		{ID: 1, Name: "市财政局", Category: "department"},
		{ID: 2, Name: "市民政局", Category: "department"},
		{ID: 3, Name: "旧单位", Category: "county", Removed: true},
	}
	tests := []struct {
		name  string
		data  string
		add   []string // names added
		same  int
		probs []string // each "第 n 行：…" prefix or message part, in order
	}{
		{name: "BOM and CRLF", data: "\ufeff名称,类别,联系人说明\r\n市教育局,市直单位,张科长\r\n团市委,团体,\r\n", add: []string{"市教育局", "团市委"}},
		{name: "columns in another order, spaces", data: "类别 , 单位名称\n 市直 , 市教育局 \n", add: []string{"市教育局"}},
		{name: "empty trailing column and blank lines", data: "名称,类别,\n市教育局,市直单位,\n\n,,\n", add: []string{"市教育局"}},
		{name: "GB18030 from Excel", data: gbk, add: []string{"市教育局"}},
		{name: "existing same category", data: "名称,类别\n市财政局,市直单位\n市教育局,市直单位\n", add: []string{"市教育局"}, same: 1},
		{name: "empty", data: "", probs: []string{"文件是空的"}},
		{name: "BOM only", data: "\ufeff\n", probs: []string{"文件是空的"}},
		{name: "header only", data: "名称,类别\n", probs: []string{"只有表头"}},
		{name: "no header", data: "市教育局,市直单位\n", probs: []string{"第 1 行：表头中的“市教育局”", "第 1 行：表头中的“市直单位”", "第 1 行：第一行应为表头"}},
		{name: "wrong columns", data: "\ufeff单位,电话\n市教育局,123\n", probs: []string{"第 1 行：表头中的“电话”", "第 1 行：第一行应为表头"}},
		{name: "duplicate column", data: "名称,类别,单位名称\n", probs: []string{"第 1 行：表头中的“单位名称”列重复"}},
		{name: "bad rows, all reported", data: "名称,类别\n市教育局,市直单位\n市公安局,机关\n市教育局,市直单位\n,市直单位\n甲,市直单位\n市卫健委\n市交通局,市直单位,多余\n市财政局,县市区\n旧单位,县市区\n市人社局，市直单位\n",
			probs: []string{
				"第 3 行：“市公安局”的类别“机关”不存在（可选：县市区 / 市直 / 团体 / 企业 / 部队）",
				"第 4 行：单位“市教育局”与第 2 行重复",
				"第 5 行：缺少单位名称",
				"第 6 行：“甲”：单位名称太短",
				"第 7 行：“市卫健委”缺少类别",
				"第 8 行：列数多于表头",
				"第 9 行：单位“市财政局”已存在，类别为“市直单位”",
				"第 10 行：单位“旧单位”此前已删除",
				"第 11 行：“市人社局，市直单位”：单位名称中不能包含逗号",
			}},
		{name: "quote error", data: "名称,类别\n市教育局,市直单位\n\"市公安局,市直单位\n", probs: []string{"第 3 行：引号不成对"}},
		{name: "bare quote", data: "名称,类别\n市\"教育\"局,市直单位\n", probs: []string{"第 2 行：引号不成对"}},
		{name: "binary", data: "\xff\xfe\x00\x01\x80\x81", probs: []string{"文件编码无法识别"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imp, probs := ParseUnitsCSV([]byte(tt.data), c, existing)
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
			}
			if len(got) != len(tt.probs) {
				t.Fatalf("ParseUnitsCSV(%q) problems:\n  %s\nwant %d:\n  %s", tt.data, strings.Join(got, "\n  "), len(tt.probs), strings.Join(tt.probs, "\n  "))
			}
			for i, want := range tt.probs {
				if !strings.Contains(got[i], want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], want)
				}
			}
			if len(probs) > 0 {
				if len(imp.Add) != 0 || len(imp.Same) != 0 {
					t.Errorf("ParseUnitsCSV(%q) has problems but returns units to add: %+v", tt.data, imp)
				}
				return
			}
			var names []string
			for _, u := range imp.Add {
				names = append(names, u.Name)
				if _, ok := c.Category(u.Category); !ok {
					t.Errorf("unit %s has category %q, not a campaign category id", u.Name, u.Category)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.add, ",") || len(imp.Same) != tt.same {
				t.Errorf("ParseUnitsCSV(%q) adds %v, same %d; want %v, %d", tt.data, names, len(imp.Same), tt.add, tt.same)
			}
		})
	}
}

func TestParseUnitsCSVNote(t *testing.T) {
	imp, probs := ParseUnitsCSV([]byte("名称,类别,联系人说明\n市教育局,市直单位,  办公室 王科长 \n"), DefaultCampaign(), nil)
	if len(probs) > 0 || len(imp.Add) != 1 || imp.Add[0].Note != "办公室 王科长" {
		t.Errorf("ParseUnitsCSV with a note = %+v, %v; want the note trimmed", imp, probs)
	}
}

func TestCheckUnitName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"市教育局", true},
		{"甲", false},
		{strings.Repeat("局", 51), false},
		{strings.Repeat("局", 50), true},
		{"市教育局,市直", false},
		{"市教育局\n", false},
	}
	for _, tt := range tests {
		if got := CheckUnitName(tt.name); (got == "") != tt.ok {
			t.Errorf("CheckUnitName(%q) = %q, want ok=%v", tt.name, got, tt.ok)
		}
	}
}
