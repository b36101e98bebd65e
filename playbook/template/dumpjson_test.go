package template

import (
	"testing"

	"github.com/drover/drover/playbook/value"
)

func TestDumpJSON(t *testing.T) {
	d := value.NewDict(2)
	d.Set("b", int64(2))
	d.Set("a", []any{int64(1), 2.0, "é\n\"", nil, true, value.Unsafe("u")})
	want := `{"b": 2, "a": [1, 2.0, "\u00e9\n\"", null, true, "u"]}`
	if got := DumpJSON(d); got != want {
		t.Errorf("DumpJSON = %s, want %s", got, want)
	}
	if got := DumpJSON(map[string]any{"z": "😀", "y": []any{}}); got != `{"y": [], "z": "\ud83d\ude00"}` {
		t.Errorf("DumpJSON of a map = %s", got)
	}
}
