package dashboard

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func testApp() http.Handler {
	return newWebApp(fstest.MapFS{
		"index.html":           {Data: []byte(`<!doctype html><div id="root"></div>`)},
		"assets/index-abc.js":  {Data: []byte(`console.log(1)`)},
		"assets/index-abc.css": {Data: []byte(`body{}`)},
		"favicon.svg":          {Data: []byte(`<svg/>`)},
	})
}

func TestWebApp(t *testing.T) {
	app := testApp()
	tests := []struct {
		name, method, path string
		code               int
		ctype, cache, body string
	}{
		{"root is index", "GET", "/", 200, "text/html; charset=utf-8", "no-cache", `id="root"`},
		{"index.html", "GET", "/index.html", 200, "text/html; charset=utf-8", "no-cache", `id="root"`},
		{"client route falls back", "GET", "/inbox/conv_123", 200, "text/html; charset=utf-8", "no-cache", `id="root"`},
		{"hashed js is immutable", "GET", "/assets/index-abc.js", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", "console.log"},
		{"css", "GET", "/assets/index-abc.css", 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body"},
		{"other file revalidates", "GET", "/favicon.svg", 200, "image/svg+xml", "no-cache", "<svg/>"},
		{"missing asset is 404", "GET", "/assets/gone.js", 404, "", "", ""},
		{"api paths never get the app", "GET", "/api/v1/nothing", 404, "", "", ""},
		{"dot-dot stays inside", "GET", "/assets/../index.html", 200, "text/html; charset=utf-8", "no-cache", `id="root"`},
		{"head", "HEAD", "/", 200, "text/html; charset=utf-8", "no-cache", ""},
		{"post refused", "POST", "/", 405, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			app.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.code {
				t.Fatalf("code = %d, want %d", rec.Code, tt.code)
			}
			if tt.ctype != "" && rec.Header().Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", rec.Header().Get("Content-Type"), tt.ctype)
			}
			if tt.cache != "" && rec.Header().Get("Cache-Control") != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", rec.Header().Get("Cache-Control"), tt.cache)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), tt.body)
			}
			// The HTML carries the app's full policy; other files none of
			// their own (the server's default policy applies).
			wantCSP := ""
			if tt.code == 200 && strings.HasPrefix(tt.ctype, "text/html") {
				wantCSP = appCSP
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != wantCSP {
				t.Errorf("Content-Security-Policy = %q, want %q", got, wantCSP)
			}
		})
	}
}

func TestWebAppETag(t *testing.T) {
	app := testApp()
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("code = %d, want 304", rec.Code)
	}
}

// TestWebAppEmbedded checks the committed build: index.html and at least one
// hashed script, which index.html references and the handler serves.
func TestWebAppEmbedded(t *testing.T) {
	sub, err := fs.Sub(webDist, "web/dist")
	if err != nil {
		t.Fatal(err)
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		t.Fatalf("web/dist/index.html missing: run `npm ci && npm run build` in dashboard/web: %v", err)
	}
	assets, _ := fs.Glob(sub, "assets/*.js")
	if len(assets) == 0 {
		t.Fatal("no built script under web/dist/assets")
	}
	app := WebApp()
	for _, a := range assets {
		if !strings.Contains(string(index), "/"+a) {
			t.Errorf("index.html does not reference %s (stale build?)", a)
		}
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest("GET", "/"+a, nil))
		if rec.Code != 200 || !strings.Contains(rec.Header().Get("Content-Type"), "javascript") {
			t.Errorf("GET /%s: %d %s", a, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest("GET", "/inbox", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `id="root"`) {
		t.Errorf("GET /inbox: %d", rec.Code)
	}
}
