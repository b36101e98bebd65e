package source

import (
	"errors"
	"testing"
)

func TestError(t *testing.T) {
	e := Errorf(Pos{File: "hosts", Line: 3, Col: 7}, "bad range %q", "[a:")
	if got := e.Error(); got != `hosts:3:7: bad range "[a:"` {
		t.Errorf("got %q", got)
	}
	cause := errors.New("boom")
	e = &Error{Pos: Pos{File: "f", Line: 2}, Msg: "load", Err: cause}
	if !errors.Is(e, cause) || e.Error() != "f:2: load: boom" {
		t.Errorf("got %q", e.Error())
	}
}
