package main
import (
 _ "github.com/asynkron/protoactor-go/cluster"
 _ "github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
 _ "github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
 _ "modernc.org/sqlite"
 _ "github.com/jackc/pgx/v5/pgxpool"
 _ "github.com/jackc/pgx/v5/stdlib"
 _ "github.com/rs/zerolog"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "golang.org/x/sync/errgroup"
 _ "github.com/google/uuid"
 _ "google.golang.org/protobuf/proto"
)
func main(){}
