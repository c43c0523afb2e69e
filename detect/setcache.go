package detect

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"slices"
	"unsafe"
)

// The literal sets a route builds (literalSetBuilder.build) are most of
// what a short run such as `vigil scan` spends before it matches: the
// process_creation sets alone take a few hundred milliseconds. A set
// depends only on the patterns of its atoms and the ids of their values,
// which the same rules compile to again, so a set built once can be kept
// (AppendSets) and handed to the next engine of the same rules (UseSets),
// which takes it as it is, in place: its tables alias the bytes given, a
// file's read-only mapping, of which a scan touches the rows it visits.
//
// The layout: setsMagic, the engine's fingerprint (setsFingerprint), the
// number of sets, then each set as its key (setKey), its length and
// CRC-32 (Castagnoli), and its body at an offset a multiple of eight. A
// body is a sequence of fields, each slice as its length and its elements
// in the machine's own layout, again at a multiple of eight: what a set
// holds is used without decoding. The fingerprint names the machine's
// layout too, so a file from another one is refused, never misread.

var setsMagic = []byte("vigil literal sets\x01\x00\x00\x00\x00\x00")

// setsLayout is part of the fingerprint: bump it when a literal set's
// structures, or what builds them, change.
const setsLayout = 1

// storedSet is a set of the bytes given to UseSets, not taken yet.
type storedSet struct {
	body []byte
	sum  uint32
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// setsFingerprint names what the engine's sets are built from: the
// literal atoms (kind, field, first value id, every pattern) and the
// layout, the DFA bound and the machine's sizes and byte order.
func (e *Engine) setsFingerprint() []byte {
	h := sha256.New()
	var b []byte
	var order [4]byte
	binary.NativeEndian.PutUint32(order[:], 0x01020304)
	b = append(b, order[:]...)
	for _, n := range []int{setsLayout, maxDFA, int(unsafe.Sizeof(tnode{})), int(unsafe.Sizeof(tedge{})), int(unsafe.Sizeof(int(0))), len(e.atoms), len(e.fast.vals)} {
		b = binary.AppendVarint(b, int64(n))
	}
	for i := range e.atoms {
		k := e.fast.kind[i]
		if k == slowAtom {
			continue
		}
		a := &e.atoms[i]
		b = binary.AppendUvarint(b, uint64(i))
		b = append(b, byte(k))
		b = binary.AppendVarint(b, int64(a.field))
		b = binary.AppendVarint(b, int64(e.fast.valAt[i]))
		b = binary.AppendUvarint(b, uint64(len(a.values)))
		for j := range a.values {
			b = binary.AppendUvarint(b, uint64(len(a.values[j].pats)))
			for k := range a.values[j].pats {
				p := &a.values[j].pats[k]
				b = append(b, byte(p.kind))
				b = binary.AppendUvarint(b, uint64(len(p.lit)))
				b = append(b, p.lit...)
			}
		}
		if len(b) > 64<<10 {
			h.Write(b)
			b = b[:0]
		}
	}
	h.Write(b)
	return h.Sum(nil)
}

// UseSets hands the engine the literal sets that AppendSets of an engine
// compiled from the same rules wrote: a route whose set is among them
// takes it instead of building it. The sets alias data, which must stay
// unchanged as long as the engine is used (a read-only mapping of a file
// will do). A set whose bytes are damaged is built as without them. It
// reports false, and the engine builds every set, when data is not such a
// file or was written for other rules. Call it before the engine matches.
func (e *Engine) UseSets(data []byte) bool {
	if uintptr(unsafe.Pointer(unsafe.SliceData(data)))%8 != 0 {
		// The tables are used in place, which needs their alignment.
		buf := make([]uint64, (len(data)+7)/8)
		b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(buf))), len(data))
		copy(b, data)
		data = b
	}
	r := setReader{data: data}
	if !bytes.Equal(r.bytes(len(setsMagic)), setsMagic) || !bytes.Equal(r.bytes(sha256.Size), e.setsFingerprint()) {
		return false
	}
	n := r.u64()
	if r.err != nil || n > uint64(len(data)) {
		return false
	}
	stored := make(map[string]storedSet, n)
	for range n {
		key := r.bytes(int(r.u64()))
		size, sum := r.u64(), uint32(r.u64())
		r.align()
		body := r.bytes(int(size))
		if r.err != nil {
			return false
		}
		stored[string(key)] = storedSet{body: body, sum: sum}
	}
	if r.off != len(data) {
		return false
	}
	e.routes.mu.Lock()
	e.fast.stored = stored
	e.routes.mu.Unlock()
	return true
}

