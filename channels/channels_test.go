package channels_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/frontdesk-ai/frontdesk/channels"
	"github.com/frontdesk-ai/frontdesk/channels/whatsapp"
)

func TestChannelSet(t *testing.T) {
	wa := whatsapp.NewChannel(whatsapp.ChannelConfig{}, nil, nil)
	q := &quiet{}
	set, err := channels.NewSet(wa, q)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := set.Get("whatsapp"); !ok || got != channels.Channel(wa) {
		t.Errorf("Get(whatsapp) = %v, %v", got, ok)
	}
	if _, ok := set.Get("telegraph"); ok {
		t.Error("Get found a channel that is not in the set")
	}
	if got := set.Names(); !reflect.DeepEqual(got, []string{"quiet", "whatsapp"}) {
		t.Errorf("Names = %v", got)
	}
	if _, err := channels.NewSet(wa, whatsapp.NewChannel(whatsapp.ChannelConfig{}, nil, nil)); err == nil {
		t.Error("a set took two channels of one name")
	}
	var none *channels.Set
	if _, ok := none.Get("whatsapp"); ok || none.Names() != nil {
		t.Error("a nil set is not empty")
	}
}

func TestChannelDisplayName(t *testing.T) {
	for name, want := range map[string]string{"whatsapp": "WhatsApp", "sms": "SMS", "webchat": "Web chat", "messenger": "Messenger", "line": "Line", "": ""} {
		if got := channels.DisplayName(name); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", name, got, want)
		}
	}
}

type reasoned struct{}

func (reasoned) Error() string  { return "graph api: http 400 code 131047: long text fbtrace_id=x" }
func (reasoned) Reason() string { return "131047 Re-engagement message" }

func TestChannelReason(t *testing.T) {
	if got := channels.Reason(fmt.Errorf("send: %w", reasoned{})); got != "131047 Re-engagement message" {
		t.Errorf("wrapped Reasoner: %q", got)
	}
	if got := channels.Reason(errors.New("plain")); got != "plain" {
		t.Errorf("plain error: %q", got)
	}
}
