package evtx

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/vigil-sec/vigil/event"
)

func le16b(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32b(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64b(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func utf16b(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, r)
	}
	return b
}

// fullRecord is a record built from MS-EVEN6: a template instance with a
// value of every type, normal and optional substitutions, a Binary XML
// value holding a fragment, CDATA, character and entity references and a
// processing instruction.
func fullRecord(b *bx) {
	b.fragment()
	types := []struct {
		name string
		typ  byte
	}{
		{"I8", tInt8}, {"U8", tUint8}, {"I16", tInt16}, {"U16", tUint16}, {"I32", tInt32}, {"U32", tUint32},
		{"I64", tInt64}, {"U64", tUint64}, {"R32", tReal32}, {"R64", tReal64}, {"Bool", tBool}, {"Bin", tBinary},
		{"SizeT", tSizeT}, {"Sys", tSystime}, {"H32", tHex32}, {"H64", tHex64}, {"Ansi", tAnsi},
		{"Strs", tString | tArray}, {"U16s", tUint16 | tArray}, {"Empty", tString}, {"Handle", tHandle}, {"Xml", tEvtXML},
	}
	sid := []byte{1, 5, 0, 0, 0, 0, 0, 5}
	sid = append(append(append(sid, le32b(21)...), le32b(1000)...), le32b(500)...)
	sid[1] = 3
	guid := []byte{0x25, 0x96, 0x84, 0x54, 0x78, 0x54, 0x94, 0x49, 0xa5, 0xba, 0x3e, 0x3b, 0x03, 0x28, 0xc3, 0x0d}
	sys := append(append(append(append(append(append(append(le16b(2021), le16b(3)...), le16b(4)...), le16b(4)...), le16b(5)...), le16b(6)...), le16b(7)...), le16b(89)...)
	vals := []tval{
		{tString, utf16b("Microsoft-Windows-Security-Auditing")}, // 0
		{tGUID, guid},                                  // 1
		{tNull, nil},                                   // 2: Qualifiers, optional and null
		{tUint16, le16b(4624)},                         // 3
		{tFiletime, le64b(131140603716816400)},         // 4
		{tUint64, le64b(77)},                           // 5
		{tString, utf16b("Security")},                  // 6
		{tString, utf16b("HOST-1")},                    // 7
		{tSID, sid},                                    // 8
		{tInt8, []byte{0xfb}},                          // 9
		{tUint8, []byte{250}},                          // 10
		{tInt16, le16b(uint16(0x10000 - 300))},         // 11
		{tUint16, le16b(60000)},                        // 12
		{tInt32, le32b(uint32(0x100000000 - 70000))},   // 13
		{tUint32, le32b(4000000000)},                   // 14
		{tInt64, le64b(uint64(1<<64 - 5000000000000))}, // 15
		{tUint64, le64b(math.MaxUint64)},               // 16
		{tReal32, le32b(math.Float32bits(1.5))},        // 17
		{tReal64, le64b(math.Float64bits(-2.25))},      // 18
		{tBool, le32b(1)},                              // 19
		{tBinary, []byte{0x01, 0xab}},                  // 20
		{tHex64, le64b(0x1f)},                          // 21: size_t, written as HexInt64
		{tSystime, sys},                                // 22
		{tHex32, le32b(0x3e7)},                         // 23
		{tHex64, le64b(0x8020000000000000)},            // 24
		{tAnsi, []byte("ansi\x00")},                    // 25
		{tString | tArray, append(append(utf16b("a"), 0, 0), append(utf16b("b"), 0, 0)...)}, // 26
		{tUint16 | tArray, append(le16b(1), le16b(2)...)},                                   // 27
		{tNull, nil},              // 28
		{tHandle, le64b(9)},       // 29
		{tEvtXML, utf16b("<x/>")}, // 30
	}
	// Value 31 is Binary XML: a fragment whose names are in the chunk too.
	// Its offset is known once the template is written, so it is written
	// as zeros, then filled in.
	b.template(func(b *bx) {
		b.open("Event", true)
		b.attr("xmlns", false)
		b.text("http://schemas.microsoft.com/win/2004/08/events/event")
		b.closeStart()
		b.open("System", false)
		b.closeStart()
		b.open("Provider", true)
		b.attr("Name", true)
		b.subst(0, tString, false)
		b.attr("Guid", false)
		b.subst(1, tGUID, true)
		b.closeEmpty()
		b.open("EventID", true)
		b.attr("Qualifiers", false)
		b.subst(2, tUint16, true)
		b.closeStart()
		b.subst(3, tUint16, false)
		b.end()
		b.open("TimeCreated", true)
		b.attr("SystemTime", false)
		b.subst(4, tFiletime, true)
		b.closeEmpty()
		b.substElem("EventRecordID", 5, tUint64, true)
		b.substElem("Channel", 6, tString, true)
		b.substElem("Computer", 7, tString, true)
		b.open("Security", true)
		b.attr("UserID", false)
		b.subst(8, tSID, true)
		b.closeEmpty()
		b.end() // System
		b.open("EventData", false)
		b.closeStart()
		for i, ty := range types {
			b.open("Data", true)
			b.attr("Name", false)
			b.text(ty.name)
			b.closeStart()
			b.subst(9+i, ty.typ, true)
			b.end()
		}
		b.end() // EventData
		b.open("UserData", false)
		b.closeStart()
		b.subst(31, tBinXML, true)
		b.end()
		b.open("Text", false)
		b.closeStart()
		b.text("a")
		b.u8(tokCDATA)
		b.u16(1)
		b.utf16("b")
		b.u8(tokEntityRef)
		b.name("amp")
		b.u8(tokCharRef)
		b.u16('A')
		b.end()
		b.u8(tokPITarget)
		b.name("pi")
		b.u8(tokPIData)
		b.u16(4)
		b.utf16("data")
		b.end() // Event
	}, append(vals, tval{tBinXML, make([]byte, nestedSize)}))
	// The Binary XML value is the last bytes written: build it there.
	at := len(b.buf) - nestedSize
	n := newBX(b.base + at)
	n.names = b.names
	n.fragment()
	n.open("Rec", false)
	n.closeStart()
	n.elem("A", "1")
	n.elem("A", "2")
	n.end()
	n.eof()
	if len(n.buf) > nestedSize {
		panic("nested value larger than its room")
	}
	copy(b.buf[at:], n.buf)
	b.eof()
}

const (
	tCDATAForTest = tokCDATA
	nestedSize    = 128
)

// TestSpecRecord reads a record built from the specification and checks
// its rendering member by member.
func TestSpecRecord(t *testing.T) {
	data := fileOf(chunkOf(77, fullRecord))
	rd, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	r, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(r.JSON, &got); err != nil {
		t.Fatalf("%v: %s", err, r.JSON)
	}
	want := map[string]any{}
	if err := json.Unmarshal([]byte(`{"Event":{
		"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},
		"System":{
			"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing","Guid":"54849625-5478-4994-A5BA-3E3B0328C30D"}},
			"EventID":4624,
			"TimeCreated":{"#attributes":{"SystemTime":"2016-07-27T02:32:51.681640Z"}},
			"EventRecordID":77,"Channel":"Security","Computer":"HOST-1",
			"Security":{"#attributes":{"UserID":"S-1-5-21-1000-500"}}},
		"EventData":{"I8":-5,"U8":250,"I16":-300,"U16":60000,"I32":-70000,"U32":4000000000,
			"I64":-5000000000000,"U64":18446744073709551615,"R32":1.5,"R64":-2.25,"Bool":true,"Bin":"01AB",
			"SizeT":"0x1f","Sys":"2021-03-04T05:06:07.089Z","H32":"0x3e7","H64":"0x8020000000000000","Ansi":"ansi",
			"Strs":["a","b"],"U16s":[1,2],"Empty":null,"Handle":9,"Xml":"<x/>"},
		"UserData":{"Rec":{"A":"1","A_1":"2"}},
		"Text":"ab&A"}}`), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rendering\n got: %s", r.JSON)
		g, w := got["Event"].(map[string]any), want["Event"].(map[string]any)
		for k := range w {
			if !reflect.DeepEqual(g[k], w[k]) {
				t.Errorf("%s: got %v, want %v", k, g[k], w[k])
			}
		}
	}
	if r.ID != 77 || r.Offset != headerBlock+recordsAt {
		t.Errorf("record id %d at %d, want 77 at %d", r.ID, r.Offset, headerBlock+recordsAt)
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Errorf("after the only record: %v, want EOF", err)
	}

	// Decoded, it is a Windows event with Sigma's field names.
	var ev event.Event
	ev.Fields.Bind(event.NewOpenDict())
	if err := New().Decode(r.JSON, &ev); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"EventID": "4624", "Channel": "Security", "Provider_Name": "Microsoft-Windows-Security-Auditing", "I8": "-5", "H32": "0x3e7", "Sys": "2021-03-04T05:06:07.089Z"} {
		if g, _ := ev.Get(k); g != v {
			t.Errorf("field %s = %q, want %q", k, g, v)
		}
	}
	if ev.Logsource.Product != "windows" || ev.Logsource.Service != "security" {
		t.Errorf("logsource %+v, want windows/security", ev.Logsource)
	}
}

