package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/term"
)

// terminalPrompter asks questions on the controlling terminal, one at a
// time, with echo off.
type terminalPrompter struct {
	mu sync.Mutex
}

func newTerminalPrompter() *terminalPrompter { return &terminalPrompter{} }

// Prompt asks question on /dev/tty and reads the answer without echo.
func (p *terminalPrompter) Prompt(ctx context.Context, question string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", errors.New("no terminal to ask for a password on; pass it another way (ansible_password, ansible_become_password) or run from a terminal")
	}
	defer tty.Close()
	fmt.Fprint(tty, question)
	answer, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return "", fmt.Errorf("read answer from terminal: %w", err)
	}
	return string(answer), nil
}
