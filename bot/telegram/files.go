package telegram

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

// InputFile is a file to send: a file Telegram already has (FileID), or
// an upload of Data named Name. FileID wins when both are set.
type InputFile struct {
	FileID string
	Name   string
	Data   []byte
}

func (f InputFile) upload() bool { return f.FileID == "" }

// Media types of an album item.
const (
	MediaDocument = "document"
	MediaPhoto    = "photo"
	MediaVideo    = "video"
)

// InputMedia is one item of an album.
type InputMedia struct {
	Type    string // MediaDocument (when empty), MediaPhoto or MediaVideo
	File    InputFile
	Caption string
}

// SendDocument sends a document with a caption (empty: none) and returns
// the message's id.
func (c *Client) SendDocument(ctx context.Context, chat int64, f InputFile, caption string) (int, error) {
	return c.sendFile(ctx, "sendDocument", "document", chat, f, caption)
}

// SendPhoto sends a photo with a caption (empty: none) and returns the
// message's id.
func (c *Client) SendPhoto(ctx context.Context, chat int64, f InputFile, caption string) (int, error) {
	return c.sendFile(ctx, "sendPhoto", "photo", chat, f, caption)
}

func (c *Client) sendFile(ctx context.Context, method, field string, chat int64, f InputFile, caption string) (int, error) {
	if !f.upload() {
		return c.callMessage(ctx, method, jsonType, fileBody(chat, field, f.FileID, caption))
	}
	if f.Data == nil {
		return 0, fmt.Errorf("telegram %s: %w", method, errNoFile)
	}
	body, ct, err := multipartBody(func(w *multipart.Writer) error {
		if err := w.WriteField("chat_id", strconv.FormatInt(chat, 10)); err != nil {
			return err
		}
		if caption != "" {
			if err := w.WriteField("caption", caption); err != nil {
				return err
			}
		}
		return writeFile(w, field, fileName(f.Name, field), f.Data)
	})
	if err != nil {
		return 0, fmt.Errorf("telegram %s: %w", method, err)
	}
	return c.callMessage(ctx, method, ct, body)
}

