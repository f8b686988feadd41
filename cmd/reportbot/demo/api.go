package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"reportbot/bot"
	"reportbot/bot/telegramtest"
	"reportbot/flows"
	"reportbot/remind"
)

// The page's server: the static page and a small JSON API over the fake
// Bot API, all under /api/:
//
//	GET  /api/people            who one can be (admin, office group, contacts)
//	GET  /api/events?as=KEY     Server-Sent Events: a snapshot of the chat, then its changes and the clock
//	POST /api/send              {"as","text"}: type a message
//	POST /api/press             {"as","message_id","data"}: press an inline button
//	POST /api/upload            multipart as, file: send a document (or a photo, for images)
//	GET  /api/file/{id}?as=KEY  download a file of that person's chat (the fake's URL holds the token)
//	POST /api/invite            {"link"}: a new person opens an invite link
//	GET  /api/clock             the demo time, the deadline and the next scheduled moments
//	POST /api/clock             {"to"} or {"add_minutes"}: the time machine; runs what is due
//
// A person is named by a key: "admin", "office" (a member in the office
// group) or "u<user id>" (a contact, or someone who opened an invite link).

// Server is the running demo.
type Server struct {
	tg       *telegramtest.Server
	bot      *bot.Bot
	svc      *flows.Service
	camp     *flows.Campaign
	openYAML []byte // the demo campaign's file, opened by the seed
	clock    *Clock
	log      *slog.Logger
	life     context.Context // ends when the demo stops
	hub      *hub
	url      string
	dataDir  string

	trip sync.Mutex // one time machine trip at a time

	mu     sync.Mutex
	known  map[int64]telegramtest.User // contacts and guests the page can be
	guests int
}

// remember makes u someone the page can be.
func (d *Server) remember(u telegramtest.User) {
	d.mu.Lock()
	d.known[u.ID] = u
	d.mu.Unlock()
}

// person is someone the page can be, in one chat.
type person struct {
	Key      string `json:"key"`
	UserID   int64  `json:"user_id"`
	Name     string `json:"name"`
	Role     string `json:"role"` // admin, office, contact, guest
	Unit     string `json:"unit,omitempty"`
	Category string `json:"category,omitempty"`
	Status   string `json:"status,omitempty"`
	Done     bool   `json:"done,omitempty"` // the unit has a submitted version
	// ChatTitle names the chat as the person sees it.
	ChatTitle string `json:"chat_title"`
	ChatKind  string `json:"chat_kind"` // private or group

	user telegramtest.User
	chat telegramtest.Chat
}

// person resolves a key.
func (d *Server) person(key string) (person, bool) {
	switch key {
	case "admin":
		return person{Key: key, UserID: adminID, Name: adminUser.FirstName, Role: "admin", ChatTitle: botName, ChatKind: "private", user: adminUser, chat: adminUser.Chat()}, true
	case "office":
		return person{Key: key, UserID: memberID, Name: memberUser.FirstName, Role: "office", ChatTitle: officeGroup.Title, ChatKind: "group", user: memberUser, chat: officeGroup}, true
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(key, "u"), 10, 64)
	if err != nil || !strings.HasPrefix(key, "u") {
		return person{}, false
	}
	d.mu.Lock()
	u, ok := d.known[id]
	d.mu.Unlock()
	if !ok {
		return person{}, false
	}
	return person{Key: key, UserID: u.ID, Name: u.FirstName, Role: "guest", ChatTitle: botName, ChatKind: "private", user: u, chat: u.Chat()}, true
}

// describe adds a contact's unit and its state to p.
func (d *Server) describe(ctx context.Context, p person) person {
	if p.Role != "guest" {
		return p
	}
	st := d.svc.Store
	c, err := st.Contact(ctx, p.user.ID)
	if err != nil {
		return p
	}
	u, err := st.Unit(ctx, c.UnitID)
	if err != nil {
		return p
	}
	dr, err := st.Draft(ctx, d.camp.Key, u.ID)
	if err != nil {
		return p
	}
	cat, _ := d.camp.Category(u.Category)
	p.Role, p.Unit, p.Category, p.Status, p.Done = "contact", u.Name, cat.Name, d.camp.ShortStatus(dr, u.Category), dr.Version > 0
	return p
}

