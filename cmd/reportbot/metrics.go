package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"reportbot/bot"
	"reportbot/flows"
)

// metrics are the process's Prometheus metrics, on their own registry.
type metrics struct {
	reg         *prometheus.Registry
	updates     *prometheus.CounterVec
	latency     prometheus.Histogram
	sent        prometheus.Counter
	throttled   prometheus.Counter
	retries     prometheus.Counter
	reminders   prometheus.Counter
	storeErrors prometheus.Counter
	dropped     prometheus.Counter
	active      prometheus.Gauge
	panics      *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reportbot_updates_total", Help: "Updates handled, by kind and outcome.",
		}, []string{"kind", "outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "reportbot_update_duration_seconds", Help: "Time to handle one update, sends included.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		sent:        prometheus.NewCounter(prometheus.CounterOpts{Name: "reportbot_messages_sent_total", Help: "Bot API calls that succeeded."}),
		throttled:   prometheus.NewCounter(prometheus.CounterOpts{Name: "reportbot_telegram_429_total", Help: "429 Too Many Requests answers from Telegram."}),
		retries:     prometheus.NewCounter(prometheus.CounterOpts{Name: "reportbot_send_retries_total", Help: "Bot API calls retried."}),
		reminders:   prometheus.NewCounter(prometheus.CounterOpts{Name: "reportbot_reminders_sent_total", Help: "Reminders sent to contacts."}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "reportbot_store_errors_total", Help: "Updates that failed because the store failed."}),
		dropped:     prometheus.NewCounter(prometheus.CounterOpts{Name: "reportbot_best_effort_dropped_total", Help: "Best-effort replies (strangers, foreign groups) not sent: over the limits."}),
		active:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "reportbot_active", Help: "1 while this process holds the lease: it polls (polling mode) and sends."}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reportbot_panics_total", Help: "Panics recovered, by where: update (a handler), or the scheduler's reminders, digest, catch_up, round, round_worker, remind_unit, admin_round, digest_post.",
		}, []string{"where"}),
	}
	m.reg.MustRegister(m.updates, m.latency, m.sent, m.throttled, m.retries, m.reminders, m.storeErrors, m.dropped, m.active, m.panics,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) botHooks() bot.Hooks {
	return bot.Hooks{
		Update: func(kind, outcome string, d time.Duration) {
			m.updates.WithLabelValues(kind, outcome).Inc()
			m.latency.Observe(d.Seconds())
			switch outcome {
			case "error":
				m.storeErrors.Inc()
			case "panic":
				m.panics.WithLabelValues("update").Inc()
			}
		},
		Sent:      m.sent.Inc,
		Throttled: m.throttled.Inc,
		Retried:   m.retries.Inc,
		Dropped:   m.dropped.Inc,
		Panic:     m.panicHook,
	}
}

// panicHook counts a panic the scheduler recovered (remind.Options.OnPanic).
func (m *metrics) panicHook(where string) { m.panics.WithLabelValues(where).Inc() }

// watchOutbox registers reportbot_outbox_unsettled: b's stored messages
// whose call has begun and whose delivery is not yet acknowledged to the
// store — those a crash now could send twice. Normally 0 between calls;
// a value that stays up means the store acknowledges slowly.
func (m *metrics) watchOutbox(b *bot.Bot) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "reportbot_outbox_unsettled",
		Help: "Messages being sent or sent and not yet acknowledged to the store (a crash now could send them twice).",
	}, func() float64 { return float64(b.Outbox().Unsettled()) }))
}

// openDraftsEvery bounds how often /metrics counts the open drafts: the
// count reads every draft of the store (10,000 units: ~12 MB for a
// moment), and a scrape every 15 s must not do that each time.
const openDraftsEvery = time.Minute

// handler serves /metrics; open drafts (of the open campaign) are counted
// from the store at most once a minute.
func (m *metrics) handler(svc *flows.Service) http.Handler {
	store := svc.Store
	var (
		mu   sync.Mutex
		last time.Time
		n    float64
	)
	open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "reportbot_open_drafts", Help: "Units with a draft that is started and not submitted (counted at most once a minute).",
	}, func() float64 {
		mu.Lock()
		defer mu.Unlock()
		if !last.IsZero() && time.Since(last) < openDraftsEvery {
			return n
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ds, err := store.Drafts(ctx, svc.Campaign().Key)
		if err != nil {
			return -1
		}
		n = 0
		for _, d := range ds {
			if d.Status == flows.StatusFilling || d.Status == flows.StatusRevising || d.Status == flows.StatusReturned {
				n++
			}
		}
		last = time.Now()
		return n
	})
	m.reg.MustRegister(open)
	if rt, ok := store.(interface{ RoundTrips() int64 }); ok {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "reportbot_redis_round_trips_total", Help: "Commands and pipelines sent to Redis (a pipeline counts once).",
		}, func() float64 { return float64(rt.RoundTrips()) }))
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
