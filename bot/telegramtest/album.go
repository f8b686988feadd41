package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Albums (sendMediaGroup) take 2 to 10 items. Telegram documents the lower
// bound; the fake enforces it.
const (
	minAlbum = 2
	maxAlbum = 10
)

// albumItem is one InputMedia of a sendMediaGroup call.
type albumItem struct {
	Type      string `json:"type"`
	Media     string `json:"media"`
	Caption   string `json:"caption"`
	ParseMode string `json:"parse_mode"`
}

// albumFile is an album item's file: an upload or a stored file.
type albumFile struct {
	item     albumItem
	up       *upload
	existing *storedFile
	width    int
	height   int
}

// sendMediaGroup sends 2-10 documents, or 2-10 photos and videos, as an
// album: one message per item, each with its own caption, sharing a
// media_group_id. It answers the array of messages. The album is admitted
// by the flood limits whole or not at all, and counts as one send per item.
func (s *Server) sendMediaGroup(_ context.Context, p *params) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.resolveChatLocked(p)
	if err != nil {
		return nil, err
	}
	raw := strings.TrimSpace(p.str("media"))
	if raw == "" {
		return nil, errBadRequest("parameter \"media\" is required")
	}
	var items []albumItem
	if err := json.Unmarshal([]byte(raw), &items); err != nil {
		return nil, errBadRequest("can't parse media JSON object")
	}
	if len(items) > maxAlbum {
		return nil, errBadRequest("too much messages to send as an album")
	}
	if len(items) < minAlbum {
		return nil, errBadRequest(fmt.Sprintf("media must include %d-%d items", minAlbum, maxAlbum))
	}
	if err := checkAlbumTypes(items); err != nil {
		return nil, err
	}
	files := make([]albumFile, len(items))
	for i, it := range items {
		f, err := s.albumFileLocked(p, it)
		if err != nil {
			return nil, err
		}
		files[i] = f
	}
	reply, err := s.replyTargetLocked(c, p)
	if err != nil {
		return nil, err
	}
	if err := s.admitNLocked(c, "sendMediaGroup", len(items)); err != nil {
		return nil, err
	}

	s.albumSeq++
	group := fmt.Sprintf("%d", 13700000000000000+s.albumSeq)
	out := make([]*wireMessage, 0, len(files))
	for _, f := range files {
		m := s.newBotMessageLocked(p, markup{}, reply)
		m.caption = f.item.Caption
		m.parseMode = f.item.ParseMode
		m.mediaGroup = group
		switch {
		case f.item.Type == "photo" && f.up != nil:
			m.photo = s.storePhotoLocked(f.up.data, f.width, f.height)
		case f.item.Type == "photo":
			m.photo = s.photoGroupLocked(f.existing)
		case f.up != nil:
			name := f.up.filename
			if name == "" {
				name = f.item.Type
			}
			stored := s.storeFileLocked(f.item.Type, name, guessMIME(name, f.up.contentType, f.up.data), f.up.data, 0, 0)
			if f.item.Type == "video" {
				m.video = stored
			} else {
				m.document = stored
			}
		case f.item.Type == "video":
			m.video = f.existing
		default:
			m.document = f.existing
		}
		c.add(m)
		s.messageEventLocked(EventMessageSent, m)
		out = append(out, m.wire(c.chat, true))
	}
	return out, nil
}

// checkAlbumTypes applies Telegram's grouping rule: documents are grouped
// only with documents; photos and videos mix. Audio (which groups only
// with audio) is not modelled.
func checkAlbumTypes(items []albumItem) *apiError {
	docs := 0
	for _, it := range items {
		switch it.Type {
		case "document":
			docs++
		case "photo", "video":
		case "audio":
			return errBadRequest("telegramtest: audio albums are not modelled")
		default:
			return errBadRequest(fmt.Sprintf("can't parse InputMedia: unsupported media type %q", it.Type))
		}
	}
	if docs > 0 && docs < len(items) {
		return errBadRequest("documents can be grouped in an album only with other documents")
	}
	return nil
}

// albumFileLocked resolves an item's media: "attach://<part>" names an
// uploaded part, anything else is the file_id of a stored file of the
// item's type (a photo's sizes are all photos).
func (s *Server) albumFileLocked(p *params, it albumItem) (albumFile, *apiError) {
	f := albumFile{item: it}
	if err := checkCaption(it.Caption); err != nil {
		return f, err
	}
	v := strings.TrimSpace(it.Media)
	switch {
	case v == "":
		return f, errBadRequest("can't parse InputMedia: media not found")
	case strings.HasPrefix(v, "attach://"):
		f.up = p.files[strings.TrimPrefix(v, "attach://")]
		if f.up == nil {
			return f, errBadRequest("can't parse InputMedia: media not found")
		}
	case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
		return f, errBadRequest("failed to get HTTP URL content")
	default:
		f.existing = s.files[v]
		if f.existing == nil {
			return f, errBadRequest("wrong file identifier/HTTP URL specified")
		}
		if f.existing.kind != it.Type {
			return f, errBadRequest("type of file mismatch")
		}
		return f, nil
	}
	if len(f.up.data) == 0 {
		return f, errBadRequest("file must be non-empty")
	}
	if it.Type == "photo" {
		w, h, ok := imageSize(f.up.data)
		if !ok {
			return f, errBadRequest("IMAGE_PROCESS_FAILED")
		}
		f.width, f.height = w, h
	}
	return f, nil
}
