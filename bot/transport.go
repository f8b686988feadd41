package bot

import (
	"bytes"
	"io"
	"net/http"
)

// maxBufferedBody is the largest request body apiTransport sends in one
// piece; larger ones (document uploads) are streamed as before.
const maxBufferedBody = 1 << 20

// apiTransport is the HTTP transport of the go-telegram client.
//
// go-telegram writes every request's multipart form through a pipe, which
// net/http sends chunked, flushing one write to the socket per chunk: a
// system call (with TLS, a record) per form field. apiTransport reads a
// small body first and sends it with its length, in one write. And it
// keeps an idle connection per concurrent sender: with the default of two
// per host, most sends of concurrent chats would open a new connection
// (with TLS, a handshake per message). Measured with `reportbot loadtest`:
// about a quarter of the bot's CPU time per form step.
type apiTransport struct{ base *http.Transport }

func newAPITransport(conns int) *apiTransport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(conns, 2)
	return &apiTransport{base: t}
}

func (t *apiTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength > 0 {
		return t.base.RoundTrip(r)
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, maxBufferedBody+1))
	if err != nil {
		r.Body.Close()
		return nil, err
	}
	r2 := r.Clone(r.Context()) // a RoundTripper must not change the request
	if len(head) <= maxBufferedBody {
		r.Body.Close()
		r2.Body = io.NopCloser(bytes.NewReader(head))
		r2.ContentLength = int64(len(head))
		r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(head)), nil }
	} else {
		r2.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	}
	return t.base.RoundTrip(r2)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// underlying transport.
func (t *apiTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }
