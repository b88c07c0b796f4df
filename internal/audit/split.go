package audit

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/hipaa-platform/platform/policy/engine"
)

// The reader of a preview file works in three stages, so that decoding, the bulk of the work, runs on
// every core: one goroutine splits the array into the bytes of each resource, tracking only strings and
// brackets; workers decode runs of resources; and the caller receives the runs in the file's order.
// Anything the splitter does not expect (a resource that is not an object, junk between resources, the
// end of the input, a resource past MaxResourceBytes) is handed, from the start of that resource, to
// the sequential decoder, which either reads it or says exactly what is wrong and where.

// runBytes is about how much of the file one run of resources holds: big enough that handing a run
// between goroutines costs little beside decoding it.
const runBytes = 256 << 10

// run is a run of consecutive resources: the bytes of each, decoded by a worker into out.
//
// The resources' bytes are copied once, into text, and raws are views of it, without a copy each. Once
// the run is decoded, text goes back to the splitter for a later run (release), so that reading a file
// allocates a few buffers rather than a copy of the file: the decoder makes everything it keeps its own
// (own, and the text caches' copies), and nothing decoded refers to text.
type run struct {
	index  int // of the first resource in the file
	text   []byte
	starts []int    // where each resource starts in text
	raws   []string // each resource's text
	bases  []int64  // the file offset of each resource
	out    []*engine.Resource
	err    error
	done   chan struct{}
}

// view makes raws views of text, one per resource. text is not written again until the run gives it
// back.
func (r *run) view() {
	all := unsafe.String(unsafe.SliceData(r.text), len(r.text))
	r.raws = make([]string, len(r.starts))
	for i, start := range r.starts {
		end := len(all)
		if i+1 < len(r.starts) {
			end = r.starts[i+1]
		}
		r.raws[i] = all[start:end]
	}
}

// release gives the run's buffer back to free, for a later run, once the run is decoded.
func (r *run) release(free chan<- []byte) {
	if r.text == nil {
		return
	}
	released(r.text)
	r.raws = nil
	select {
	case free <- r.text:
	default:
	}
	r.text = nil
}

// released sees each buffer a run gives back; tests overwrite it, to show that nothing decoded refers to
// it.
var released = func([]byte) {}

// own gives r strings of its own where the fast decoder made them parts of the resource's text, a view
// of a run's buffer: its URN, type, name and parent and the URNs of its dependencies, copied into one
// allocation. The properties that name dependencies are copies already (fast.propertyDependencies), and
// its inputs and options are the text caches' own copies.
func own(r *engine.Resource) {
	n := len(r.URN) + len(r.Type) + len(r.Name) + len(r.Parent)
	for _, d := range r.Dependencies {
		n += len(d)
	}
	for _, ds := range r.PropertyDependencies {
		for _, d := range ds {
			n += len(d)
		}
	}
	var b strings.Builder
	b.Grow(n)
	// Each string is written to b and replaced, once b holds them all, by its part of b's one string.
	var buf [32]*string
	fields := buf[:0]
	keep := func(s *string) {
		b.WriteString(*s)
		fields = append(fields, s)
	}
	keep(&r.URN)
	keep(&r.Type)
	keep(&r.Name)
	keep(&r.Parent)
	for i := range r.Dependencies {
		keep(&r.Dependencies[i])
	}
	for _, ds := range r.PropertyDependencies {
		for i := range ds {
			keep(&ds[i])
		}
	}
	all, at := b.String(), 0
	for _, s := range fields {
		n := len(*s)
		*s, at = all[at:at+n], at+n
	}
}

