package bot

import (
	"bytes"
	"context"
	"errors"
	"strings"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"reportbot/flows"
)

// inlineKeyboard is a message's reply_markup, encoded by appendKeyboard
// (api.go).
type inlineKeyboard struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

func keyboard(rows [][]flows.Button) *inlineKeyboard {
	if len(rows) == 0 {
		return nil
	}
	kb := &inlineKeyboard{InlineKeyboard: make([][]inlineButton, 0, len(rows))}
	for _, row := range rows {
		r := make([]inlineButton, 0, len(row))
		for _, btn := range row {
			r = append(r, inlineButton{Text: btn.Text, CallbackData: btn.Data})
		}
		kb.InlineKeyboard = append(kb.InlineKeyboard, r)
	}
	return kb
}

// emptyKeyboard removes a message's buttons.
var emptyKeyboard = &inlineKeyboard{InlineKeyboard: [][]inlineButton{}}

// sendReplies sends the engine's replies. When they answer a pressed button
// (pressed != 0), the pressed message is edited: replaced by an Edit reply,
// or stripped of its buttons so that they cannot be pressed twice.
func (b *Bot) sendReplies(ctx context.Context, chatID int64, pressed int, rs []flows.Reply) {
	edited := false
	for _, r := range rs {
		if r.Edit && pressed != 0 && !edited {
			edited = b.editMessage(ctx, chatID, pressed, r) == nil
			if edited {
				continue
			}
		}
		if pressed != 0 && !edited {
			b.removeKeyboard(ctx, chatID, pressed)
			edited = true
		}
		b.send(ctx, chatID, r)
	}
	if pressed != 0 && !edited {
		b.removeKeyboard(ctx, chatID, pressed)
	}
}

// send sends one reply as a new message (split at line breaks if it is too
// long; the buttons go with the last part).
func (b *Bot) send(ctx context.Context, chatID int64, r flows.Reply) error {
	err := b.sender.SendText(ctx, chatID, r.Text, func(ctx context.Context, part string, last bool) error {
		var kb *inlineKeyboard
		if last {
			kb = keyboard(r.Buttons)
		}
		_, err := b.apiSendMessage(ctx, chatID, part, kb)
		return err
	})
	return b.sendFailed(ctx, chatID, err)
}

// sendText sends a plain text message.
func (b *Bot) sendText(ctx context.Context, chatID int64, text string) {
	_ = b.send(ctx, chatID, flows.Reply{Text: text})
}

func (b *Bot) editMessage(ctx context.Context, chatID int64, msgID int, r flows.Reply) error {
	err := b.sender.Do(ctx, chatID, func(ctx context.Context) error {
		return b.apiEditMessageText(ctx, chatID, msgID, r.Text, keyboard(r.Buttons))
	})
	return b.sendFailed(ctx, chatID, err)
}

func (b *Bot) removeKeyboard(ctx context.Context, chatID int64, msgID int) {
	if msgID == 0 {
		return
	}
	err := b.sender.Do(ctx, chatID, func(ctx context.Context) error {
		return b.apiEditMessageReplyMarkup(ctx, chatID, msgID, emptyKeyboard)
	})
	if err != nil && !strings.Contains(err.Error(), "not modified") {
		b.log.Debug("remove keyboard", "chat_id", chatID, "err", b.redact(err))
	}
}

func (b *Bot) answerCallback(ctx context.Context, id, text string) {
	// Not rate-limited per chat: answering is not a message.
	if err := b.apiAnswerCallbackQuery(ctx, id, text); err != nil {
		b.log.Debug("answer callback query", "err", b.redact(err))
	}
}

// sendDocument sends a file: by Telegram file id (resend) or uploaded.
func (b *Bot) sendDocument(ctx context.Context, chatID int64, f flows.File, caption string, upload []byte) error {
	err := b.sender.Do(ctx, chatID, func(ctx context.Context) error {
		p := &tgbot.SendDocumentParams{ChatID: chatID, Caption: caption}
		if upload != nil {
			p.Document = &models.InputFileUpload{Filename: f.Name, Data: bytes.NewReader(upload)} // a fresh reader per attempt
		} else if f.Photo {
			_, err := b.api.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: chatID, Photo: &models.InputFileString{Data: f.ID}, Caption: caption})
			return err
		} else {
			p.Document = &models.InputFileString{Data: f.ID}
		}
		_, err := b.api.SendDocument(ctx, p)
		return err
	})
	return b.sendFailed(ctx, chatID, err)
}

// sendFailed handles what a failed send means: a contact who blocked the
// bot is marked unreachable; a migrated group is followed. It returns err.
func (b *Bot) sendFailed(ctx context.Context, chatID int64, err error) error {
	if err == nil {
		return nil
	}
	var mig *MigratedError
	switch {
	case errors.Is(err, ErrBlocked):
		b.markUnreachable(ctx, chatID)
	case errors.As(err, &mig):
		if ferr := b.followMigration(ctx, chatID, mig.NewChatID); ferr != nil {
			b.log.Error("follow group migration", "err", ferr)
		}
	default:
		b.log.Warn("send failed", "chat_id", chatID, "err", b.redact(err))
	}
	return err
}

// markUnreachable marks the contact of a private chat as having blocked the bot.
func (b *Bot) markUnreachable(ctx context.Context, chatID int64) {
	if chatID <= 0 {
		return
	}
	ct, err := b.store.Contact(ctx, chatID) // private chat id = user id
	if err != nil {
		return
	}
	if !ct.Unreachable {
		ct.Unreachable = true
		if err := b.store.PutContact(ctx, ct); err != nil {
			b.log.Error("mark contact unreachable", "chat_id", chatID, "err", err)
		}
		b.forgetContact(ct.UserID)
		b.log.Info("contact blocked the bot", "chat_id", chatID, "unit", ct.UnitID)
	}
}
