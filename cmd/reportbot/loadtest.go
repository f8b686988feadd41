package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	lt "reportbot/cmd/reportbot/loadtest"
)

// loadtest is `reportbot loadtest`: the bot as a child process against the
// fake Bot API and a real store, simulated contacts, measurements, and with
// -faults kill -9 of the bot throughout (see BENCHMARKS.md).
func loadtest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: reportbot loadtest [flags]\n\nRuns the bot as a child process against a fake Telegram and a real store,\nwith simulated unit contacts who fill the default form, and reports what a\nform step costs. Redis: REDIS_URL (an empty database), or a private\nredis-server. Exits non-zero if an answer was lost or doubled, or Telegram\nanswered 429.\n\nWith -rush N it runs the deadline evening instead: N units press 确认提交\nwithin a second, under Telegram's limits, while a bystander fills the form\nand a stranger floods the bot; it also exits non-zero if a receipt is\nmissing from the office group or posted there twice.\n\n")
		fs.PrintDefaults()
	}
	cfg := lt.Config{Progress: stderr, RedisURL: getenv("REDIS_URL")}
	fs.IntVar(&cfg.Contacts, "contacts", 200, "simulated contacts who fill the whole form and submit")
	fs.IntVar(&cfg.Open, "open", 0, "more contacts who answer two questions and leave their drafts open")
	fs.StringVar(&cfg.Store, "store", "bolt", "bolt (embedded) or redis")
	fs.DurationVar(&cfg.Think, "think", 0, "pause before every answer")
	fs.BoolVar(&cfg.Faults, "faults", false, "kill -9 the bot every -kill-every (± half) and restart it")
	fs.DurationVar(&cfg.KillEvery, "kill-every", 3*time.Second, "time between kills with -faults")
	fs.IntVar(&cfg.MaxKills, "max-kills", 0, "with -faults, kill at most this many times (0: no limit)")
	fs.IntVar(&cfg.Rush, "rush", 0, "run the deadline-evening rush of this many units instead (-contacts, -open, -think, -limited do not apply; -faults kills while the office group's backlog is sent)")
	fs.DurationVar(&cfg.RushAfter, "rush-after", 0, "with -rush, how long the restarted bot runs before the presses (over 1m: its limiter has forgotten the restart)")
	fs.BoolVar(&cfg.RushDocs, "rush-docs", false, "with -rush, also wait until every report's document is in the office group (minutes: albums count 1 message per document)")
	fs.DurationVar(&cfg.KillAfterPost, "kill-after-post", 0, "with -rush -faults, kill this long after each text message reaches the office group instead of at random")
	fs.BoolVar(&cfg.KillSettled, "kill-settled", false, "with -kill-after-post, also wait until the bot has acknowledged to the store every message it sent (its reportbot_outbox_unsettled is 0): a kill outside the window in which a repeat is possible")
	fs.DurationVar(&cfg.Limited, "limited", 10*time.Second, "length of the second run, under Telegram's limits (0 skips it)")
	fs.BoolVar(&cfg.Monitor, "monitor", true, "count the commands clients send to Redis with MONITOR (round trips)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the answers and the kill times")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Minute, "give up a run after this long")
	fs.StringVar(&cfg.Dir, "dir", "", "work directory (default: a temporary one, kept if the run fails)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "the bot's LOG_LEVEL (its log goes to bot.log in the work directory)")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file (- for standard output)")
	if err := fs.Parse(args); err != nil {
		return errReported
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errReported
	}
	res, err := lt.Run(ctx, cfg)
	if res != nil {
		table := stdout
		if *jsonOut == "-" {
			table = stderr // standard output is the JSON
		}
		res.WriteTable(table)
		if *jsonOut != "" {
			if werr := writeJSON(*jsonOut, res, stdout); werr != nil && err == nil {
				err = werr
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return errReported
	}
	return nil
}

func writeJSON(path string, res *lt.Result, stdout io.Writer) error {
	if path == "-" {
		return res.WriteJSON(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := res.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