// split reads the array from br, whose first byte is at file offset base, and hands each run of
// resources to each in order.
func split(br io.Reader, base int64, workers int, each func([]*engine.Resource) error) error {
	work := make(chan *run, workers)
	ordered := make(chan *run, 2*workers)
	stop := make(chan struct{})
	// The runs' buffers: as many as can be in flight (queued for a worker, decoding, or queued in order)
	// are kept for use again.
	free := make(chan []byte, 3*workers+2)
	cache := newTextCache()
	for range workers {
		go func() {
			dec := jsontext.NewDecoder(strings.NewReader(""))
			for r := range work {
				r.decode(dec, cache, free)
			}
		}()
	}
	go func() {
		defer close(ordered)
		defer close(work)
		s := &splitter{r: br, off: base, buf: make([]byte, 0, 1<<20), free: free}
		s.runs(func(r *run) bool {
			if r.done == nil {
				r.done = make(chan struct{})
				select {
				case work <- r:
				case <-stop:
					return false
				}
			}
			select {
			case ordered <- r:
				return true
			case <-stop:
				return false
			}
		})
	}()
	defer func() {
		close(stop)
		for r := range ordered { // let the splitter and the workers finish
			<-r.done
		}
	}()
	for r := range ordered {
		<-r.done
		if len(r.out) > 0 {
			if err := each(r.out); err != nil {
				return &eachError{err}
			}
		}
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

// decode decodes the run's resources, stopping at the first that is malformed, and gives its buffer
// back to free; cache holds the inputs and options decoded before.
func (r *run) decode(dec *jsontext.Decoder, cache *textCache, free chan<- []byte) {
	defer close(r.done)
	defer r.release(free)
	r.out = make([]*engine.Resource, 0, len(r.raws))
	for i, raw := range r.raws {
		res, ok := fastResource(raw, cache)
		var err error
		if ok {
			own(res)
		} else {
			raw = strings.Clone(raw) // the token decoder's strings are parts of the text it reads
			dec.Reset(strings.NewReader(raw))
			d := &jsonReader{dec: dec, src: raw}
			res, err = d.resource()
		}
		if err == nil {
			err = complete(res, r.index+i)
		}
		if err != nil {
			r.err = shift(err, r.bases[i])
			return
		}
		r.out = append(r.out, res)
	}
}

// shift moves the offset an error names from its resource's start to the file's.
func shift(err error, base int64) error {
	var syn *jsontext.SyntacticError
	var at *atError
	switch {
	case errors.As(err, &syn):
		syn.ByteOffset += base
	case errors.As(err, &at):
		at.offset += base
	}
	return err
}

// splitter finds where each resource of the array begins and ends.
type splitter struct {
	r io.Reader
	// buf[pos:] is read and not yet scanned; buf[0] is at file offset off.
	buf []byte
	pos int
	off int64
	eof bool
	// count is how many resources have been split off.
	count int
	// free holds buffers that decoded runs gave back.
	free <-chan []byte
}

// buffer is a buffer for a run's text: one a decoded run gave back, or a new one.
func (s *splitter) buffer() []byte {
	select {
	case b := <-s.free:
		return b[:0]
	default:
		return make([]byte, 0, runBytes+runBytes/4)
	}
}

// more reads more of the input into buf, growing it when full, and reports whether anything was read.
func (s *splitter) more() bool {
	if s.eof {
		return false
	}
	if len(s.buf) == cap(s.buf) {
		s.buf = append(s.buf, 0)[:len(s.buf)]
	}
	n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if err != nil {
		s.eof = true
	}
	return n > 0 || !s.eof
}

// runs hands emit each run of resources, and ends with a run the sequential decoder read (and the
// error it found) when the input is not what the splitter expects. It stops when emit returns false.
func (s *splitter) runs(emit func(*run) bool) {
	cur := &run{}
	flush := func() bool {
		if len(cur.starts) == 0 {
			return true
		}
		cur.view()
		ok := emit(cur)
		cur = &run{index: s.count}
		return ok
	}
	// mark is where the sequential decoder would take over: at the ',' before the current resource, or
	// just past the '[' before the first.
	mark := 0
	c, ok := s.peek(&mark)
	if !ok || c != '[' {
		flush()
		emit(s.sequential(mark, atStart))
		return
	}
	s.pos++
	mark = s.pos
	for first := true; ; first = false {
		c, ok := s.peek(&mark)
		if ok && c == ']' && first {
			flush()
			return
		}
		if !ok || c != '{' {
			break
		}
		start := s.pos
		if !s.object(&mark, &start) {
			break
		}
		end := s.pos
		c, ok = s.peek(&mark, &start, &end)
		if !ok || (c != ',' && c != ']') {
			break
		}
		if cur.text == nil {
			cur.text = s.buffer()
		}
		cur.starts = append(cur.starts, len(cur.text))
		cur.text = append(cur.text, s.buf[start:end]...)
		cur.bases = append(cur.bases, s.off+int64(start))
		s.count++
		if c == ']' {
			s.pos++
			flush()
			return
		}
		mark = s.pos
		s.pos++
		if len(cur.text) >= runBytes && !flush() {
			return
		}
	}
	if flush() {
		where := inArray
		if s.count > 0 {
			where = afterResource
		}
		emit(s.sequential(mark, where))
	}
}

// Where the sequential decoder takes over from the splitter.
const (
	atStart       = iota // at the start of the document
	inArray              // just past the array's '['
	afterResource        // at the ',' after a resource
)

// peek skips white space and returns the next byte, reading more as needed; marks are positions in buf
// to keep, moved with it. ok is false at the end of the input, or past MaxResourceBytes from the first
// mark.
func (s *splitter) peek(marks ...*int) (byte, bool) {
	for {
		for s.pos < len(s.buf) {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\r', '\n':
				s.pos++
			default:
				return c, true
			}
		}
		if !s.refill(marks) {
			return 0, false
		}
	}
}

// refill reads more, keeping buf from the first mark on, which moves to the start of buf with every
// mark; false at the end of the input, or when what is kept is more than MaxResourceBytes.
func (s *splitter) refill(marks []*int) bool {
	keep := *marks[0]
	if len(s.buf)-keep > MaxResourceBytes {
		return false
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:])
		s.buf = s.buf[:n]
		s.pos -= keep
		s.off += int64(keep)
		for _, m := range marks {
			*m -= keep
		}
	}
	return s.more()
}

