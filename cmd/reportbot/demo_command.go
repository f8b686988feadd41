package main

import (
	"context"
	"errors"
	"io"

	"reportbot/cmd/reportbot/demo"
)

// runDemo is `reportbot demo`: package demo, with serve running the bot.
func runDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := demo.Run(ctx, args, getenv, stdout, stderr, serveDemo)
	if errors.Is(err, demo.ErrReported) {
		return errReported
	}
	return err
}

// serveDemo is serve as the demo calls it, with its hooks.
func serveDemo(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, hooks demo.Hooks) error {
	return serve(ctx, getenv, stdout, stderr, &serveHooks{now: hooks.Now, started: hooks.Started})
}
