package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/detect"
	"github.com/vigil-sec/vigil/rule"
)

// ruleCache keeps the parse of rule files between runs of scan, so that a
// start decodes SigmaHQ's thousands of rules instead of parsing their YAML
// again (most of a start). A file's entry is used while the file has the
// size and modification time it had when parsed, the check the reloader
// makes too. The cache file also names the vigil binary and the rule
// options it was written with: a new build, other placeholders or limits
// make it start over. Anything wrong with the file (cut, damaged, another
// layout) only makes the rules be parsed again and the file be rewritten.
type ruleCache struct {
	path string // the cache file
	key  []byte // what the entries were parsed with

	old map[string]cacheEntry // read at open; only read afterwards

	mu    sync.Mutex
	used  map[string]cacheEntry // the entries of this run's files
	dirty bool                  // used differs from old
}

type cacheEntry struct {
	size, mod int64 // of the file when parsed (mod in ns since 1970)
	rules     []byte
}

// ruleCacheMagic starts a cache file; its last byte is the layout's
// version.
var ruleCacheMagic = []byte("vigil rule cache\x01")

// openRuleCache opens the cache of the rules under roots (one cache file
// for each list of rule paths) in dir, the user's cache directory when
// empty. It returns nil, and rules are parsed as without a cache, when
// there is no cache directory.
func openRuleCache(dir string, roots []string, opts *rule.Options) *ruleCache {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil
		}
		dir = filepath.Join(base, "vigil", "rules")
	}
	h := sha256.New()
	for _, r := range roots {
		if abs, err := filepath.Abs(r); err == nil {
			r = abs
		}
		fmt.Fprintf(h, "%q\n", r)
	}
	c := &ruleCache{
		path: filepath.Join(dir, hex.EncodeToString(h.Sum(nil)[:12])+".bin"),
		key:  ruleCacheKey(opts),
		old:  map[string]cacheEntry{},
		used: map[string]cacheEntry{},
	}
	if data, err := os.ReadFile(c.path); err == nil {
		c.old, _ = decodeRuleCache(data, c.key) // a bad file is as none
	}
	return c
}

// ruleCacheKey names what a parse depends on besides the file: the rule
// codec, this vigil binary (its path, size and time: any other build may
// parse differently) and the rule options.
func ruleCacheKey(o *rule.Options) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "codec %d\n", rule.CodecVersion)
	if exe, err := os.Executable(); err == nil {
		if info, err := os.Stat(exe); err == nil {
			fmt.Fprintf(h, "exe %q %d %d\n", exe, info.Size(), info.ModTime().UnixNano())
		}
	}
	if o != nil {
		fmt.Fprintf(h, "limits %d %d\n", o.MaxRuleValues, o.MaxFileBytes)
		names := make([]string, 0, len(o.Placeholders))
		for n := range o.Placeholders {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(h, "placeholder %q %q\n", n, o.Placeholders[n])
		}
	}
	return h.Sum(nil)
}

// warm reports whether the cache holds parses from an earlier run.
func (c *ruleCache) warm() bool { return c != nil && len(c.old) > 0 }

// has reports whether the cache holds a parse of path, of any version.
func (c *ruleCache) has(path string) bool {
	if c == nil {
		return false
	}
	_, ok := c.old[path]
	return ok
}

// get returns the cached rules of a file of that size and time, if any.
func (c *ruleCache) get(path string, size int64, mod time.Time) ([]*rule.Rule, bool) {
	if c == nil {
		return nil, false
	}
	e, ok := c.old[path]
	if !ok || e.size != size || e.mod != mod.UnixNano() {
		return nil, false
	}
	rules, err := rule.DecodeRules(e.rules)
	if err != nil {
		return nil, false
	}
	c.mu.Lock()
	c.used[path] = e
	c.mu.Unlock()
	return rules, true
}

// put keeps the parse of a file for the next run. Only files of plain
// rules that all loaded are kept: the rest are parsed each time, which
// reports their problems again.
func (c *ruleCache) put(path string, size int64, mod time.Time, set *rule.Set, errs []error) {
	if c == nil || len(errs) > 0 || len(set.Correlations) > 0 || len(set.Filters) > 0 {
		return
	}
	// Encoded in a buffer kept from file to file, then copied once to its
	// size: growing a new buffer for each of thousands of files was a
	// tenth of a first start.
	buf := encodeBufs.Get().(*[]byte)
	*buf = rule.AppendRules((*buf)[:0], set.Rules)
	e := cacheEntry{size: size, mod: mod.UnixNano(), rules: bytes.Clone(*buf)}
	encodeBufs.Put(buf)
	c.mu.Lock()
	c.used[path] = e
	c.dirty = true
	c.mu.Unlock()
}

var encodeBufs = sync.Pool{New: func() any { return new([]byte) }}

// save writes the entries of this run's files, when they changed, to a
// new file renamed over the old one: a reader never sees half of it.
func (c *ruleCache) save() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty && len(c.used) == len(c.old) {
		return nil
	}
	if err := replaceFileWith(c.path, func(w io.Writer) error { return writeRuleCache(w, c.used, c.key) }); err != nil {
		return err
	}
	c.old, c.dirty = c.used, false
	return nil
}