// object moves past the object starting at pos: its brackets balanced, its strings skipped whole. It
// does not check the object's syntax; the worker that decodes it does.
func (s *splitter) object(marks ...*int) bool {
	depth := 0
	for {
		for s.pos < len(s.buf) {
			switch s.buf[s.pos] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.pos++
					return true
				}
			case '"':
				if !s.str(marks) {
					return false
				}
				continue
			}
			s.pos++
		}
		if !s.refill(marks) {
			return false
		}
	}
}

// str moves past the string whose opening quote is at pos.
func (s *splitter) str(marks []*int) bool {
	from := s.pos + 1
	for {
		i := bytes.IndexByte(s.buf[from:], '"')
		if i < 0 {
			from = len(s.buf)
			before := s.pos
			if !s.refill(marks) {
				return false
			}
			from -= before - s.pos
			continue
		}
		q := from + i
		// A quote after an odd number of backslashes is part of the string.
		n := 0
		for j := q - 1; j > s.pos && s.buf[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			s.pos = q + 1
			return true
		}
		from = q + 1
	}
}

// sequential decodes the rest of the input from mark with the sequential decoder: it reads what the
// splitter could not, or finds what is wrong with it. where says where mark is, so that the decoder
// reads the rest in the state the document is in there.
func (s *splitter) sequential(mark, where int) *run {
	rest := io.MultiReader(bytes.NewReader(s.buf[mark:]), s.r)
	base, index0 := s.off+int64(mark), s.count
	// Before the rest, what puts the decoder where the document is: inside the array, or past a
	// resource, which is a stand-in and left out of what it read.
	prefix := map[int]string{inArray: "[", afterResource: `[{"urn":"-","type":"-"}`}[where]
	if prefix != "" {
		rest, base = io.MultiReader(strings.NewReader(prefix), rest), base-int64(len(prefix))
	}
	if where == afterResource {
		index0--
	}
	win := &window{r: rest}
	d := &jsonReader{dec: jsontext.NewDecoder(win), win: win, index0: index0, interned: map[string]string{}}
	out, err := d.resources()
	if where == afterResource && len(out) > 0 {
		out = out[1:]
	}
	r := &run{index: s.count, out: out, done: make(chan struct{})}
	close(r.done)
	switch {
	case errors.Is(err, errTooLarge):
		r.err = tooLarge(index0 + len(d.read))
	case err != nil:
		r.err = shift(err, base)
	}
	return r
}
