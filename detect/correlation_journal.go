package detect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// matchesVersion starts an encoded list of matches (AppendMatches).
const matchesVersion = 1

// AppendMatches encodes ms after dst: the correlator's input of one batch,
// as the store journals it with the batch (store.Batch.Correlation), so that
// a detect stage killed before it saved its correlator state feeds the
// matches again after its restart (analysis's correlation journal).
func AppendMatches(dst []byte, ms []Match) []byte {
	dst = append(dst, matchesVersion)
	dst = binary.AppendUvarint(dst, uint64(len(ms)))
	for i := range ms {
		m := &ms[i]
		dst = appendString(dst, m.Rule)
		dst = appendString(dst, m.Workspace)
		dst = binary.AppendVarint(dst, m.Time.UnixNano())
		dst = binary.AppendUvarint(dst, uint64(len(m.Values)))
		for _, v := range m.Values {
			dst = appendString(dst, v)
		}
		dst = appendString(dst, m.Evidence.EventID)
		dst = appendString(dst, m.Evidence.File)
		dst = binary.AppendVarint(dst, int64(m.Evidence.Line))
		dst = binary.AppendVarint(dst, m.Evidence.Time.UnixNano())
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// DecodeMatches decodes what AppendMatches encoded.
func DecodeMatches(data []byte) ([]Match, error) {
	d := matchDecoder{b: data}
	if len(data) == 0 || data[0] != matchesVersion {
		return nil, errors.New("correlation matches: unknown encoding version")
	}
	d.b = d.b[1:]
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) { // every match takes bytes
		d.err = fmt.Errorf("%d matches in %d bytes", n, len(d.b))
	}
	var ms []Match
	for i := uint64(0); i < n && d.err == nil; i++ {
		var m Match
		m.Rule = d.str()
		m.Workspace = d.str()
		m.Time = time.Unix(0, d.varint()).UTC()
		nv := d.uvarint()
		if d.err == nil && nv > uint64(len(d.b)) {
			d.err = fmt.Errorf("%d values in %d bytes", nv, len(d.b))
		}
		for j := uint64(0); j < nv && d.err == nil; j++ {
			m.Values = append(m.Values, d.str())
		}
		m.Evidence.EventID = d.str()
		m.Evidence.File = d.str()
		m.Evidence.Line = int(d.varint())
		m.Evidence.Time = time.Unix(0, d.varint()).UTC()
		ms = append(ms, m)
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes after the last match", len(d.b))
	}
	if d.err != nil {
		return nil, fmt.Errorf("correlation matches: %w", d.err)
	}
	return ms, nil
}

type matchDecoder struct {
	b   []byte
	err error
}

func (d *matchDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("cut or bad number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *matchDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errors.New("cut or bad number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *matchDecoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("string of %d bytes in %d", n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
