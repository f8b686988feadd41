package bot

import (
	"context"
	"errors"
	"fmt"

	"reportbot/bot/telegram"
)

// errTooBig: a downloaded file is larger than the caller allows.
var errTooBig = telegram.ErrTooBig

// download fetches a file a user sent (getFile, then the file URL). The
// URL carries the bot token: it never enters an error or a log line.
func (b *Bot) download(ctx context.Context, fileID string, limit int64) ([]byte, error) {
	data, err := b.tg.Download(ctx, fileID, limit)
	if errors.Is(err, telegram.ErrTooBig) {
		return nil, errTooBig
	}
	if err != nil {
		return nil, fmt.Errorf("download file: %w", err)
	}
	return data, nil
}
