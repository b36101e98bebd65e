package connection_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps connection a leaf: it imports no other drover package.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/drover/drover/") && pkg != "github.com/drover/drover/connection" {
			t.Errorf("connection imports %s; it must import no other drover package", pkg)
		}
	}
}