// replaceFile writes data to a new file in path's directory (made if
// missing) and renames it over path: a reader, or a mapping of the old
// file, never sees half of it.
func replaceFile(path string, data []byte) error {
	return replaceFileWith(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// replaceFileWith is replaceFile with the data written by write, through
// a buffer: tens of megabytes need not be gathered in memory first.
func replaceFileWith(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// The cache file: magic, key, entries (path, size, time, rules), and a
// CRC-32 of all that.
func writeRuleCache(out io.Writer, entries map[string]cacheEntry, key []byte) error {
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	crc := crc32.NewIEEE()
	w := io.MultiWriter(out, crc)
	b := append([]byte(nil), ruleCacheMagic...)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(paths)))
	for _, p := range paths {
		e := entries[p]
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
		b = binary.AppendVarint(b, e.size)
		b = binary.AppendVarint(b, e.mod)
		b = binary.AppendUvarint(b, uint64(len(e.rules)))
		if _, err := w.Write(b); err != nil {
			return err
		}
		if _, err := w.Write(e.rules); err != nil {
			return err
		}
		b = b[:0]
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err := out.Write(binary.BigEndian.AppendUint32(nil, crc.Sum32()))
	return err
}

var errBadRuleCache = errors.New("not a rule cache of this vigil, or damaged")

func decodeRuleCache(b []byte, key []byte) (map[string]cacheEntry, error) {
	if len(b) < len(ruleCacheMagic)+4 || !bytes.HasPrefix(b, ruleCacheMagic) {
		return map[string]cacheEntry{}, errBadRuleCache
	}
	body := b[:len(b)-4]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return map[string]cacheEntry{}, errBadRuleCache
	}
	r := body[len(ruleCacheMagic):]
	next := func() []byte { // a length-prefixed run of bytes; nil when cut
		n, k := binary.Uvarint(r)
		if k <= 0 || n > uint64(len(r)-k) {
			r = nil
			return nil
		}
		v := r[k : k+int(n)]
		r = r[k+int(n):]
		return v
	}
	if !bytes.Equal(next(), key) {
		return map[string]cacheEntry{}, errBadRuleCache
	}
	n, k := binary.Uvarint(r)
	if k <= 0 || n > uint64(len(r)) {
		return map[string]cacheEntry{}, errBadRuleCache
	}
	r = r[k:]
	out := make(map[string]cacheEntry, n)
	for range n {
		p := next()
		size, k1 := binary.Varint(r)
		if p == nil || k1 <= 0 {
			return map[string]cacheEntry{}, errBadRuleCache
		}
		r = r[k1:]
		mod, k2 := binary.Varint(r)
		if k2 <= 0 {
			return map[string]cacheEntry{}, errBadRuleCache
		}
		r = r[k2:]
		rules := next()
		if rules == nil {
			return map[string]cacheEntry{}, errBadRuleCache
		}
		out[string(p)] = cacheEntry{size: size, mod: mod, rules: rules}
	}
	if len(r) != 0 {
		return map[string]cacheEntry{}, errBadRuleCache
	}
	return out, nil
}

// The literal sets the engine compiled from the cached rules built for
// the logsources a scan met (detect.Engine.WriteSets) are kept beside the
// cache file: the next scan of the same rules takes them as they are
// instead of building them again, which was a fifth of a scan of the
// Windows corpus. The file is the magic, the cache key (another binary or
// other options make it be passed over) padded to eight bytes, and the
// sets, which detect checks against the engine's rules.
var ruleSetsMagic = []byte("vigil literal sets\x01\x00")

func (c *ruleCache) setsPath() string { return strings.TrimSuffix(c.path, ".bin") + ".sets" }

func (c *ruleCache) setsHeader() []byte {
	h := append(append([]byte(nil), ruleSetsMagic...), c.key...)
	for len(h)%8 != 0 {
		h = append(h, 0)
	}
	return h
}

// useSets hands e the sets kept by an earlier run, if any, mapped from
// their file; release ends the mapping, after which e must not be used.
// Sets that do not fit e are passed over (and written anew by saveSets).
func (c *ruleCache) useSets(e *detect.Engine) (release func()) {
	if c == nil {
		return func() {}
	}
	data, unmap, err := mapFile(c.setsPath())
	if err != nil {
		return func() {}
	}
	h := c.setsHeader()
	if !bytes.HasPrefix(data, h) || !e.UseSets(data[len(h):]) {
		unmap()
		return func() {}
	}
	return unmap
}

// loadSets hands e the sets kept by an earlier run, if any, read into
// memory rather than mapped: a server swaps engines while events may still
// be matched with the old one, so no moment is safe to unmap; the memory
// goes with the engine. It reports whether e took them.
func (c *ruleCache) loadSets(e *detect.Engine) bool {
	if c == nil {
		return false
	}
	data, err := os.ReadFile(c.setsPath())
	if err != nil {
		return false
	}
	h := c.setsHeader()
	return bytes.HasPrefix(data, h) && e.UseSets(data[len(h):])
}

// saveSets writes e's literal sets, when its routes built some this run,
// to a new file renamed over the old one.
func (c *ruleCache) saveSets(e *detect.Engine) error {
	if c == nil || e.SetsBuilt() == 0 {
		return nil
	}
	return replaceFileWith(c.setsPath(), func(w io.Writer) error {
		if _, err := w.Write(c.setsHeader()); err != nil {
			return err
		}
		return e.WriteSets(w)
	})
}
