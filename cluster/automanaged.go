package cluster

import (
	"fmt"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
)

// AutoManagePortOffset is added to a member's cluster port to get the port
// of its automanaged health endpoint, which peers poll for membership.
const AutoManagePortOffset = 1000

// automanagedProvider builds the static-peer provider: each member serves a
// health endpoint on its cluster port + AutoManagePortOffset and polls the
// others'.
func automanagedProvider(cfg Config) (pcluster.ClusterProvider, error) {
	_, port, err := splitHostPort(cfg.Addr)
	if err != nil {
		return nil, err
	}
	hosts := make([]string, 0, len(cfg.Peers))
	for _, p := range cfg.Peers {
		h, pp, err := splitHostPort(p)
		if err != nil {
			return nil, err
		}
		hosts = append(hosts, fmt.Sprintf("%s:%d", h, pp+AutoManagePortOffset))
	}
	return automanaged.NewWithConfig(time.Second, port+AutoManagePortOffset, hosts...), nil
}
