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
	if r.Rush != nil {
		r.Rush.write(w)
	}
	if len(r.Phases) > 0 {
		r.writePhases(w)
	}
	for _, s := range r.Problems {
		fmt.Fprintln(w, "  "+s)
	}
	fmt.Fprintf(w, "lost %d, doubled %d\n", r.Lost, r.Doubled)
	if r.Rush != nil {
		fmt.Fprintf(w, "missing %d, posted twice %d, 429s %d\n", r.Rush.Missing, r.Rush.Twice, r.Rush.TooManyRequests)
	}
}

// writePhases prints the engine run and the run under Telegram's limits.
func (r *Result) writePhases(w io.Writer) {
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
}

// write prints a rush.
func (r *RushResult) write(w io.Writer) {
	fmt.Fprintf(w, "rush: %d units pressed 确认提交 within %.2f s (store %s, kills %d); %d submitted; preparation took %.1f s; the rush %.1f s\n",
		r.Units, r.PressSeconds, r.Store, r.Kills, r.Submitted, r.PrepSeconds, r.Seconds)
	for i, s := range r.SettleWaits {
		fmt.Fprintf(w, "kill %d waited %.2f s for the bot to acknowledge what it had sent (-kill-settled)\n", i+1, s)
	}
	summary := "not reached"
	if r.BystanderDone {
		summary = "reached"
	}
	fmt.Fprintf(w, "bystander: %d answers (summary %s), wait for the next question p50 %.0f ms, p99 %.0f ms, max %.0f ms (target p99 ≤ %.0f ms: %s)\n",
		r.BystanderAnswers, summary, r.BystanderP50ms, r.BystanderP99ms, r.BystanderMaxms, r.TargetBystanderP99ms, met(r.BystanderP99ms <= r.TargetBystanderP99ms))
	fmt.Fprintf(w, "office group: %d of %d receipts posted; lag from the press p50 %.1f s, max %.1f s (target ≤ %.0f s: %s)\n",
		r.Posted, r.Units, r.GroupLagP50s, r.GroupLagMaxs, r.TargetGroupLagMaxs, met(r.Missing == 0 && r.GroupLagMaxs <= r.TargetGroupLagMaxs))
	fmt.Fprintf(w, "office group: %d text messages (%d merged), %d albums (%d documents), %d files alone\n",
		r.GroupTexts, r.GroupMerged, r.GroupAlbums, r.GroupAlbumItems, r.GroupFiles)
	if len(r.MissingReceipts) > 0 {
		fmt.Fprintf(w, "  missing from the office group: %s\n", few(r.MissingReceipts))
	}
	if len(r.TwiceReceipts) > 0 {
		var twice []string
		for _, rc := range slices.Sorted(maps.Keys(r.TwiceReceipts)) {
			twice = append(twice, fmt.Sprintf("%s ×%d", rc, r.TwiceReceipts[rc]))
		}
		fmt.Fprintf(w, "  posted more than once: %s\n", few(twice))
	}
	docs := "not waited for"
	if r.DocsWaited {
		docs = "waited for"
	}
	fmt.Fprintf(w, "office group: %d of %d documents posted (%s), %d posted more than once\n", r.DocsPosted, r.Units, docs, r.DocsTwice)
	fmt.Fprintf(w, "contacts: %d of %d told their receipt; press to receipt p50 %.1f s, max %.1f s\n", r.Told, r.Units, r.ToldP50s, r.ToldMaxs)
	fmt.Fprintf(w, "stranger: %d messages sent, %d answered\n", r.StrangerSent, r.StrangerReplies)
	fmt.Fprintf(w, "telegram: %d sends from the first press on (office group: %d, at most %d in a minute); 429 answers: %d\n",
		r.Sends, len(r.GroupSendTimes), r.GroupMostInMinute, r.TooManyRequests)
	for _, s := range r.Problems {
		fmt.Fprintln(w, "  "+s)
	}
}

// few joins the first items of a list, saying how many more there are.
func few(xs []string) string {
	const shown = 12
	if len(xs) <= shown {
		return strings.Join(xs, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(xs[:shown], ", "), len(xs)-shown)
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
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
