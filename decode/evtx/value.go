package evtx

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"
const hexUpper = "0123456789ABCDEF"

// appendValue appends v as JSON: numbers and booleans as JSON numbers and
// booleans, everything else as a string, the way evtx_dump writes them.
// An array type becomes a JSON array.
func appendValue(b []byte, v value) []byte {
	if v.typ&tArray != 0 {
		return appendArray(b, v)
	}
	switch v.typ {
	case tInt8, tUint8, tInt16, tUint16, tInt32, tUint32, tInt64, tUint64, tReal32, tReal64, tBool, tHandle:
		if len(v.data) >= scalarSize(v.typ) {
			return appendScalar(b, v.typ, v.data)
		}
	case tNull:
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = appendText(b, v, true)
	return append(b, '"')
}

// scalarSize is the size of one value of a fixed-size type, 0 for others.
func scalarSize(t uint8) int {
	switch t {
	case tInt8, tUint8:
		return 1
	case tInt16, tUint16:
		return 2
	case tInt32, tUint32, tReal32, tBool, tHex32:
		return 4
	case tInt64, tUint64, tReal64, tFiletime, tHex64:
		return 8
	case tGUID, tSystime:
		return 16
	}
	return 0
}

// appendScalar appends a number or boolean of type t from d as JSON.
func appendScalar(b []byte, t uint8, d []byte) []byte {
	switch t {
	case tInt8:
		return strconv.AppendInt(b, int64(int8(d[0])), 10)
	case tUint8:
		return strconv.AppendUint(b, uint64(d[0]), 10)
	case tInt16:
		return strconv.AppendInt(b, int64(int16(le16(d))), 10)
	case tUint16:
		return strconv.AppendUint(b, uint64(le16(d)), 10)
	case tInt32:
		return strconv.AppendInt(b, int64(int32(le32(d))), 10)
	case tUint32:
		return strconv.AppendUint(b, uint64(le32(d)), 10)
	case tInt64:
		return strconv.AppendInt(b, int64(le64(d)), 10)
	case tUint64:
		return strconv.AppendUint(b, le64(d), 10)
	case tHandle:
		if len(d) >= 8 {
			return strconv.AppendUint(b, le64(d), 10)
		}
		return strconv.AppendUint(b, uint64(le32(d)), 10)
	case tReal32, tReal64:
		f, bits := float64(math.Float32frombits(le32(d))), 32
		if t == tReal64 {
			f, bits = math.Float64frombits(le64(d)), 64
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(append(append(b, '"'), strconv.FormatFloat(f, 'g', -1, bits)...), '"')
		}
		return strconv.AppendFloat(b, f, 'g', -1, bits)
	case tBool:
		// Any value but 0 is true: writers are not strict about 1.
		if le32(d) != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	}
	return b
}

// appendText appends v's text. inJSON escapes it for a JSON string.
func appendText(b []byte, v value, inJSON bool) []byte {
	d := v.data
	switch v.typ {
	case tLiteral:
		return appendString(b, v.lit, inJSON)
	case tString, tEvtXML:
		return appendUTF16JSON(b, trimNUL16(d), inJSON)
	case tAnsi:
		for len(d) > 0 && d[len(d)-1] == 0 {
			d = d[:len(d)-1]
		}
		return appendANSI(b, d, inJSON)
	case tInt8, tUint8, tInt16, tUint16, tInt32, tUint32, tInt64, tUint64, tReal32, tReal64, tBool, tHandle:
		if len(d) >= scalarSize(v.typ) {
			return appendScalar(b, v.typ, d)
		}
	case tBinary:
		for _, x := range d {
			b = append(b, hexUpper[x>>4], hexUpper[x&15])
		}
	case tGUID:
		if len(d) >= 16 {
			return appendGUID(b, d)
		}
	case tSizeT, tHex32, tHex64:
		var u uint64
		switch {
		case len(d) >= 8:
			u = le64(d)
		case len(d) >= 4:
			u = uint64(le32(d))
		default:
			return b
		}
		return strconv.AppendUint(append(b, "0x"...), u, 16)
	case tFiletime:
		if len(d) >= 8 {
			return appendFiletime(b, le64(d))
		}
	case tSystime:
		if len(d) >= 16 {
			return appendSystime(b, d)
		}
	case tSID:
		return appendSID(b, d)
	}
	return b
}

// appendArray appends an array value as a JSON array: strings are
// separated by their NUL, other types packed at their size.
func appendArray(b []byte, v value) []byte {
	t, d := v.typ&^tArray, v.data
	b = append(b, '[')
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	switch t {
	case tString:
		for len(d) >= 2 {
			i := 0
			for i+1 < len(d) && (d[i] != 0 || d[i+1] != 0) {
				i += 2
			}
			sep()
			b = append(b, '"')
			b = appendUTF16JSON(b, d[:i], true)
			b = append(b, '"')
			if i+2 > len(d) {
				break
			}
			d = d[i+2:]
		}
	case tAnsi:
		for len(d) > 0 {
			i := 0
			for i < len(d) && d[i] != 0 {
				i++
			}
			sep()
			b = append(appendANSI(append(b, '"'), d[:i], true), '"')
			if i+1 > len(d) {
				break
			}
			d = d[i+1:]
		}
	case tSID:
		for len(d) >= 8 {
			n := 8 + 4*int(d[1])
			if n > len(d) {
				n = len(d)
			}
			sep()
			b = append(appendSID(append(b, '"'), d[:n]), '"')
			d = d[n:]
		}
	default:
		sz := scalarSize(t)
		if t == tSizeT {
			sz = 8
			if len(d)%8 != 0 {
				sz = 4
			}
		}
		if sz == 0 {
			break // binary data and Binary XML have no arrays
		}
		for ; len(d) >= sz; d = d[sz:] {
			sep()
			b = appendValue(b, value{typ: t, data: d[:sz]})
		}
	}
	return append(b, ']')
}

func trimNUL16(d []byte) []byte {
	for len(d) >= 2 && d[len(d)-1] == 0 && d[len(d)-2] == 0 {
		d = d[:len(d)-2]
	}
	return d[:len(d)&^1]
}

// appendUTF16JSON appends UTF-16LE d as UTF-8, escaped for JSON when
// inJSON. Unpaired surrogates become U+FFFD.
func appendUTF16JSON(b []byte, d []byte, inJSON bool) []byte {
	for i := 0; i+1 < len(d); i += 2 {
		// Most text is ASCII that needs no escape: a run of it is
		// copied at once.
		j := i
		for j+1 < len(d) && d[j+1] == 0 && d[j] >= 0x20 && d[j] < 0x80 && d[j] != '"' && d[j] != '\\' {
			j += 2
		}
		if j > i {
			at := len(b)
			b = slices.Grow(b, (j-i)/2)[:at+(j-i)/2]
			for k := i; k < j; k += 2 {
				b[at] = d[k]
				at++
			}
			if i = j; i+1 >= len(d) {
				break
			}
		}
		r := rune(le16(d[i:]))
		switch {
		case r < 0x80:
			b = appendASCII(b, byte(r), inJSON)
			continue
		case utf16.IsSurrogate(r):
			r2 := rune(utf8.RuneError)
			if i+3 < len(d) {
				r2 = rune(le16(d[i+2:]))
			}
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				r = dec
				i += 2
			} else {
				r = utf8.RuneError
			}
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// appendANSI appends an ANSI string: UTF-8 when it is valid UTF-8, else
// read as Latin-1 (the code page is not recorded in the file).
func appendANSI(b []byte, d []byte, inJSON bool) []byte {
	if utf8.Valid(d) {
		for _, c := range d {
			if c < 0x80 {
				b = appendASCII(b, c, inJSON)
			} else {
				b = append(b, c)
			}
		}
		return b
	}
	for _, c := range d {
		if c < 0x80 {
			b = appendASCII(b, c, inJSON)
		} else {
			b = utf8.AppendRune(b, rune(c))
		}
	}
	return b
}

func appendString(b []byte, s string, inJSON bool) []byte {
	if !inJSON {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return appendEscaped(b, s)
		}
	}
	return append(b, s...)
}

// appendEscaped appends s escaped for a JSON string.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x80 {
			b = appendASCII(b, c, true)
		} else {
			b = append(b, c)
		}
	}
	return b
}