// handler routes the page and its API.
func (d *Server) handler() http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		page, err := fs.ReadFile(static, "index.html")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("GET /api/people", d.apiPeople)
	mux.HandleFunc("GET /api/events", d.apiEvents)
	mux.HandleFunc("POST /api/send", d.apiSend)
	mux.HandleFunc("POST /api/press", d.apiPress)
	mux.HandleFunc("POST /api/upload", d.apiUpload)
	mux.HandleFunc("GET /api/file/{id}", d.apiFile)
	mux.HandleFunc("POST /api/invite", d.apiInvite)
	mux.HandleFunc("GET /api/clock", d.apiClock)
	mux.HandleFunc("POST /api/clock", d.apiTimeMachine)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
}

// apiError is the JSON of a failed call; Msg is for people (Chinese).
type apiError struct {
	Msg string `json:"error"`
}

func writeAPI(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func apiFail(w http.ResponseWriter, code int, msg string) {
	writeAPI(w, code, apiError{Msg: msg})
}

// readJSON decodes a small JSON body.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	if err := dec.Decode(v); err != nil {
		apiFail(w, http.StatusBadRequest, "请求格式不正确："+err.Error())
		return false
	}
	return true
}

// people answers /api/people.
type people struct {
	Bot     telegramtest.User `json:"bot"`
	People  []person          `json:"people"`
	Unbound []unbound         `json:"unbound"`
}

type unbound struct {
	Unit     string `json:"unit"`
	Category string `json:"category"`
}

func (d *Server) apiPeople(w http.ResponseWriter, r *http.Request) {
	p, err := d.people(r.Context())
	if err != nil {
		d.log.Error("demo: list people", "err", err)
		apiFail(w, http.StatusInternalServerError, "无法读取单位列表。")
		return
	}
	writeAPI(w, http.StatusOK, p)
}

// people lists the admin, the office group, every unit's contacts (units
// in roster order), and the people who are no unit's contact (any more).
func (d *Server) people(ctx context.Context) (people, error) {
	admin, _ := d.person("admin")
	office, _ := d.person("office")
	out := people{Bot: d.tg.Bot(), People: []person{admin, office}, Unbound: []unbound{}}
	st := d.svc.Store
	units, err := st.Units(ctx)
	if err != nil {
		return out, err
	}
	drafts, err := st.Drafts(ctx, d.camp.Key)
	if err != nil {
		return out, err
	}
	byUnit := map[int64]flows.Draft{}
	for _, dr := range drafts {
		byUnit[dr.UnitID] = dr
	}
	contacts := map[int64]bool{}
	for _, u := range units {
		if u.Removed {
			continue
		}
		cat, _ := d.camp.Category(u.Category)
		cs, err := st.Contacts(ctx, u.ID)
		if err != nil {
			return out, err
		}
		if len(cs) == 0 {
			out.Unbound = append(out.Unbound, unbound{Unit: u.Name, Category: cat.Name})
			continue
		}
		dr := byUnit[u.ID]
		for _, c := range cs {
			contacts[c.UserID] = true
			d.mu.Lock()
			user, ok := d.known[c.UserID]
			if !ok {
				user = telegramtest.User{ID: c.UserID, FirstName: c.Name}
				d.known[c.UserID] = user
			}
			d.mu.Unlock()
			out.People = append(out.People, person{
				Key: "u" + strconv.FormatInt(c.UserID, 10), UserID: c.UserID, Name: user.FirstName, Role: "contact",
				Unit: u.Name, Category: cat.Name, Status: d.camp.ShortStatus(dr, u.Category), Done: dr.Version > 0,
				ChatTitle: botName, ChatKind: "private",
			})
		}
	}
	d.mu.Lock()
	var others []person
	for id, u := range d.known {
		if !contacts[id] {
			others = append(others, person{Key: "u" + strconv.FormatInt(id, 10), UserID: id, Name: u.FirstName, Role: "guest", ChatTitle: botName, ChatKind: "private"})
		}
	}
	d.mu.Unlock()
	sort.Slice(others, func(i, j int) bool { return others[i].Key < others[j].Key })
	out.People = append(out.People, others...)
	return out, nil
}

