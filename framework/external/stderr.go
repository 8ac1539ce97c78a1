package external

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// stderrLog turns a STDIO plugin server's stderr into log records: one per
// line, on the plugin's logger (the server's JSON logger, with the plugin's
// name), at warn when the line reads as a warning or an error and at info
// otherwise. A line without its newline yet is held until the rest comes,
// or logged as it is once the stream has been quiet for a moment (the last
// words of a process that exits); an overlong line is cut into records of
// maxStderrLine bytes.
type stderrLog struct {
	l     *slog.Logger
	mu    sync.Mutex
	buf   []byte
	timer *time.Timer
}

const (
	maxStderrLine  = 16 << 10
	stderrQuietFor = 200 * time.Millisecond
)

func newStderrLog(l *slog.Logger) *stderrLog { return &stderrLog{l: l} }

func (w *stderrLog) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		switch {
		case i >= 0 && i <= maxStderrLine:
			w.emit(w.buf[:i])
			w.buf = w.buf[i+1:]
			continue
		case len(w.buf) >= maxStderrLine:
			w.emit(w.buf[:maxStderrLine])
			w.buf = w.buf[maxStderrLine:]
			continue
		}
		break
	}
	w.buf = append([]byte(nil), w.buf...) // do not pin what was logged
	if len(w.buf) > 0 {
		if w.timer == nil {
			w.timer = time.AfterFunc(stderrQuietFor, w.flush)
		} else {
			w.timer.Reset(stderrQuietFor)
		}
	}
	return len(b), nil
}

// flush logs a partial line the stream left behind.
func (w *stderrLog) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(w.buf)
		w.buf = nil
	}
}

func (w *stderrLog) emit(line []byte) {
	s := strings.TrimRight(string(line), "\r")
	if strings.TrimSpace(s) == "" {
		return
	}
	level := slog.LevelInfo
	if looksLikeTrouble(s) {
		level = slog.LevelWarn
	}
	w.l.Log(context.Background(), level, "plugin server stderr", "line", s)
}

// troubleWords mark a stderr line as a warning: the level names of Python's
// logging, Node's console and JSON loggers, and tracebacks.
var troubleWords = []string{"warn", "error", "fatal", "critical", "exception", "traceback", "panic"}

func looksLikeTrouble(s string) bool {
	lower := strings.ToLower(s)
	for _, w := range troubleWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}
