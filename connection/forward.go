package connection

import (
	"errors"
	"io"
	"sync"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/ssh"
)

// forwardChannel opens a channel like nch on up and joins the two: data,
// stderr, EOF and requests (exec, subsystem, exit-status, signals…) pass
// both ways, in order, and each side closes when the other has.
func forwardChannel(nch ssh.NewChannel, up ssh.Conn, log logrus.FieldLogger) {
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
	var asking sync.Mutex // held while a request of the run waits for its reply
	go func() {
		forwardRequests(reqs, uch, &asking, log)
		uch.Close() // the run closed its end
	}()
	upstreamDone := make(chan struct{})
	go func() {
		forwardRequests(ureqs, ch, nil, log)
		close(upstreamDone)
	}()
	output.Wait()
	ch.CloseWrite()
	<-upstreamDone
	// A quick command's channel can close upstream before the run has the
	// reply to its exec: the reply goes first, or the run reads EOF.
	asking.Lock()
	ch.Close()
	asking.Unlock()
}

// forwardRequests passes channel requests on, with their replies; busy,
// when set, is held from a request's arrival to its reply.
func forwardRequests(in <-chan *ssh.Request, out ssh.Channel, busy *sync.Mutex, log logrus.FieldLogger) {
	for req := range in {
		if busy != nil {
			busy.Lock()
		}
		ok, err := out.SendRequest(req.Type, req.WantReply, req.Payload)
		if err != nil {
			log.WithError(err).WithField("request", req.Type).Debug("forward a channel request")
		}
		if req.WantReply {
			req.Reply(ok && err == nil, nil)
		}
		if busy != nil {
			busy.Unlock()
		}
	}
}