// TestDamagedChunksAndRecords: a bad record is reported with its offset
// and the rest of its chunk skipped, a chunk with a bad signature is
// reported and skipped, a zeroed chunk passed over, and every record of
// the good chunks read.
func TestDamagedChunksAndRecords(t *testing.T) {
	simple := func(name string) func(*bx) {
		return func(b *bx) {
			b.fragment()
			b.open("Event", false)
			b.closeStart()
			b.open("System", false)
			b.closeStart()
			b.elem("Channel", name)
			b.end()
			b.end()
			b.eof()
		}
	}
	c1 := chunkOf(1, simple("a"), simple("b"), simple("c"))
	c2 := chunkOf(4, simple("d"))
	copy(c2, "ElfJunk\x00")
	c3 := make([]byte, chunkSize) // never written
	c4 := chunkOf(5, simple("e"), simple("f"))
	// Break c1's second record: a token no element has.
	second := recordsAt + int(le32(c1[recordsAt+4:]))
	c1[second+recHeader+4] = 0x1f
	// Break c4's second record's signature.
	second4 := recordsAt + int(le32(c4[recordsAt+4:]))
	c4[second4] = 0
	rd, err := NewReader(bytes.NewReader(fileOf(c1, c2, c3, c4)))
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	var probs []string
	for {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		var p *Problem
		if errors.As(err, &p) {
			if !p.Warning {
				probs = append(probs, p.Error())
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if want := []uint64{1, 3, 5}; !reflect.DeepEqual(ids, want) {
		t.Errorf("records %v, want %v", ids, want)
	}
	chunk := func(i int) int { return headerBlock + i*chunkSize }
	want := []string{
		"record 2 at byte " + itoa(chunk(0)+second) + ": bad token 0x1f at chunk offset " + itoa(second+recHeader+4),
		"at byte " + itoa(chunk(1)) + ": bad chunk signature, chunk skipped",
		"at byte " + itoa(chunk(3)+second4) + ": bad record signature, rest of the chunk skipped",
	}
	if !reflect.DeepEqual(probs, want) {
		t.Errorf("problems\n got %q\nwant %q", probs, want)
	}
}

func itoa(i int) string { return string(appendPad(nil, i, 1)) }

// TestNotEVTX: input without the signature is refused at once.
func TestNotEVTX(t *testing.T) {
	if _, err := NewReader(bytes.NewReader([]byte(`{"Event":{}}`))); err == nil {
		t.Error("JSON read as EVTX")
	}
}

// TestManySiblings: an element with thousands of children of one name
// renders each under its own key (A, A_1, …) in time linear in their
// number (the keys of a large object are kept in a map).
func TestManySiblings(t *testing.T) {
	const n = 3000
	rec := func(b *bx) {
		b.fragment()
		b.open("Event", false)
		b.closeStart()
		for i := 0; i < n; i++ {
			b.elem("A", "x")
		}
		b.elem("A_7", "y") // taken by then: it becomes A_7_1
		b.end()
		b.eof()
	}
	rd, err := NewReader(bytes.NewReader(fileOf(chunkOf(1, rec))))
	if err != nil {
		t.Fatal(err)
	}
	r, err := rd.Next()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]string
	if err := json.Unmarshal(r.JSON, &got); err != nil {
		t.Fatal(err)
	}
	ev := got["Event"]
	if len(ev) != n+1 || ev["A"] != "x" || ev["A_2999"] != "x" || ev["A_7_1"] != "y" {
		t.Errorf("%d members, A_2999=%q A_7_1=%q", len(ev), ev["A_2999"], ev["A_7_1"])
	}
}

// TestTruncatedFile: a file cut within a chunk gives the records before
// the cut; the record cut short is an error naming its offset.
func TestTruncatedFile(t *testing.T) {
	rec := func(b *bx) {
		b.fragment()
		b.open("Event", false)
		b.closeStart()
		b.elem("Channel", "Security")
		b.end()
		b.eof()
	}
	c := chunkOf(1, rec, rec, rec)
	third := recordsAt
	for i := 0; i < 2; i++ {
		third += int(le32(c[third+4:]))
	}
	data := fileOf(c)[:headerBlock+third+10]
	rd, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	var errs []string
	for {
		r, err := rd.Next()
		if err == io.EOF {
			break
		}
		var p *Problem
		if errors.As(err, &p) {
			if !p.Warning {
				errs = append(errs, p.Error())
			}
			continue
		}
		ids = append(ids, r.ID)
	}
	if !reflect.DeepEqual(ids, []uint64{1, 2}) || len(errs) != 1 || !strings.Contains(errs[0], "record 3 at byte "+itoa(headerBlock+third)) {
		t.Errorf("records %v, errors %q", ids, errs)
	}
}
