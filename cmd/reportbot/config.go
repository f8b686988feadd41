package main

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"reportbot/bot"
)

// config is everything read from the environment.
type config struct {
	Token         string
	APIURL        string
	AdminIDs      []int64
	RedisURL      string
	DataDir       string
	CampaignFile  string
	HTTPAddr      string
	WebhookURL    string
	WebhookSecret string
	LogFormat     string
	LogLevel      string
	Limits        bot.Limits
	OutageRetry   time.Duration // how long an update waits for an unreachable store
}

// configProblems lists every problem of the environment at once.
type configProblems []string

func (p configProblems) Error() string {
	return "configuration problems:\n  - " + strings.Join(p, "\n  - ")
}

// loadConfig reads the environment. It returns every problem it finds, not
// just the first.
func loadConfig(getenv func(string) string) (config, error) {
	c := readConfig(getenv)
	var probs configProblems
	probs = append(probs, c.checkTelegram()...)
	ids, idProbs := parseAdminIDs(getenv("ADMIN_IDS"))
	c.AdminIDs, probs = ids, append(probs, idProbs...)
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	c.DataDir = filepath.Clean(c.DataDir)
	if c.HTTPAddr == "" {
		c.HTTPAddr = ":8080"
	}
	probs = append(probs, c.checkWebhook()...)
	probs = append(probs, c.checkLogging()...)
	probs = append(probs, c.readLimits(getenv)...)
	probs = append(probs, c.readOutageRetry(getenv)...)
	if len(probs) > 0 {
		return c, probs
	}
	return c, nil
}

// readConfig reads the plain settings, with the defaults of the limits
// and the outage retry.
func readConfig(getenv func(string) string) config {
	return config{
		Token:         strings.TrimSpace(getenv("TELEGRAM_BOT_TOKEN")),
		APIURL:        strings.TrimSpace(getenv("TELEGRAM_API_URL")),
		RedisURL:      strings.TrimSpace(getenv("REDIS_URL")),
		DataDir:       strings.TrimSpace(getenv("DATA_DIR")),
		CampaignFile:  strings.TrimSpace(getenv("CAMPAIGN_FILE")),
		HTTPAddr:      strings.TrimSpace(getenv("HTTP_ADDR")),
		WebhookURL:    strings.TrimSpace(getenv("WEBHOOK_URL")),
		WebhookSecret: getenv("WEBHOOK_SECRET"),
		LogFormat:     strings.TrimSpace(getenv("LOG_FORMAT")),
		LogLevel:      strings.TrimSpace(getenv("LOG_LEVEL")),
		Limits:        bot.DefaultLimits(),
		OutageRetry:   10 * time.Minute,
	}
}

// checkTelegram checks the bot token and the Bot API's URL (default
// bot.DefaultAPIURL).
func (c *config) checkTelegram() configProblems {
	var probs configProblems
	if c.Token == "" {
		probs = append(probs, "TELEGRAM_BOT_TOKEN is required (get one from @BotFather)")
	} else if !strings.Contains(c.Token, ":") {
		probs = append(probs, "TELEGRAM_BOT_TOKEN does not look like a bot token (expected 123456:ABC…)")
	}
	if c.APIURL == "" {
		c.APIURL = bot.DefaultAPIURL
	} else if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		probs = append(probs, fmt.Sprintf("TELEGRAM_API_URL %q is not an http(s) URL", c.APIURL))
	}
	return probs
}

// parseAdminIDs reads ADMIN_IDS, a comma-separated list of user ids.
func parseAdminIDs(v string) ([]int64, configProblems) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	var ids []int64
	var probs configProblems
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			probs = append(probs, fmt.Sprintf("ADMIN_IDS: %q is not a numeric Telegram user id", f))
			continue
		}
		ids = append(ids, id)
	}
	return ids, probs
}

// checkWebhook checks WEBHOOK_URL and WEBHOOK_SECRET.
func (c *config) checkWebhook() configProblems {
	var probs configProblems
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			probs = append(probs, fmt.Sprintf("WEBHOOK_URL %q must be an https URL", c.WebhookURL))
		}
		if c.WebhookSecret == "" {
			probs = append(probs, "WEBHOOK_SECRET is required with WEBHOOK_URL (1–256 characters of A-Z a-z 0-9 _ -)")
		}
	}
	if c.WebhookSecret != "" && !validSecret(c.WebhookSecret) {
		probs = append(probs, "WEBHOOK_SECRET must be 1–256 characters of A-Z a-z 0-9 _ -")
	}
	return probs
}

// checkLogging checks LOG_FORMAT and LOG_LEVEL.
func (c *config) checkLogging() configProblems {
	var probs configProblems
	switch c.LogFormat {
	case "", "text", "json":
	default:
		probs = append(probs, fmt.Sprintf("LOG_FORMAT %q: use text or json", c.LogFormat))
	}
	switch strings.ToLower(c.LogLevel) {
	case "", "debug", "info", "warn", "error":
	default:
		probs = append(probs, fmt.Sprintf("LOG_LEVEL %q: use debug, info, warn or error", c.LogLevel))
	}
	return probs
}

// readLimits reads the SEND_RATE_* limits over the defaults.
func (c *config) readLimits(getenv func(string) string) configProblems {
	var probs configProblems
	for _, l := range []struct {
		name string
		dst  *float64
	}{
		{"SEND_RATE_GLOBAL", &c.Limits.Global},
		{"SEND_RATE_PER_CHAT", &c.Limits.PerChat},
		{"SEND_RATE_PER_GROUP_MINUTE", &c.Limits.PerGroupMinute},
	} {
		v := strings.TrimSpace(getenv(l.name))
		if v == "" {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			probs = append(probs, fmt.Sprintf("%s %q: a number ≥ 0 (0 turns the limit off)", l.name, v))
			continue
		}
		*l.dst = f
	}
	return probs
}

// readOutageRetry reads STORE_OUTAGE_RETRY over the default.
func (c *config) readOutageRetry(getenv func(string) string) configProblems {
	v := strings.TrimSpace(getenv("STORE_OUTAGE_RETRY"))
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > 23*time.Hour {
		return configProblems{fmt.Sprintf("STORE_OUTAGE_RETRY %q: a duration from 1s to 23h, e.g. 10m (Telegram keeps updates 24 hours)", v)}
	}
	c.OutageRetry = d
	return nil
}

func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// webhookPath is the path our webhook handler listens on: the path of
// WEBHOOK_URL, or /telegram/webhook.
func (c config) webhookPath() string {
	u, err := url.Parse(c.WebhookURL)
	if err != nil || u.Path == "" || u.Path == "/" {
		return "/telegram/webhook"
	}
	return u.Path
}
