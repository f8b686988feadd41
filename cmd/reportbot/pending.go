package main

import (
	"context"
	"errors"
	"io"
)

// Placeholders until the demo and the load tool land.

func demo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("demo: not built yet")
}

func loadtest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("loadtest: not built yet")
}
