package event

import "sync"

// Dict interns field names to small ids. The compiled rule set builds a
// closed Dict of the names it reads, and decoders store only those fields,
// so that decoding touches no more than detection needs. An open Dict
// (NewOpenDict) interns every name a decoder offers: `vigil decode` and the
// API use it to show an event whole.
//
// A closed Dict is read-only once built and safe for concurrent use. An open
// Dict is guarded by a mutex.
type Dict struct {
	open  bool
	mu    sync.RWMutex
	ids   map[string]int32
	names []string
}

// NewDict returns a closed Dict holding names.
func NewDict(names ...string) *Dict {
	d := &Dict{ids: make(map[string]int32, len(names))}
	for _, n := range names {
		d.intern(n)
	}
	return d
}

// NewOpenDict returns a Dict that interns every name it is asked about.
func NewOpenDict() *Dict {
	return &Dict{open: true, ids: make(map[string]int32)}
}

// Open reports whether the Dict interns names on lookup.
func (d *Dict) Open() bool { return d.open }

// Add interns name and returns its id. Use it while building a closed Dict,
// before the Dict is shared.
func (d *Dict) Add(name string) int32 {
	if d.open {
		d.mu.Lock()
		defer d.mu.Unlock()
	}
	return d.intern(name)
}

func (d *Dict) intern(name string) int32 {
	if id, ok := d.ids[name]; ok {
		return id
	}
	id := int32(len(d.names))
	d.ids[name] = id
	d.names = append(d.names, name)
	return id
}

// ID returns the id of name. A closed Dict answers false for names it does
// not hold; an open Dict interns them.
func (d *Dict) ID(name string) (int32, bool) {
	if !d.open {
		id, ok := d.ids[name]
		return id, ok
	}
	d.mu.RLock()
	id, ok := d.ids[name]
	d.mu.RUnlock()
	if ok {
		return id, true
	}
	return d.Add(name), true
}

// IDBytes is ID for a name held in a byte slice; it does not allocate for a
// closed Dict (the compiler elides the string conversion in a map index).
func (d *Dict) IDBytes(name []byte) (int32, bool) {
	if !d.open {
		id, ok := d.ids[string(name)]
		return id, ok
	}
	return d.ID(string(name))
}

// Name returns the name of id.
func (d *Dict) Name(id int32) string {
	if d.open {
		d.mu.RLock()
		defer d.mu.RUnlock()
	}
	return d.names[id]
}

// Len returns the number of names held.
func (d *Dict) Len() int {
	if d.open {
		d.mu.RLock()
		defer d.mu.RUnlock()
	}
	return len(d.names)
}

// Fields holds a record's own fields by Dict id. Reset is O(1): a slot is
// present only when its generation is the current one, so slots are never
// cleared one by one.
type Fields struct {
	dict  *Dict
	gen   uint32
	vals  []string
	gens  []uint32
	set   []int32 // ids in the order they were first set
	multi []multiValue
}

type multiValue struct {
	id int32
	v  string
}

// Bind attaches the Dict whose ids index the fields, and clears them.
func (f *Fields) Bind(d *Dict) {
	f.dict = d
	f.Reset()
}

// Dict returns the bound Dict.
func (f *Fields) Dict() *Dict { return f.dict }

// Reset clears all fields, keeping storage.
func (f *Fields) Reset() {
	f.gen++
	if f.gen == 0 { // wrapped: really clear once every 2^32 events
		clear(f.gens)
		f.gen = 1
	}
	f.set = f.set[:0]
	f.multi = f.multi[:0]
}

func (f *Fields) grow(id int32) {
	n := int(id) + 1
	if n <= len(f.vals) {
		return
	}
	if n < 2*len(f.vals) {
		n = 2 * len(f.vals)
	}
	vals := make([]string, n)
	copy(vals, f.vals)
	gens := make([]uint32, n)
	copy(gens, f.gens)
	f.vals, f.gens = vals, gens
}

// Set stores v for id. Setting an id that is already present adds a further
// value (a JSON array, a repeated key): Get returns the first, Each all.
func (f *Fields) Set(id int32, v string) {
	if f.gen == 0 {
		f.gen = 1
	}
	f.grow(id)
	if f.gens[id] == f.gen {
		f.multi = append(f.multi, multiValue{id, v})
		return
	}
	f.gens[id] = f.gen
	f.vals[id] = v
	f.set = append(f.set, id)
}

// SetName stores v under name if the bound Dict holds the name (or is open),
// and reports whether it was stored.
func (f *Fields) SetName(name []byte, v string) bool {
	if f.dict == nil {
		return false
	}
	id, ok := f.dict.IDBytes(name)
	if !ok {
		return false
	}
	f.Set(id, v)
	return true
}

// Has reports whether id is present.
func (f *Fields) Has(id int32) bool {
	return int(id) < len(f.gens) && f.gens[id] == f.gen && f.gen != 0
}

// Get returns the first value of id.
func (f *Fields) Get(id int32) (string, bool) {
	if !f.Has(id) {
		return "", false
	}
	return f.vals[id], true
}

// Each calls fn for every value of id, first value first, until fn returns
// false.
func (f *Fields) Each(id int32, fn func(string) bool) {
	v, ok := f.Get(id)
	if !ok || !fn(v) {
		return
	}
	for _, m := range f.multi {
		if m.id == id && !fn(m.v) {
			return
		}
	}
}

// Multi reports whether id has more than one value.
func (f *Fields) Multi(id int32) bool {
	for _, m := range f.multi {
		if m.id == id {
			return true
		}
	}
	return false
}

// IDs returns the present ids in the order they were set. The slice is owned
// by Fields and valid until the next Reset.
func (f *Fields) IDs() []int32 { return f.set }

// Len returns the number of present ids.
func (f *Fields) Len() int { return len(f.set) }