// SendMediaGroup sends 2-10 items as an album — documents only with
// documents, photos with photos and videos — each with its own caption,
// and returns the messages' ids in order. An album of N counts as N
// messages against Telegram's limits. Uploads travel in one
// multipart/form-data request; file ids alone in a JSON body.
func (c *Client) SendMediaGroup(ctx context.Context, chat int64, items []InputMedia) ([]int, error) {
	type mediaJSON struct {
		Type    string `json:"type"`
		Media   string `json:"media"`
		Caption string `json:"caption,omitempty"`
	}
	media := make([]mediaJSON, len(items))
	uploads := false
	for i, it := range items {
		m := mediaJSON{Type: it.Type, Media: it.File.FileID, Caption: it.Caption}
		if m.Type == "" {
			m.Type = MediaDocument
		}
		if it.File.upload() {
			if it.File.Data == nil {
				return nil, fmt.Errorf("telegram sendMediaGroup: item %d: %w", i, errNoFile)
			}
			m.Media = "attach://file" + strconv.Itoa(i)
			uploads = true
		}
		media[i] = m
	}
	var (
		r   *reply
		err error
	)
	if uploads {
		mediaText, merr := marshal(media)
		if merr != nil {
			return nil, fmt.Errorf("telegram sendMediaGroup: %w", merr)
		}
		body, ct, merr := multipartBody(func(w *multipart.Writer) error {
			if err := w.WriteField("chat_id", strconv.FormatInt(chat, 10)); err != nil {
				return err
			}
			if err := w.WriteField("media", string(mediaText)); err != nil {
				return err
			}
			for i, it := range items {
				if it.File.upload() {
					if err := writeFile(w, "file"+strconv.Itoa(i), fileName(it.File.Name, media[i].Type), it.File.Data); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if merr != nil {
			return nil, fmt.Errorf("telegram sendMediaGroup: %w", merr)
		}
		r, err = c.post(ctx, c.httpc, "sendMediaGroup", ct, body)
	} else {
		body, merr := marshal(struct {
			ChatID int64       `json:"chat_id"`
			Media  []mediaJSON `json:"media"`
		}{chat, media})
		if merr != nil {
			return nil, fmt.Errorf("telegram sendMediaGroup: %w", merr)
		}
		r, err = c.post(ctx, c.httpc, "sendMediaGroup", jsonType, body)
	}
	if err != nil {
		return nil, err
	}
	var msgs []messageResult
	if err := decode(c, "sendMediaGroup", r, &msgs); err != nil {
		return nil, err
	}
	ids := make([]int, len(msgs))
	for i, m := range msgs {
		ids[i] = m.MessageID
	}
	return ids, nil
}

// multipartBody builds a multipart/form-data body with fill and returns it
// with its Content-Type. Every call builds a fresh body, so a retried send
// uploads everything again.
func multipartBody(fill func(*multipart.Writer) error) ([]byte, []string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := fill(w); err != nil {
		return nil, nil, err
	}
	if err := w.Close(); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), []string{w.FormDataContentType()}, nil
}

func writeFile(w *multipart.Writer, field, name string, data []byte) error {
	part, err := w.CreateFormFile(field, name)
	if err != nil {
		return err
	}
	_, err = part.Write(data)
	return err
}

// fileName is the name an upload is sent under: name without line breaks
// (it goes into a MIME header), or a default for the kind of file.
func fileName(name, kind string) string {
	name = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, name)
	if strings.TrimSpace(name) != "" {
		return name
	}
	switch kind {
	case MediaPhoto:
		return "photo.jpg"
	case MediaVideo:
		return "video.mp4"
	}
	return "document"
}

// MaxDownload is the largest file the Bot API lets a bot download (20 MB).
const MaxDownload = 20 << 20

// GetFile returns the download path and size of a file by its id.
func (c *Client) GetFile(ctx context.Context, fileID string) (path string, size int64, err error) {
	body := appendJSONString([]byte(`{"file_id":`), fileID)
	body = append(body, '}')
	var f struct {
		FilePath string `json:"file_path"`
		FileSize int64  `json:"file_size"`
	}
	if err := call(ctx, c, c.httpc, "getFile", body, &f); err != nil {
		return "", 0, err
	}
	if f.FilePath == "" {
		return "", 0, fmt.Errorf("telegram getFile: no file path in the answer")
	}
	return f.FilePath, f.FileSize, nil
}

// Download fetches a file by its id (getFile, then the file URL, which
// carries the token and never appears in an error). It refuses a file
// larger than maxBytes (<= 0: MaxDownload) with an error wrapping
// ErrTooBig, without downloading it when its size is known in advance.
// A failed download answer is an *Error with Method "download".
func (c *Client) Download(ctx context.Context, fileID string, maxBytes int64) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = MaxDownload
	}
	path, size, err := c.GetFile(ctx, fileID)
	if err != nil {
		return nil, err
	}
	if size > maxBytes {
		return nil, fmt.Errorf("telegram download: %w: %d bytes, limit %d", ErrTooBig, size, maxBytes)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.files+path, nil)
	if err != nil {
		return nil, fmt.Errorf("telegram download: %w", c.Redact(err))
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram download: %w", c.Redact(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return nil, fmt.Errorf("telegram download: HTTP %d, read answer: %w", resp.StatusCode, c.Redact(err))
		}
		var d discard
		if err := decode(c, "download", &reply{status: resp.StatusCode, header: resp.Header, body: data}, &d); err != nil {
			return nil, err
		}
		// {"ok":true} with a status other than 200: not a file.
		return nil, c.bareError("download", &reply{status: resp.StatusCode, header: resp.Header, body: data})
	}
	if resp.ContentLength > maxBytes {
		return nil, fmt.Errorf("telegram download: %w: %d bytes, limit %d", ErrTooBig, resp.ContentLength, maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("telegram download: read file: %w", c.Redact(err))
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("telegram download: %w: more than %d bytes", ErrTooBig, maxBytes)
	}
	return data, nil
}
