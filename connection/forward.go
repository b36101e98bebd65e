package connection

import (
	"errors"
	"io"
	"sync"

	"golang.org/x/crypto/ssh"
)

// forwardChannel opens a channel like nch on up and joins the two: data,
// stderr, EOF and requests (exec, subsystem, exit-status, signals…) pass
// both ways, in order, and each side closes when the other has.
func forwardChannel(nch ssh.NewChannel, up ssh.Conn) {
	uch, ureqs, err := up.OpenChannel(nch.ChannelType(), nch.ExtraData())
	if err != nil {
		var refused *ssh.OpenChannelError
		if errors.As(err, &refused) {
			nch.Reject(refused.Reason, refused.Message)
		} else {
			nch.Reject(ssh.ConnectionFailed, err.Error())
		}
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		uch.Close()
		return
	}
	var output sync.WaitGroup // upstream to run: all of it before EOF and close
	output.Go(func() { io.Copy(ch, uch) })
	output.Go(func() { io.Copy(ch.Stderr(), uch.Stderr()) })
	go func() {
		io.Copy(uch, ch)
		uch.CloseWrite()
	}()
	go func() {
		forwardRequests(reqs, uch)
		uch.Close() // the run closed its end
	}()
	upstreamDone := make(chan struct{})
	go func() {
		forwardRequests(ureqs, ch)
		close(upstreamDone)
	}()
	output.Wait()
	ch.CloseWrite()
	<-upstreamDone
	ch.Close()
}

// forwardRequests passes channel requests on, with their replies.
func forwardRequests(in <-chan *ssh.Request, out ssh.Channel) {
	for req := range in {
		ok, err := out.SendRequest(req.Type, req.WantReply, req.Payload)
		if req.WantReply {
			req.Reply(ok && err == nil, nil)
		}
	}
}
