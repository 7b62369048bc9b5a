package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// webDist is the built web app: `npm run build` in dashboard/web writes it,
// and it is committed so that a plain `go build` needs no Node.js.
//
//go:embed all:web/dist
var webDist embed.FS

// webFile is one file of the app, ready to serve.
type webFile struct {
	body        []byte
	contentType string
	etag        string
	immutable   bool
}

// appCSP is the Content-Security-Policy of the app's HTML: its scripts,
// styles and images come from this server only, it connects back to it
// (fetch and WebSocket), and it is never framed.
const appCSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; " +
	"img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type webApp struct {
	files map[string]webFile // by path without the leading slash
	index webFile
}

var _ http.Handler = (*webApp)(nil)

// WebApp returns the handler of the embedded dashboard app, to mount at "GET /"
// below the API and /ws routes. It serves the files of web/dist; any other
// path without a file extension (a client route such as /inbox/123) gets
// index.html, and a missing file with an extension gets 404. Hashed files
// under assets/ are cached for a year as immutable; index.html must be
// revalidated (ETag), so a new build takes effect at the next load. It
// answers 404 for everything when the embedded build has no index.html.
func WebApp() http.Handler {
	sub, err := fs.Sub(webDist, "web/dist")
	if err != nil {
		return http.NotFoundHandler()
	}
	return newWebApp(sub)
}

func newWebApp(fsys fs.FS) http.Handler {
	app := &webApp{files: make(map[string]webFile)}
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = http.DetectContentType(body)
		}
		sum := sha256.Sum256(body)
		app.files[p] = webFile{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`,
			immutable: strings.HasPrefix(p, "assets/")}
		return nil
	})
	idx, ok := app.files["index.html"]
	if !ok {
		return http.NotFoundHandler()
	}
	idx.contentType = "text/html; charset=utf-8"
	app.index = idx
	return app
}

func (a *webApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	f, ok := a.files[p]
	switch {
	case ok && p != "index.html":
	case p == "" || p == "index.html" || (path.Ext(p) == "" && !strings.HasPrefix(p, "api/") && p != "ws"):
		f = a.index
	default:
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(f.contentType, "text/html") {
		h.Set("Content-Security-Policy", appCSP)
	}
	if f.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && match == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	_, _ = w.Write(f.body)
}
