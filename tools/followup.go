package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ScheduleFollowup is the name of the follow-up tool.
const ScheduleFollowup = "schedule_followup"

// maxFollowUp is how far ahead a follow-up may be scheduled.
const maxFollowUp = 90 * 24 * time.Hour

// Scheduler saves a conversation's follow-up as a durable reminder (the
// conversation grain fires it once, at its time, whatever happened
// between).
type Scheduler interface {
	ScheduleFollowUp(ctx context.Context, s Scope, at time.Time, note, key string) error
}

// SetScheduler enables schedule_followup.
func (r *Registry) SetScheduler(s Scheduler) { r.scheduler = s }

func followUpTools() []*tool {
	return []*tool{{
		def: Definition{
			Name: ScheduleFollowup,
			Description: "Schedule a follow-up with the customer in this conversation: at that time you will be asked to write to them about the note " +
				"(within 24 hours of their last message; later, a person takes it up). Give either at or in.",
			Parameters: json.RawMessage(`{"type":"object","properties":{
				"at":{"type":"string","format":"date-time","description":"When, RFC 3339 (2026-12-24T09:00:00Z)."},
				"in":{"type":"string","pattern":"^\\s*[0-9]+(\\.[0-9]+)?\\s*(s|m|h|d)\\s*$","description":"How long from now: 30m, 2h, 3d."},
				"note":{"type":"string","minLength":1,"maxLength":500,"description":"What to follow up on."}
			},"required":["note"],"additionalProperties":false}`),
		},
		outside: scheduleFollowUp,
	}}
}

func scheduleFollowUp(ctx context.Context, r *Registry, s Scope, args map[string]any, key string) (any, *Ask, error) {
	refuse := func(why string) (any, *Ask, error) { return map[string]any{"scheduled": false, "note": why}, nil, nil }
	if r.scheduler == nil {
		return refuse("Follow-ups are not available here.")
	}
	at, in := str(args, "at"), str(args, "in")
	now := r.now()
	var due time.Time
	switch {
	case (at == "") == (in == ""):
		return refuse("Give exactly one of at (a time) or in (a duration such as 2h or 3d).")
	case at != "":
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return refuse("at is not an RFC 3339 time: " + at)
		}
		due = t
	default:
		d, err := parseIn(in)
		if err != nil {
			return refuse(err.Error())
		}
		due = now.Add(d)
	}
	switch {
	case !due.After(now):
		return refuse("That time has passed.")
	case due.Sub(now) > maxFollowUp:
		return refuse("A follow-up can be at most 90 days ahead.")
	}
	if err := r.scheduler.ScheduleFollowUp(ctx, s, due, str(args, "note"), key); err != nil {
		return nil, nil, fmt.Errorf("schedule: %w", err)
	}
	return map[string]any{"scheduled": true, "at": due.UTC().Format(time.RFC3339)}, nil, nil
}

// parseIn reads a duration of seconds, minutes, hours or days ("3d").
func parseIn(in string) (time.Duration, error) {
	s := strings.TrimSpace(in)
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[s[len(s)-1]]
	n, err := strconv.ParseFloat(strings.TrimSpace(s[:len(s)-1]), 64)
	if unit == 0 || err != nil || n <= 0 {
		return 0, fmt.Errorf("in is not a duration such as 30m, 2h or 3d: %q", in)
	}
	return time.Duration(n * float64(unit)), nil
}