// message is a message as the page shows it.
type message struct {
	ID       int        `json:"id"`
	FromBot  bool       `json:"from_bot"`
	FromID   int64      `json:"from_id"`
	FromName string     `json:"from_name"`
	Time     time.Time  `json:"time"`
	Edited   bool       `json:"edited,omitempty"`
	Text     string     `json:"text,omitempty"`
	Caption  string     `json:"caption,omitempty"`
	Buttons  [][]button `json:"buttons,omitempty"`
	File     *file      `json:"file,omitempty"`
	ReplyTo  int        `json:"reply_to,omitempty"`
}

type button struct {
	Text string `json:"text"`
	Data string `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
}

// file is a document or photo; URL downloads it through the page's
// server (the fake's own file URL carries the bot token).
type file struct {
	Name   string `json:"name"`
	Size   int    `json:"size"`
	MIME   string `json:"mime,omitempty"`
	Photo  bool   `json:"photo,omitempty"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	URL    string `json:"url"`
}

func (d *Server) view(p person, m telegramtest.Message) message {
	v := message{
		ID: m.MessageID, FromBot: m.FromBot, FromID: m.From.ID,
		FromName: strings.TrimSpace(m.From.FirstName + " " + m.From.LastName),
		Time:     m.Date, Edited: !m.EditDate.IsZero(), Text: m.Text, Caption: m.Caption, ReplyTo: m.ReplyTo,
	}
	for _, row := range m.Keyboard {
		var r []button
		for _, b := range row {
			r = append(r, button{Text: b.Text, Data: b.Data, URL: b.URL})
		}
		v.Buttons = append(v.Buttons, r)
	}
	fileURL := func(f *telegramtest.File) string {
		return "/api/file/" + url.PathEscape(f.ID) + "?as=" + url.QueryEscape(p.Key)
	}
	switch {
	case m.Document != nil:
		v.File = &file{Name: m.Document.Name, Size: m.Document.Size, MIME: m.Document.MIME, URL: fileURL(m.Document)}
		if v.File.Name == "" {
			v.File.Name = "文件"
		}
	case m.Photo != nil:
		v.File = &file{Name: "照片.jpg", Size: m.Photo.Size, MIME: "image/jpeg", Photo: true, Width: m.Photo.Width, Height: m.Photo.Height, URL: fileURL(m.Photo)}
	}
	if m.MigrateToChatID != 0 || m.MigrateFromChatID != 0 {
		v.Text = "（群组已升级为超级群组）"
	}
	return v
}