func appendASCII(b []byte, c byte, inJSON bool) []byte {
	if !inJSON {
		return append(b, c)
	}
	switch {
	case c == '"' || c == '\\':
		return append(b, '\\', c)
	case c >= 0x20:
		return append(b, c)
	case c == '\n':
		return append(b, '\\', 'n')
	case c == '\r':
		return append(b, '\\', 'r')
	case c == '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
}

// appendGUID appends the GUID in d as evtx_dump writes it: upper case,
// without braces.
func appendGUID(b []byte, d []byte) []byte {
	hex := func(b []byte, x uint64, digits int) []byte {
		for i := digits - 1; i >= 0; i-- {
			b = append(b, hexUpper[(x>>(4*i))&15])
		}
		return b
	}
	b = hex(b, uint64(le32(d)), 8)
	b = hex(append(b, '-'), uint64(le16(d[4:])), 4)
	b = hex(append(b, '-'), uint64(le16(d[6:])), 4)
	b = hex(append(b, '-'), uint64(binary.BigEndian.Uint16(d[8:])), 4)
	b = append(b, '-')
	for _, x := range d[10:16] {
		b = append(b, hexUpper[x>>4], hexUpper[x&15])
	}
	return b
}

// filetimeEpoch is 1601-01-01 in Unix seconds.
const filetimeEpoch = -11644473600

// appendFiletime appends a FILETIME (100 ns since 1601) as RFC 3339 UTC
// with microseconds, as evtx_dump writes it.
func appendFiletime(b []byte, ft uint64) []byte {
	sec := int64(ft/1e7) + filetimeEpoch
	t := time.Unix(sec, int64(ft%1e7)*100).UTC()
	return appendTime(b, t, 6)
}

// appendSystime appends a SYSTEMTIME (year, month, weekday, day, hour,
// minute, second, millisecond) with milliseconds.
func appendSystime(b []byte, d []byte) []byte {
	t := time.Date(int(le16(d)), time.Month(le16(d[2:])), int(le16(d[6:])), int(le16(d[8:])), int(le16(d[10:])), int(le16(d[12:])), int(le16(d[14:]))*1e6, time.UTC)
	return appendTime(b, t, 3)
}

func appendTime(b []byte, t time.Time, digits int) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendPad(b, y, 4)
	b = appendPad(append(b, '-'), int(mo), 2)
	b = appendPad(append(b, '-'), d, 2)
	b = appendPad(append(b, 'T'), h, 2)
	b = appendPad(append(b, ':'), mi, 2)
	b = appendPad(append(b, ':'), s, 2)
	frac := t.Nanosecond()
	for i := digits; i < 9; i++ {
		frac /= 10
	}
	b = appendPad(append(b, '.'), frac, digits)
	return append(b, 'Z')
}

func appendPad(b []byte, v, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendSID appends a security identifier (revision, count of
// sub-authorities, 48-bit big-endian authority, 32-bit little-endian
// sub-authorities) as S-1-5-…; a SID cut short keeps the parts present.
func appendSID(b []byte, d []byte) []byte {
	if len(d) < 8 {
		return b
	}
	b = strconv.AppendUint(append(b, 'S', '-'), uint64(d[0]), 10)
	var auth uint64
	for _, x := range d[2:8] {
		auth = auth<<8 | uint64(x)
	}
	b = strconv.AppendUint(append(b, '-'), auth, 10)
	for i, n := 8, int(d[1]); n > 0 && i+4 <= len(d); i, n = i+4, n-1 {
		b = strconv.AppendUint(append(b, '-'), uint64(le32(d[i:])), 10)
	}
	return b
}
