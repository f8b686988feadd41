package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"reportbot/bot"
	"reportbot/flows"
)

// Placeholders until the scheduler, the demo and the load tool land.

type scheduler struct{}

func newScheduler(svc *flows.Service, b *bot.Bot, logger *slog.Logger, now func() time.Time, m *metrics) *scheduler {
	return &scheduler{}
}
func (s *scheduler) Start(ctx context.Context) {}
func (s *scheduler) Stop()                     {}

func demo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("demo: not built yet")
}

func loadtest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("loadtest: not built yet")
}
