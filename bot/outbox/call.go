package outbox

import (
	"context"
	"errors"

	"reportbot/bot/telegram"
	"reportbot/flows"
)

// call is the Bot API work of one batch, remembered across attempts: the
// parts of a long text already sent are not sent again.
type call struct {
	o     *Outbox
	wait  context.Context // for the limiter: its end stops the call before it is made
	base  context.Context // for the call itself (bounded by CallTimeout)
	batch []item
	parts []string // the text's parts, once split
	sent  int      // parts delivered
	asNew bool     // an edit Telegram refused goes as a new message
}

// run makes the batch's calls to chat under the limits. It returns the
// error of the call that failed (nil when all went through), or errClosing.
func (c *call) run(chat int64) error {
	first := c.batch[0]
	m := first.msg
	switch {
	case len(c.batch) > 1 && m.Kind == flows.OutText:
		return c.text(chat, c.mergedText(), nil, first.allowed)
	case len(c.batch) > 1:
		return c.album(chat)
	}
	switch m.Kind {
	case flows.OutEdit:
		return c.edit(chat, m)
	case flows.OutUnbutton:
		return c.send(chat, 1, first.allowed, func(ctx context.Context) error {
			return c.o.api.EditMessageReplyMarkup(ctx, chat, m.MsgID, telegram.Keyboard{})
		})
	case flows.OutFile:
		return c.file(chat, m, first.allowed)
	default:
		return c.text(chat, m.Text, keyboard(m.Buttons), first.allowed)
	}
}

func (c *call) mergedText() string {
	texts := make([]string, len(c.batch))
	for i, it := range c.batch {
		texts[i] = it.msg.Text
	}
	return flows.MergePosts(texts)
}

// text sends a text, split at line breaks when it is too long for one
// message; the buttons go under the last part.
func (c *call) text(chat int64, text string, kb telegram.Keyboard, allowed bool) error {
	if c.parts == nil {
		c.parts = SplitText(text, MaxTextUnits)
	}
	for c.sent < len(c.parts) {
		var partKB telegram.Keyboard
		if c.sent == len(c.parts)-1 {
			partKB = kb
		}
		part := c.parts[c.sent]
		err := c.send(chat, 1, allowed && c.sent == 0, func(ctx context.Context) error {
			_, err := c.o.api.SendMessage(ctx, chat, part, partKB)
			return err
		})
		if err != nil {
			return err
		}
		c.sent++
	}
	return nil
}

// edit replaces a pressed message; if Telegram will not edit it (too old,
// deleted), the reply is sent as a new message instead.
func (c *call) edit(chat int64, m flows.Outgoing) error {
	if !c.asNew {
		err := c.send(chat, 1, false, func(ctx context.Context) error {
			return c.o.api.EditMessageText(ctx, chat, m.MsgID, m.Text, keyboard(m.Buttons))
		})
		if errors.Is(err, errClosing) || telegram.Classify(err) != telegram.Permanent {
			return err
		}
		c.asNew = true
	}
	return c.text(chat, m.Text, keyboard(m.Buttons), false)
}

func (c *call) file(chat int64, m flows.Outgoing, allowed bool) error {
	f := telegram.InputFile{}
	if m.File != nil {
		f.FileID, f.Name = m.File.ID, m.File.Name
	}
	if m.Upload != nil {
		f.FileID, f.Data = "", m.Upload
	}
	return c.send(chat, 1, allowed, func(ctx context.Context) error {
		var err error
		if m.File != nil && m.File.Photo && m.Upload == nil {
			_, err = c.o.api.SendPhoto(ctx, chat, f, m.Text)
		} else {
			_, err = c.o.api.SendDocument(ctx, chat, f, m.Text)
		}
		return err
	})
}

// album sends the batch's documents (or photos) as one album; it counts
// as one message per item against the limits.
func (c *call) album(chat int64) error {
	items := make([]telegram.InputMedia, len(c.batch))
	for i, it := range c.batch {
		kind := telegram.MediaDocument
		if it.msg.File.Photo {
			kind = telegram.MediaPhoto
		}
		items[i] = telegram.InputMedia{Type: kind, File: telegram.InputFile{FileID: it.msg.File.ID, Name: it.msg.File.Name}, Caption: it.msg.Text}
	}
	err := c.send(chat, len(items), false, func(ctx context.Context) error {
		_, err := c.o.api.SendMediaGroup(ctx, chat, items)
		return err
	})
	if err == nil {
		c.o.lim.charge(chat, len(items)-1)
	}
	return err
}

// send waits for n slots of chat (unless a best-effort message took its
// slot already) and makes one call, bounded by CallTimeout. The call runs
// to its end even when the outbox is closing, so that its answer is not
// lost: Close waits for it.
func (c *call) send(chat int64, n int, allowed bool, do func(ctx context.Context) error) error {
	if !allowed {
		if err := c.o.lim.wait(c.wait, chat, n); err != nil {
			return errClosing
		}
	}
	select {
	case c.o.calls <- struct{}{}:
	case <-c.wait.Done():
		return errClosing
	}
	defer func() { <-c.o.calls }()
	c.o.unsettle(c.batch)
	ctx, cancel := context.WithTimeout(c.base, c.o.cfg.CallTimeout)
	defer cancel()
	err := do(ctx)
	if err == nil && c.o.cfg.Hooks.Sent != nil {
		c.o.cfg.Hooks.Sent()
	}
	return err
}

// keyboard converts the engine's buttons (nil: none).
func keyboard(rows [][]flows.Button) telegram.Keyboard {
	if len(rows) == 0 {
		return nil
	}
	kb := make(telegram.Keyboard, 0, len(rows))
	for _, row := range rows {
		r := make([]telegram.Button, 0, len(row))
		for _, b := range row {
			r = append(r, telegram.Button{Text: b.Text, Data: b.Data})
		}
		kb = append(kb, r)
	}
	return kb
}