// SetsBuilt reports how many literal sets the engine's routes built so
// far, not counting those taken from UseSets: whether AppendSets would
// write anything new.
func (e *Engine) SetsBuilt() int {
	e.routes.mu.Lock()
	defer e.routes.mu.Unlock()
	return e.fast.built
}

// AppendSets appends to dst the literal sets the engine's routes built or
// took so far, and those UseSets gave that no route took, for UseSets of
// a later engine of the same rules.
func (e *Engine) AppendSets(dst []byte) []byte {
	w := appendWriter{b: dst}
	e.WriteSets(&w) //nolint:errcheck // appending does not fail
	return w.b
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// WriteSets writes to w what AppendSets appends, set by set: the sets of
// the Windows corpus' routes are tens of megabytes, which a file is better
// given as they are made than gathered first in one growing buffer (a
// copy of everything at each doubling, and the memory to fault in).
func (e *Engine) WriteSets(w io.Writer) error {
	e.routes.mu.Lock()
	defer e.routes.mu.Unlock()
	keys := make([]string, 0, len(e.fast.sets)+len(e.fast.stored))
	for k := range e.fast.sets {
		keys = append(keys, k)
	}
	for k := range e.fast.stored {
		if _, ok := e.fast.sets[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, cmpString)
	hw := setWriter{}
	hw.b = append(hw.b, setsMagic...)
	hw.b = append(hw.b, e.setsFingerprint()...)
	hw.u64(uint64(len(keys)))
	off := 0
	var body []byte // reused from set to set
	for _, k := range keys {
		var sum uint32
		if ls, ok := e.fast.sets[k]; ok {
			body = appendSet(body[:0], ls)
			sum = crc32.Checksum(body, castagnoli)
		} else {
			s := e.fast.stored[k]
			body, sum = s.body, s.sum
		}
		hw.u64(uint64(len(k)))
		hw.b = append(hw.b, k...)
		hw.u64(uint64(len(body)))
		hw.u64(uint64(sum))
		for (off+len(hw.b))%8 != 0 {
			hw.b = append(hw.b, 0)
		}
		if _, err := w.Write(hw.b); err != nil {
			return err
		}
		if _, err := w.Write(body); err != nil {
			return err
		}
		off += len(hw.b) + len(body)
		hw.b = hw.b[:0]
		if _, ok := e.fast.sets[k]; !ok {
			body = nil // a stored body is not ours to reuse
		}
	}
	if len(hw.b) > 0 {
		_, err := w.Write(hw.b)
		return err
	}
	return nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// takeStored returns the set of key from the bytes UseSets gave, or nil
// when there is none or it is damaged. The router's lock is held.
func (e *Engine) takeStored(key string) *literalSet {
	s, ok := e.fast.stored[key]
	if !ok {
		return nil
	}
	delete(e.fast.stored, key)
	if crc32.Checksum(s.body, castagnoli) != s.sum {
		return nil
	}
	ls, err := readSet(s.body)
	if err != nil {
		return nil
	}
	return ls
}

// setWriter appends fields; slices start at a multiple of eight from the
// start of the body (bodies themselves start at one).
type setWriter struct{ b []byte }

func (w *setWriter) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }

func (w *setWriter) alignFrom(base int) {
	for (len(w.b)-base)%8 != 0 {
		w.b = append(w.b, 0)
	}
}

func writeSlice[T any](w *setWriter, s []T) {
	w.u64(uint64(len(s)))
	var z T
	w.b = append(w.b, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(z)))...)
	w.alignFrom(0)
}

type setReader struct {
	data []byte
	off  int
	err  error
}

var errSetBytes = errors.New("literal set bytes cut or damaged")

