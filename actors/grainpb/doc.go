// Package grainpb holds the protobuf messages sent to conversation and
// customer grains (generated from grain.proto by `make gen`).
package grainpb
