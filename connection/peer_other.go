//go:build !linux

package connection

import (
	"errors"
	"net"
)

// checkPeer refuses every peer where drover cannot read a Unix socket's
// peer credentials: connections then never persist.
func checkPeer(net.Conn) error {
	return errors.New("checking a unix socket's peer is only implemented on Linux")
}
