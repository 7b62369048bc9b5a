package service

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// eventWriter writes server-sent events, each flushed at once. The answer's
// headers (200, text/event-stream) go out with the first event, so a
// failure before it can still be answered with an error status.
type eventWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func newEventWriter(w http.ResponseWriter) *eventWriter {
	return &eventWriter{w: w, rc: http.NewResponseController(w)}
}

func (e *eventWriter) start() {
	if e.started {
		return
	}
	e.started = true
	h := e.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	e.w.WriteHeader(http.StatusOK)
}

// event writes one event named name (no event line when empty) whose data
// is v as JSON.
func (e *eventWriter) event(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", name, err)
	}
	return e.raw(name, data)
}

// raw writes one event with data as is.
func (e *eventWriter) raw(name string, data []byte) error {
	e.start()
	if name != "" {
		if _, err := fmt.Fprintf(e.w, "event: %s\n", name); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(e.w, "data: %s\n\n", data); err != nil {
		return err
	}
	return e.rc.Flush()
}
