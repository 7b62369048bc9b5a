package llmrouter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Streamer is a Backend that can hand over an answer while it is being
// generated. Stream calls onDelta, from the calling goroutine, with each
// piece as it arrives and returns the same assembled Response that Complete
// would. Once onDelta has been called the answer is committed: a failure
// after that is returned (wrapping ErrBackendUnavailable) and never retried
// or answered by another backend.
type Streamer interface {
	Backend
	Stream(ctx context.Context, req Request, onDelta func(Delta)) (Response, error)
}

// Delta is one piece of a streamed answer.
type Delta struct {
	// Content is the next piece of the assistant's text.
	Content string
	// ToolCalls are pieces of tool calls.
	ToolCalls []ToolCallDelta
}

// ToolCallDelta is a piece of one tool call. Index says which call of the
// answer it belongs to; ID and Name come with the first piece of a call;
// Arguments is the next piece of its argument text.
type ToolCallDelta struct {
	Index     int
	ID        string
	Name      string
	Arguments string
}

// empty reports whether d carries nothing.
func (d Delta) empty() bool { return d.Content == "" && len(d.ToolCalls) == 0 }

// wholeDelta returns a complete answer as one Delta, for backends that do
// not stream.
func wholeDelta(m Message) Delta {
	d := Delta{Content: m.Content}
	for i, c := range m.ToolCalls {
		d.ToolCalls = append(d.ToolCalls, ToolCallDelta{Index: i, ID: c.ID, Name: c.Name, Arguments: string(c.Arguments)})
	}
	return d
}

// errStreamBroken marks a stream that failed after a delta reached the
// caller: the attempt cannot be repeated.
var errStreamBroken = errors.New("stream broken after output was delivered")

// Bounds on what an assembler accepts from a stream.
const (
	maxStreamToolCalls = 64
	maxToolCallIndex   = 1023
)

// assembler builds a Response from the pieces of a stream.
type assembler struct {
	content strings.Builder
	calls   map[int]*partialCall
	last    int // index of the call the latest piece belonged to; -1 before any
	finish  string
	usage   *Usage
	model   string
	size    int
}

type partialCall struct {
	id, name string
	args     strings.Builder
}

func newAssembler() *assembler { return &assembler{calls: map[int]*partialCall{}, last: -1} }

// add takes one piece; index -1 on a tool-call piece means the server sent
// none: the piece opens a new call when it carries an id not seen yet,
// and continues the latest call otherwise. It returns the piece with
// indexes resolved.
func (a *assembler) add(d Delta) (Delta, error) {
	a.content.WriteString(d.Content)
	a.size += len(d.Content)
	for i := range d.ToolCalls {
		tc := &d.ToolCalls[i]
		if tc.Index < 0 {
			tc.Index = a.resolve(tc.ID)
		}
		if tc.Index > maxToolCallIndex {
			return Delta{}, fmt.Errorf("%w: tool call index %d", errMalformed, tc.Index)
		}
		pc := a.calls[tc.Index]
		if pc == nil {
			if len(a.calls) == maxStreamToolCalls {
				return Delta{}, fmt.Errorf("%w: more than %d tool calls", errMalformed, maxStreamToolCalls)
			}
			pc = &partialCall{}
			a.calls[tc.Index] = pc
		}
		if tc.ID != "" {
			pc.id = tc.ID
		}
		if pc.name == "" {
			// Some servers repeat the name on every piece: the first counts.
			pc.name = tc.Name
		}
		pc.args.WriteString(tc.Arguments)
		a.size += len(tc.Arguments) + len(tc.Name) + len(tc.ID)
		a.last = tc.Index
	}
	if a.size > maxResponseBody {
		return Delta{}, fmt.Errorf("%w: answer exceeds %d bytes", errMalformed, maxResponseBody)
	}
	return d, nil
}

func (a *assembler) resolve(id string) int {
	if a.last >= 0 && (id == "" || a.calls[a.last].id == "" || a.calls[a.last].id == id) {
		return a.last
	}
	if id != "" {
		for i, c := range a.calls {
			if c.id == id {
				return i
			}
		}
	}
	next := 0
	for i := range a.calls {
		next = max(next, i+1)
	}
	return next
}

// response returns the assembled answer. Tool calls come in index order; a
// call without an id gets "call_<position>"; one without a name makes the
// answer malformed.
func (a *assembler) response() (Response, error) {
	resp := Response{Model: a.model, FinishReason: a.finish, Message: Message{Role: RoleAssistant, Content: a.content.String()}}
	if a.usage != nil {
		resp.Usage = *a.usage
	}
	idx := make([]int, 0, len(a.calls))
	for i := range a.calls {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	for pos, i := range idx {
		c := a.calls[i]
		if c.name == "" {
			return Response{}, fmt.Errorf("%w: tool call %d has no function name", errMalformed, i)
		}
		id := c.id
		if id == "" {
			id = "call_" + strconv.Itoa(pos)
		}
		var args json.RawMessage
		if c.args.Len() > 0 {
			args = json.RawMessage(c.args.String())
		}
		resp.Message.ToolCalls = append(resp.Message.ToolCalls, ToolCall{ID: id, Name: c.name, Arguments: args})
	}
	if resp.FinishReason == "" {
		resp.FinishReason = FinishStop
		if len(resp.Message.ToolCalls) > 0 {
			resp.FinishReason = FinishToolCalls
		}
	}
	return resp, nil
}
