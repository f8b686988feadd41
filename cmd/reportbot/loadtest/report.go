package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the results as a table.
func (r *Result) WriteTable(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "machine: %s, %d cores, %s, %s", m.CPU, m.Cores, m.OS, m.Go)
	if m.Redis != "" {
		fmt.Fprintf(w, ", redis %s", m.Redis)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tstore\tcontacts\topen\tkills\tsteps\tsteps/s\tp50 ms\tp95 ms\tp99 ms\tCPU µs/step\tallocs/step\tRedis cmds/step\tround trips/step\tdraft bytes\tpeak RSS MB\t")
	for _, p := range r.Phases {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.0f\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			p.Name, p.Store, p.Contacts, p.Open, p.Kills, p.Steps, p.StepsPerSec, p.P50ms, p.P95ms, p.P99ms,
			orDash(p.CPUPerStepUS, "%.0f"), orDash(p.AllocsPerStep, "%.0f"), orDash(p.RedisCmdsPerStep, "%.2f"),
			orDash(p.RedisRTPerStep, "%.2f"), orDash(float64(p.DraftBytesP50), "%.0f"), orDash(p.PeakRSSMB, "%.1f"))
	}
	tw.Flush()
	for _, p := range r.Phases {
		if p.Nudges > 0 {
			fmt.Fprintf(w, "%s: contacts sent /report %d times after a silence\n", p.Name, p.Nudges)
		}
		if len(p.RedisCommands) > 0 {
			fmt.Fprintf(w, "%s: Redis commands per step: %s\n", p.Name, perStep(p.RedisCommands, p.Steps))
		}
		if len(p.RedisClientCmds) > 0 {
			fmt.Fprintf(w, "%s: of which sent by clients (round trips): %s\n", p.Name, perStep(p.RedisClientCmds, p.Steps))
		}
		if p.DraftBytesMax > 0 {
			fmt.Fprintf(w, "%s: stored draft at submission: median %d bytes, largest %d", p.Name, p.DraftBytesP50, p.DraftBytesMax)
			if p.DraftMemoryP50 > 0 {
				fmt.Fprintf(w, " (Redis MEMORY USAGE of the key: median %d bytes)", p.DraftMemoryP50)
			}
			fmt.Fprintln(w)
		}
		if p.PeakRSSMB > 0 {
			fmt.Fprintf(w, "%s: peak RSS %.1f MB, of which anonymous (heap, stacks; sampled) at most %.1f MB\n", p.Name, p.PeakRSSMB, p.PeakAnonMB)
		}
		if p.ScrapeRSSMB > p.PeakRSSMB+1 {
			fmt.Fprintf(w, "%s: peak RSS %.1f MB after one /metrics scrape (reportbot_open_drafts reads every draft)\n", p.Name, p.ScrapeRSSMB)
		}
		if p.Name == "telegram limits" {
			fmt.Fprintf(w, "%s: %d sends in %.1f s of the form, sustained %.1f/s (the bot's limit %.0f/s, Telegram's about 30/s); 429 answers: %d; binding took %.1f s\n",
				p.Name, p.Sends, p.Seconds, p.SendRate, p.SendLimit, p.TooManyRequests, p.BindSeconds)
		} else {
			fmt.Fprintf(w, "%s: %d of %d contacts submitted; binding took %.1f s\n", p.Name, p.Submitted, p.Contacts, p.BindSeconds)
		}
	}
	for _, s := range r.Problems {
		fmt.Fprintln(w, "  "+s)
	}
	fmt.Fprintf(w, "lost %d, doubled %d\n", r.Lost, r.Doubled)
}

func orDash(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// perStep lists commands by name with their count per step, largest first.
func perStep(m map[string]int64, steps int64) string {
	names := slices.Collect(maps.Keys(m))
	slices.SortFunc(names, func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.2f", n, float64(m[n])/float64(max(steps, 1))))
	}
	return strings.Join(parts, ", ")
}

// WriteJSON writes the results as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
