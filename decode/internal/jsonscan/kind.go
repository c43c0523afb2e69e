package jsonscan

// Kind is the type of a JSON value.
type Kind uint8

// The kinds of JSON values. Invalid is the zero Kind: no value, or one the
// scanner could not read.
const (
	Invalid Kind = iota
	Null
	False
	True
	Number
	String
	Object
	Array
)

var kindNames = [...]string{
	Invalid: "invalid",
	Null:    "null",
	False:   "false",
	True:    "true",
	Number:  "number",
	String:  "string",
	Object:  "object",
	Array:   "array",
}

// String returns the kind's name as JSON spells the type: "object",
// "string", "true", ….
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// kindOf guesses a value's kind from its first byte; Peek uses it, and
// Value then checks the guess.
var kindOf = func() (t [256]Kind) {
	t['n'] = Null
	t['f'] = False
	t['t'] = True
	t['-'] = Number
	for c := '0'; c <= '9'; c++ {
		t[c] = Number
	}
	t['"'] = String
	t['{'] = Object
	t['['] = Array
	return t
}()
