package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/drover/drover/connection"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
)

// persistDaemonCommand is the hidden command a run starts to keep its
// connections (connection.Persist).
const persistDaemonCommand = "persist-daemon"

func newPersistDaemonCommand() *cobra.Command {
	return &cobra.Command{
		Use:    persistDaemonCommand + " DIR",
		Short:  "Hold SSH connections between runs (started by drover itself)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The daemon moves bytes between sockets, a goroutine handing
			// each chunk to the next: on one P the handoffs stay on one
			// thread, where two wake a second thread for each and it spins
			// for more, which took the daemon half again its CPU.
			if os.Getenv("GOMAXPROCS") == "" {
				runtime.GOMAXPROCS(1)
			}
			dir := args[0]
			log := logrus.New()
			log.SetLevel(logrus.InfoLevel)
			log.SetOutput(os.Stderr)
			if f, err := os.OpenFile(filepath.Join(dir, "persist.log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err == nil {
				defer f.Close()
				log.SetOutput(f)
			}
			return connection.ServePersist(cmd.Context(), dir, log)
		},
	}
}

// defaultPersist is --persist's default: $DROVER_PERSIST, else Ansible's
// ControlPersist=60s.
func defaultPersist() string {
	if v := os.Getenv("DROVER_PERSIST"); v != "" {
		return v
	}
	return "60s"
}

// startPersistDaemon starts this executable's persist-daemon on dir, in a
// session of its own so that it outlives the run and no terminal signal
// reaches it.
func startPersistDaemon(dir string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, persistDaemonCommand, dir)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s %s: %w", exe, persistDaemonCommand, err)
	}
	go cmd.Wait() // reaps it should it end while this run goes on
	return nil
}