func (r *setReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.data)-r.off {
		r.err = errSetBytes
		return nil
	}
	b := r.data[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

func (r *setReader) u64() uint64 {
	b := r.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (r *setReader) align() {
	if pad := (8 - r.off%8) % 8; pad > 0 {
		r.bytes(pad)
	}
}

// readSlice returns the next slice, aliasing the reader's bytes (which
// start at a multiple of eight).
func readSlice[T any](r *setReader) []T {
	n := r.u64()
	var z T
	size := int(unsafe.Sizeof(z))
	if r.err != nil || n > uint64(len(r.data)/size) {
		r.err = errSetBytes
		return nil
	}
	b := r.bytes(int(n) * size)
	r.align()
	if r.err != nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// The parts a literal set may have.
const (
	hasFwd = 1 << iota
	hasRev
	hasLong
	hasShort
	hasDFA
	isSkipLong
	isASCIISubs
)

func appendSet(dst []byte, ls *literalSet) []byte {
	w := setWriter{b: dst}
	flags := 0
	for _, f := range []struct {
		on  bool
		bit int
	}{{ls.fwd != nil, hasFwd}, {ls.rev != nil, hasRev}, {ls.long != nil, hasLong}, {ls.short != nil, hasShort}, {ls.dfa != nil, hasDFA}, {ls.skipLong, isSkipLong}, {ls.asciiSubs, isASCIISubs}} {
		if f.on {
			flags |= f.bit
		}
	}
	w.u64(uint64(flags))
	w.u64(uint64(ls.minLen))
	// The patterns: kinds and lengths, then their refs end to end.
	kinds := make([]int32, 2*len(ls.pats))
	refAt := make([]int32, len(ls.pats)+1)
	var refs []int32
	for i, p := range ls.pats {
		kinds[2*i], kinds[2*i+1] = int32(p.kind), p.n
		refs = append(refs, p.refs...)
		refAt[i+1] = int32(len(refs))
	}
	writeSlice(&w, kinds)
	writeSlice(&w, refAt)
	writeSlice(&w, refs)
	writeSlice(&w, ls.empty)
	writeSlice(&w, ls.any)
	for _, t := range []*trie{ls.fwd, ls.rev} {
		if t != nil {
			appendTrie(&w, t)
		}
	}
	if g := ls.long; g != nil {
		writeSlice(&w, g.bits[:])
		writeSlice(&w, g.pre[:])
		w.u64(uint64(g.step))
		w.u64(uint64(b2u(g.pre8)))
		appendTrie(&w, g.t)
	}
	for _, a := range []*automaton{ls.short, ls.dfa} {
		if a != nil {
			writeSlice(&w, a.class[:])
			w.u64(uint64(a.nc))
			w.u64(uint64(a.begin))
			w.u64(uint64(a.end))
			w.u64(uint64(a.maxLit))
			writeSlice(&w, a.delta)
			writeSlice(&w, a.outAt)
			writeSlice(&w, a.outs)
		}
	}
	return w.b
}

func appendTrie(w *setWriter, t *trie) {
	writeSlice(w, t.class[:])
	writeSlice(w, t.root)
	writeSlice(w, t.nodes)
	writeSlice(w, t.edges)
	writeSlice(w, t.outs)
}

// readSet is appendSet backwards. The tables alias body; what is checked
// is that every slice lies within it (the CRC vouches for the rest).
func readSet(body []byte) (*literalSet, error) {
	r := &setReader{data: body}
	flags := int(r.u64())
	ls := &literalSet{minLen: int(r.u64()), skipLong: flags&isSkipLong != 0, asciiSubs: flags&isASCIISubs != 0}
	kinds, refAt, refs := readSlice[int32](r), readSlice[int32](r), readSlice[int32](r)
	if r.err != nil || len(kinds)%2 != 0 || len(refAt) != len(kinds)/2+1 {
		return nil, errSetBytes
	}
	ls.pats = make([]litPat, len(kinds)/2)
	for i := range ls.pats {
		from, to := refAt[i], refAt[i+1]
		if from < 0 || from > to || int(to) > len(refs) {
			return nil, errSetBytes
		}
		ls.pats[i] = litPat{kind: patKind(kinds[2*i]), n: kinds[2*i+1], refs: refs[from:to:to]}
	}
	ls.empty, ls.any = readSlice[int32](r), readSlice[int32](r)
	if flags&hasFwd != 0 {
		ls.fwd = readTrie(r)
	}
	if flags&hasRev != 0 {
		ls.rev = readTrie(r)
	}
	if flags&hasLong != 0 {
		g := &gramSet{}
		copy(g.bits[:], readSlice[uint64](r))
		copy(g.pre[:], readSlice[uint64](r))
		g.step, g.pre8 = int(r.u64()), r.u64() != 0
		g.t = readTrie(r)
		ls.long = g
	}
	if flags&hasShort != 0 {
		ls.short = readAutomaton(r)
	}
	if flags&hasDFA != 0 {
		ls.dfa = readAutomaton(r)
	}
	if r.err != nil || r.off != len(body) {
		return nil, errSetBytes
	}
	return ls, nil
}

func readTrie(r *setReader) *trie {
	t := &trie{}
	copy(t.class[:], readSlice[uint8](r))
	t.root, t.nodes, t.edges, t.outs = readSlice[int32](r), readSlice[tnode](r), readSlice[tedge](r), readSlice[int32](r)
	return t
}

func readAutomaton(r *setReader) *automaton {
	a := &automaton{}
	copy(a.class[:], readSlice[uint8](r))
	a.nc, a.begin, a.end, a.maxLit = uint32(r.u64()), uint32(r.u64()), uint32(r.u64()), int(r.u64())
	a.delta, a.outAt, a.outs = readSlice[uint32](r), readSlice[int32](r), readSlice[int32](r)
	return a
}
