package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoCommand runs `reportbot demo` through run, with serve running
// the bot (package demo's own tests use a stand-in): a bad flag is
// reported, the page serves, a busy port is reported, and the demo stops
// cleanly, removing its temporary folder.
func TestDemoCommand(t *testing.T) {
	noenv := func(string) string { return "" }
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"demo", "-nope"}, noenv, &out, &errb); err == nil {
		t.Errorf("demo -nope succeeded")
	}
	if !strings.Contains(errb.String(), "usage: reportbot demo") {
		t.Errorf("demo -nope said %q", errb.String())
	}

	stdout, logs := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"demo", "-addr", "127.0.0.1:0"}, noenv, stdout, logs) }()
	started := regexp.MustCompile(`演示已启动：(http://\S+)`)
	var url string
	for wait := time.Now().Add(60 * time.Second); url == ""; time.Sleep(50 * time.Millisecond) {
		if m := started.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("reportbot demo returned early: %v\nstdout:\n%s\nlogs:\n%s", err, stdout, logs)
		default:
		}
		if time.Now().After(wait) {
			t.Fatalf("the demo did not start; logs:\n%s", logs)
		}
	}
	if page, err := http.Get(url + "/"); err != nil {
		t.Errorf("GET %s/: %v", url, err)
	} else {
		page.Body.Close()
		if page.StatusCode != http.StatusOK {
			t.Errorf("GET %s/ = %s", url, page.Status)
		}
	}

	err := run(context.Background(), []string{"demo", "-addr", strings.TrimPrefix(url, "http://")}, noenv, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "-addr") {
		t.Errorf("demo on a busy port: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("reportbot demo returned %v; logs:\n%s", err, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the demo did not stop in time")
	}
	dir := regexp.MustCompile(`数据目录：(\S+)（退出时删除`).FindStringSubmatch(stdout.String())
	if dir == nil {
		t.Errorf("stdout lacks the temporary folder:\n%s", stdout)
	} else if _, err := os.Stat(dir[1]); !os.IsNotExist(err) {
		t.Errorf("the demo's temporary folder %s is still there (%v)", dir[1], err)
	}
	if !strings.Contains(stdout.String(), "演示已停止") {
		t.Errorf("stdout lacks the goodbye:\n%s", stdout)
	}
}
