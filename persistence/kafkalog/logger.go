package kafkalog

import (
	"fmt"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kgoLogger writes franz-go's log lines to zerolog one level lower than
// franz-go rates them: its info lines (connections, joins) are debug here,
// its warnings and errors stay what they are.
type kgoLogger struct{ z zerolog.Logger }

func (k kgoLogger) Level() kgo.LogLevel {
	switch k.z.GetLevel() {
	case zerolog.TraceLevel:
		return kgo.LogLevelDebug
	case zerolog.DebugLevel:
		return kgo.LogLevelInfo
	case zerolog.InfoLevel, zerolog.WarnLevel:
		return kgo.LogLevelWarn
	case zerolog.ErrorLevel:
		return kgo.LogLevelError
	default:
		return kgo.LogLevelNone
	}
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	var lvl zerolog.Level
	switch level {
	case kgo.LogLevelError:
		lvl = zerolog.ErrorLevel
	case kgo.LogLevelWarn:
		lvl = zerolog.WarnLevel
	case kgo.LogLevelInfo:
		lvl = zerolog.DebugLevel
	case kgo.LogLevelDebug:
		lvl = zerolog.TraceLevel
	default:
		return
	}
	ev := k.z.WithLevel(lvl)
	for i := 0; i+1 < len(keyvals); i += 2 {
		key := fmt.Sprint(keyvals[i])
		if err, ok := keyvals[i+1].(error); ok {
			ev = ev.AnErr(key, err)
		} else {
			ev = ev.Interface(key, keyvals[i+1])
		}
	}
	ev.Msg(msg)
}
