package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fail-over of consumer groups. A group learns that a member died only
// when its session times out (Config.SessionTimeout, 6 s at the least on a
// stock broker), and a rebalance that a dead member was taking part in
// (it had rejoined, or it led the group and never sent the assignment)
// waits for the same timeout. A process that learns sooner that a peer is
// dead (cmd/frontdesk: the cluster membership drops it) removes the peer's
// static members from the groups with Evict, and the group rebalances at
// once.

// Evict removes the static member name (another process's
// Config.InstanceID) from every group this log has subscribed to, so that
// each group gives the member's partitions to the members left without
// waiting for its session to time out. It reports whether name was a
// member of any of them; a name that is in no group is not an error.
//
// Call it only for a process known to be dead or cut off: a live member
// that is evicted finds out at its next heartbeat or commit, rejoins, and
// the records it had not committed are delivered again (to it or to
// another member), as after any rebalance.
func (l *Log) Evict(ctx context.Context, name string) (bool, error) {
	if err := l.checkOpen(); err != nil {
		return false, fmt.Errorf("evict %s: %w", name, err)
	}
	id := instanceID(name)
	if l.cfg.InstanceID != "" && id == instanceID(l.cfg.InstanceID) {
		return false, fmt.Errorf("evict %s: that is this log's own instance id", name)
	}
	l.mu.Lock()
	groups := make([]string, 0, len(l.groups))
	for g := range l.groups {
		groups = append(groups, g)
	}
	l.mu.Unlock()
	slices.Sort(groups)
	var evicted bool
	var errs []error
	for _, g := range groups {
		left, err := l.leaveGroup(ctx, g, id, "evicted by "+l.cfg.InstanceID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if left {
			evicted = true
			l.logger.Warn().Str("group", g).Str("instance_id", id).Msg("removed a dead member from the consumer group; its partitions go to the members left")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return evicted, fmt.Errorf("evict %s: %w", name, err)
	}
	return evicted, nil
}

// leaveGroup removes the static member id from group. left is false when
// id was not a member.
func (l *Log) leaveGroup(ctx context.Context, group, id, reason string) (left bool, err error) {
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = group
	m := kmsg.NewLeaveGroupRequestMember()
	m.InstanceID = &id
	m.Reason = &reason
	req.Members = append(req.Members, m)
	resp, err := req.RequestWith(ctx, l.cl)
	if err != nil {
		return false, fmt.Errorf("leave group %s as %s: %w", group, id, err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		if errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.GroupIDNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("leave group %s as %s: %w", group, id, err)
	}
	for _, rm := range resp.Members {
		switch err := kerr.ErrorForCode(rm.ErrorCode); {
		case err == nil:
			left = true
		case errors.Is(err, kerr.UnknownMemberID):
		default:
			return left, fmt.Errorf("leave group %s as %s: %w", group, id, err)
		}
	}
	return left, nil
}

// GroupInstanceID returns the Kafka group instance id under which a log
// whose Config.InstanceID is name joins its groups (what kafka-consumer-
// groups.sh --describe --members shows): characters outside
// [a-zA-Z0-9._-] become '_', so the cluster address 10.0.0.7:7001 becomes
// 10.0.0.7_7001.
func GroupInstanceID(name string) string { return instanceID(name) }

func instanceID(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, name)
}