// apiEvents streams a chat to the page: a snapshot, then every change,
// and the clock whenever the time machine moves it.
func (d *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	p, ok := d.person(r.URL.Query().Get("as"))
	if !ok {
		apiFail(w, http.StatusNotFound, "没有这个身份。")
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		apiFail(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	events, cancel := d.tg.Subscribe() // before the snapshot: nothing falls in between
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	send := func(event string, v any) bool {
		data, err := json.Marshal(v)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	p = d.describe(r.Context(), p)
	var msgs []message
	for _, m := range d.tg.History(p.chat.ID) {
		msgs = append(msgs, d.view(p, m))
	}
	clock := d.clockState(r.Context())
	if !send("snapshot", map[string]any{"person": p, "messages": msgs, "clock": clock}) {
		return
	}
	changed := d.hub.wait()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-d.life.Done():
			return
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case <-changed:
			changed = d.hub.wait()
			if !send("clock", d.clockState(r.Context())) {
				return
			}
		case ev, ok := <-events:
			if !ok {
				return
			}
			if !d.forward(p, ev, send) {
				return
			}
		}
	}
}

// forward sends one event of the fake to a page showing p's chat.
func (d *Server) forward(p person, ev telegramtest.Event, send func(string, any) bool) bool {
	switch ev.Kind {
	case telegramtest.EventMessageSent, telegramtest.EventMessageEdited, telegramtest.EventUserMessage:
		if ev.Message != nil && ev.ChatID == p.chat.ID {
			return send("message", d.view(p, *ev.Message))
		}
	case telegramtest.EventMessageDeleted:
		if ev.Message != nil && ev.ChatID == p.chat.ID {
			return send("deleted", map[string]int{"id": ev.Message.MessageID})
		}
	case telegramtest.EventCallbackAnswered:
		if q := ev.Callback; q != nil && q.ChatID == p.chat.ID && q.From.ID == p.user.ID && q.Text != "" {
			return send("toast", map[string]any{"text": q.Text, "alert": q.ShowAlert})
		}
	case telegramtest.EventChatAction:
		if ev.ChatID == p.chat.ID {
			return send("action", map[string]string{"action": ev.Action})
		}
	}
	return true
}

// apiSend types a message as the person.
func (d *Server) apiSend(w http.ResponseWriter, r *http.Request) {
	var req struct {
		As   string `json:"as"`
		Text string `json:"text"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	p, ok := d.person(req.As)
	if !ok {
		apiFail(w, http.StatusNotFound, "没有这个身份。")
		return
	}
	text := strings.TrimSpace(req.Text)
	if text == "" || utf8.RuneCountInString(text) > 4096 {
		apiFail(w, http.StatusBadRequest, "消息不能为空，也不能超过 4096 个字。")
		return
	}
	id, err := d.tg.Send(p.user, p.chat, telegramtest.Incoming{Text: text})
	if err != nil {
		apiFail(w, http.StatusBadRequest, "发送失败："+err.Error())
		return
	}
	writeAPI(w, http.StatusOK, map[string]int64{"update_id": id})
}

// apiPress presses an inline button as the person.
func (d *Server) apiPress(w http.ResponseWriter, r *http.Request) {
	var req struct {
		As        string `json:"as"`
		MessageID int    `json:"message_id"`
		Data      string `json:"data"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	p, ok := d.person(req.As)
	if !ok {
		apiFail(w, http.StatusNotFound, "没有这个身份。")
		return
	}
	id, err := d.tg.Press(p.user, p.chat.ID, req.MessageID, req.Data)
	if err != nil {
		apiFail(w, http.StatusConflict, "这个按钮已失效（消息已更新）。")
		return
	}
	writeAPI(w, http.StatusOK, map[string]int64{"update_id": id})
}

// maxUpload is the largest file the page sends (Telegram's bots get
// files up to 20 MB).
const maxUpload = 20 << 20

// apiUpload sends a file as the person: images as a photo (as Telegram
// does by default), anything else as a document.
func (d *Server) apiUpload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		apiFail(w, http.StatusBadRequest, "文件太大（最大 20 MB）或上传不完整。")
		return
	}
	defer r.MultipartForm.RemoveAll()
	p, ok := d.person(r.FormValue("as"))
	if !ok {
		apiFail(w, http.StatusNotFound, "没有这个身份。")
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		apiFail(w, http.StatusBadRequest, "没有收到文件。")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil || len(data) > maxUpload {
		apiFail(w, http.StatusBadRequest, "文件太大（最大 20 MB）。")
		return
	}
	in := telegramtest.Incoming{Caption: strings.TrimSpace(r.FormValue("caption"))}
	ctype := http.DetectContentType(data)
	if r.FormValue("as_file") != "1" && (ctype == "image/jpeg" || ctype == "image/png" || ctype == "image/gif") {
		in.Photo = data
	} else {
		in.Document = &telegramtest.Attachment{Name: hdr.Filename, MIME: hdr.Header.Get("Content-Type"), Content: data}
	}
	id, err := d.tg.Send(p.user, p.chat, in)
	if err != nil {
		apiFail(w, http.StatusBadRequest, "发送失败："+err.Error())
		return
	}
	writeAPI(w, http.StatusOK, map[string]int64{"update_id": id})
}

// apiFile serves a document or photo of the person's chat.
func (d *Server) apiFile(w http.ResponseWriter, r *http.Request) {
	p, ok := d.person(r.URL.Query().Get("as"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	id := r.PathValue("id")
	var file *telegramtest.File
	for _, m := range d.tg.History(p.chat.ID) {
		for _, f := range []*telegramtest.File{m.Document, m.Photo} {
			if f != nil && f.ID == id {
				file = f
			}
		}
	}
	if file == nil {
		http.NotFound(w, r)
		return
	}
	name, ctype := file.Name, file.MIME
	if name == "" {
		name = "photo.jpg"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	disposition := "attachment"
	if r.URL.Query().Get("inline") == "1" && strings.HasPrefix(http.DetectContentType(file.Content), "image/") {
		disposition = "inline"
		ctype = http.DetectContentType(file.Content)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(len(file.Content)))
	_, _ = w.Write(file.Content)
}

var inviteToken = regexp.MustCompile(`[?&]start=([A-Za-z0-9_-]{16,64})`)

// apiInvite makes a new person who opens an invite link: Telegram would
// send /start <token> for them.
func (d *Server) apiInvite(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Link string `json:"link"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	m := inviteToken.FindStringSubmatch(req.Link)
	if m == nil {
		apiFail(w, http.StatusBadRequest, "这不是机器人的邀请链接。")
		return
	}
	d.mu.Lock()
	var u telegramtest.User
	for {
		d.guests++
		id := int64(guestBase + d.guests)
		if _, taken := d.known[id]; taken {
			continue
		}
		name := guestNames[(d.guests-1)%len(guestNames)]
		if n := (d.guests - 1) / len(guestNames); n > 0 {
			name += strconv.Itoa(n + 1)
		}
		u = telegramtest.User{ID: id, FirstName: name}
		d.known[id] = u
		break
	}
	d.mu.Unlock()
	d.tg.AddUser(u)
	if _, err := d.tg.Send(u, u.Chat(), telegramtest.Incoming{Text: "/start " + m[1]}); err != nil {
		apiFail(w, http.StatusInternalServerError, "无法打开邀请链接："+err.Error())
		return
	}
	writeAPI(w, http.StatusOK, map[string]string{"key": "u" + strconv.FormatInt(u.ID, 10), "name": u.FirstName})
}

// clockState is the demo time as the page shows it.
type clockState struct {
	Now          time.Time   `json:"now"`
	NowText      string      `json:"now_text"`
	Deadline     time.Time   `json:"deadline"`
	DeadlineText string      `json:"deadline_text"`
	Left         string      `json:"left"`
	Stops        []clockStop `json:"stops"`
}

// clockStop is a moment the time machine offers: the next reminder rounds
// and digests.
type clockStop struct {
	At    time.Time `json:"at"`
	Label string    `json:"label"`
	When  string    `json:"when"`
}

var weekdays = [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

// when formats a time for the page: 7月15日 周三 18:00.
func (d *Server) when(t time.Time) string {
	t = t.In(d.camp.Location)
	return fmt.Sprintf("%d月%d日 %s %02d:%02d", t.Month(), t.Day(), weekdays[t.Weekday()], t.Hour(), t.Minute())
}

func (d *Server) clockState(ctx context.Context) clockState {
	now := d.clock.Now()
	deadline, err := d.svc.Deadline(ctx)
	if err != nil {
		deadline = d.camp.Deadline
	}
	s := clockState{
		Now: now, NowText: fmt.Sprintf("%d年%s", now.Year(), d.when(now)),
		Deadline: deadline, DeadlineText: fmt.Sprintf("%d年%s", deadline.Year(), d.when(deadline)),
		Stops: []clockStop{},
	}
	left := deadline.Sub(now)
	span := func(d time.Duration) string {
		days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		switch {
		case days > 0:
			return fmt.Sprintf("%d 天 %d 小时", days, hours)
		case hours > 0:
			return fmt.Sprintf("%d 小时 %d 分", hours, int(d%time.Hour/time.Minute))
		}
		return fmt.Sprintf("%d 分钟", int(d/time.Minute))
	}
	if left > 0 {
		s.Left = "距截止还有 " + span(left)
	} else {
		s.Left = "已截止 " + span(-left)
	}
	from := now.Add(time.Second)
	for _, r := range d.camp.ReminderRounds(deadline, from, deadline.AddDate(0, 0, 4)) {
		label := "逾期提醒"
		switch r.Kind {
		case flows.RoundBefore:
			label = fmt.Sprintf("截止前 %d 天提醒", r.DaysLeft)
		case flows.RoundDay:
			label = "截止当天提醒"
		case flows.RoundAfter:
			label = fmt.Sprintf("逾期提醒（截止后第 %d 天）", -r.DaysLeft)
		}
		s.Stops = append(s.Stops, clockStop{At: r.At, Label: label})
	}
	daily := 0
	for _, dg := range d.camp.Digests(deadline, from, deadline.Add(time.Second)) {
		switch {
		case dg.Final:
			s.Stops = append(s.Stops, clockStop{At: dg.At, Label: "截止时刻（最终简报）"})
		case daily < 2:
			daily++
			s.Stops = append(s.Stops, clockStop{At: dg.At, Label: "每日进度简报"})
		}
	}
	slices.SortStableFunc(s.Stops, func(a, b clockStop) int { return a.At.Compare(b.At) })
	if len(s.Stops) > 8 {
		s.Stops = s.Stops[:8]
	}
	for i := range s.Stops {
		s.Stops[i].When = d.when(s.Stops[i].At)
	}
	return s
}

func (d *Server) apiClock(w http.ResponseWriter, r *http.Request) {
	writeAPI(w, http.StatusOK, d.clockState(r.Context()))
}

// apiTimeMachine moves the demo clock forward and runs the scheduled jobs
// due at the new time, as the minute tick would.
func (d *Server) apiTimeMachine(w http.ResponseWriter, r *http.Request) {
	var req struct {
		To         time.Time `json:"to"`
		AddMinutes int       `json:"add_minutes"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	d.trip.Lock()
	defer d.trip.Unlock()
	to := req.To
	if req.AddMinutes > 0 {
		to = d.clock.Now().Add(time.Duration(req.AddMinutes) * time.Minute)
	}
	switch {
	case to.IsZero():
		apiFail(w, http.StatusBadRequest, "请给出要去的时间。")
		return
	case to.After(d.clock.Now().AddDate(1, 0, 0)):
		apiFail(w, http.StatusBadRequest, "最多只能往后拨一年。")
		return
	}
	if err := d.clock.Set(to); err != nil {
		apiFail(w, http.StatusBadRequest, "时光机只能往后拨，不能回到过去。")
		return
	}
	d.hub.notify()
	ran, err := d.runDue(d.life, to.In(d.camp.Location))
	if err != nil {
		d.log.Error("demo: time machine jobs", "err", err)
		ran = append(ran, "定时任务出错："+err.Error())
	}
	writeAPI(w, http.StatusOK, map[string]any{"clock": d.clockState(r.Context()), "ran": ran})
}

// runDue runs the reminder round and the digest due at now, if any, and
// says what happened (Chinese, for the page).
func (d *Server) runDue(ctx context.Context, now time.Time) ([]string, error) {
	sched, _ := d.bot.Scheduler().(*remind.Scheduler)
	if sched == nil {
		return nil, errors.New("the scheduler is not running")
	}
	var ran []string
	rr, err := sched.RunReminders(ctx, now)
	if err != nil {
		return ran, fmt.Errorf("reminders: %w", err)
	}
	switch {
	case rr.Round.At.IsZero():
	case rr.Skip == "done":
		ran = append(ran, "这一轮提醒之前已经发过了。")
	case rr.Skip == "busy":
		ran = append(ran, "这一轮提醒正在由定时任务发送。")
	case rr.Skip == "reminders off":
		ran = append(ran, "逾期提醒已被管理员关闭（/reminders on 可重新开启）。")
	case rr.Ran:
		t := rr.Tally
		ran = append(ran, fmt.Sprintf("已发送提醒：%d 个未提交单位，%d 个已送达，%d 个未绑定联系人，%d 个无法送达。", t.Units, t.Sent, t.NoContact, t.Unreachable))
	}
	dr, err := sched.RunDigest(ctx, now)
	if err != nil {
		return ran, fmt.Errorf("digest: %w", err)
	}
	switch {
	case dr.Digest.At.IsZero():
	case dr.Posted && dr.Digest.Final:
		ran = append(ran, "截止简报已发到市双拥办工作群。")
	case dr.Posted:
		ran = append(ran, "每日进度简报已发到市双拥办工作群。")
	case dr.Skip == "done":
		ran = append(ran, "这次简报之前已经发过了。")
	case dr.Skip == "no office group":
		ran = append(ran, "尚未设置工作群，简报没有发出。")
	}
	if len(ran) == 0 {
		ran = append(ran, "这个时间没有到期的提醒或简报。")
	}
	return ran, nil
}
