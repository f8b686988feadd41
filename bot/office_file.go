package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// errTooBig: a downloaded file is larger than the caller allows.
var errTooBig = errors.New("file too big")

// download fetches a file a user sent (getFile, then the file URL). The
// URL carries the bot token: it never enters an error or a log line.
func (b *Bot) download(ctx context.Context, fileID string, limit int64) ([]byte, error) {
	var f struct {
		FilePath string `json:"file_path"`
		FileSize int64  `json:"file_size"`
	}
	if err := b.call(ctx, "getFile", map[string]any{"file_id": fileID}, &f); err != nil {
		return nil, fmt.Errorf("download file: %w", err)
	}
	if f.FileSize > limit {
		return nil, errTooBig
	}
	if f.FilePath == "" {
		return nil, errors.New("download file: getFile gave no file path")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.cfg.APIURL+"/file/bot"+b.cfg.Token+"/"+f.FilePath, nil)
	if err != nil {
		return nil, fmt.Errorf("download file: %w", b.redact(err))
	}
	resp, err := b.httpc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download file: %w", b.redact(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download file: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("download file: %w", b.redact(err))
	}
	if int64(len(data)) > limit {
		return nil, errTooBig
	}
	return data, nil
}
