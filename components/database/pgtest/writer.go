package pgtest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Writer inserts ids 1, 2, ... into the table ledger (id bigint primary key, port int default the
// server's port), one transaction and one new connection each, through the application's connection
// string (every member named, the writable one selected), as the application would. It records each
// commit it saw acknowledged, and which server took it.
type Writer struct {
	ha    *HA
	retry bool

	mu       sync.Mutex
	acked    []int64
	commits  []Commit
	failures int
	lastErr  error
	stop     chan struct{}
	done     chan struct{}
}

// Commit is one acknowledged commit: when the writer saw it, and the port of the server that took it.
type Commit struct {
	At   time.Time
	Port int
}

// LedgerTable is the table the writer writes.
const LedgerTable = "CREATE TABLE ledger (id bigint PRIMARY KEY, port int NOT NULL DEFAULT current_setting('port')::int)"

// StartWriter starts a writer; with retry, a failed transaction is made again with the same id, as a
// client that retries does, and otherwise the next id is tried.
func StartWriter(ha *HA, retry bool) *Writer {
	w := &Writer{ha: ha, retry: retry, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		conninfo := ha.ConnInfo("read-write")
		for id := int64(1); ; {
			select {
			case <-w.stop:
				return
			default:
			}
			// Idempotent, as a retrying client's writes must be: an attempt whose commit the client did
			// not see acknowledged may have committed all the same.
			out, err := ha.Client(conninfo, fmt.Sprintf(
				"INSERT INTO ledger (id) VALUES (%d) ON CONFLICT (id) DO UPDATE SET port = current_setting('port')::int RETURNING port", id))
			port, perr := strconv.Atoi(out)
			if err == nil && perr != nil {
				err = fmt.Errorf("the insert returned %q, not a port", out)
			}
			w.mu.Lock()
			if err == nil {
				w.acked = append(w.acked, id)
				w.commits = append(w.commits, Commit{At: time.Now(), Port: port})
			} else {
				w.failures++
				w.lastErr = err
			}
			w.mu.Unlock()
			if err == nil || !w.retry {
				id++
			}
			if err != nil {
				time.Sleep(200 * time.Millisecond)
			}
		}
	}()
	return w
}

// Stop stops the writer and waits for it.
func (w *Writer) Stop() { close(w.stop); <-w.done }

// CommitOn waits up to timeout for the first commit after since on a server other than the one on
// port, and returns when the writer saw it.
func (w *Writer) CommitOn(notPort int, since time.Time, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		if at, ok := w.firstOn(notPort, since); ok {
			return at, nil
		}
		if time.Now().After(deadline) {
			w.mu.Lock()
			last := w.lastErr
			w.mu.Unlock()
			return time.Time{}, fmt.Errorf("no commit reached another server than port %d within %s (the last attempt: %v)", notPort, timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *Writer) firstOn(notPort int, since time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.commits {
		if c.Port != notPort && c.At.After(since) {
			return c.At, true
		}
	}
	return time.Time{}, false
}

// Count is how many commits the writer saw.
func (w *Writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.commits)
}

// Acked are the ids whose commits the writer saw, in order.
func (w *Writer) Acked() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int64(nil), w.acked...)
}

// Failures is how many attempts failed.
func (w *Writer) Failures() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failures
}

// Lost are the acknowledged ids the current primary does not have. The ids are taken before the query,
// so a writer still running cannot count a commit acknowledged after the query's snapshot as lost
// (measured: taken after it, two of twelve back-to-back failovers counted such a commit).
func (w *Writer) Lost() ([]int64, error) {
	acked := w.Acked()
	out, err := w.ha.Client(w.ha.ConnInfo("read-write"), "SELECT id FROM ledger ORDER BY id")
	if err != nil {
		return nil, err
	}
	have := map[int64]bool{}
	for _, f := range strings.Fields(out) {
		id, _ := strconv.ParseInt(f, 10, 64)
		have[id] = true
	}
	var lost []int64
	for _, id := range acked {
		if !have[id] {
			lost = append(lost, id)
		}
	}
	return lost, nil
}
